"""Channel secrets encrypted at rest (docs/channels.md, Secrets).

The fields a kind's configuration schema marks with `secret_field` (bot tokens,
IMAP/SMTP passwords, OAuth tokens, signing keys) are stored in `Channel.config` as
`{"$fernet": "<token>"}`: Fernet (AES-128-CBC and HMAC-SHA256, from the
`cryptography` package) under the keys of `ADESSO_SECRETS_KEY`, comma-separated, the
first encrypting and every one decrypting (MultiFernet), so a key is rotated by
putting the new one first and running `adesso rotatesecrets`.

Without `ADESSO_SECRETS_KEY` (a laptop), a key is generated once into
`ADESSO_SECRETS_KEY_FILE` (`<ADESSO_VAR_DIR>/secrets.key`, mode 0600) and kept there;
`adesso check` warns about it on a public site, where the key belongs outside the
machine's backups of the database.

`ChannelConfigField` seals on save (by the channel's kind) and opens on load, so a
kind reads its configuration as it always did; pages and the API never show it.
"""

from __future__ import annotations

import os
import typing
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from pydantic import BaseModel

MARK = "$fernet"


class SecretsKeyError(ImproperlyConfigured):
    """The secrets key is missing, malformed, or not the one a secret was sealed with."""


def _key_text() -> str:
    configured = str(getattr(settings, "ADESSO_SECRETS_KEY", "") or "").strip()
    if configured:
        return configured
    return _key_file(Path(settings.ADESSO_SECRETS_KEY_FILE))


@cache
def _key_file(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(Fernet.generate_key().decode() + "\n")
    return path.read_text().strip()


@cache
def _fernet(text: str) -> MultiFernet:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys:
        raise SecretsKeyError("ADESSO_SECRETS_KEY holds no key")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise SecretsKeyError(
            "ADESSO_SECRETS_KEY is not a list of Fernet keys (32 url-safe base64-encoded bytes each, "
            "comma-separated); make one with `adesso rotatesecrets --new-key`"
        ) from None


def fernet() -> MultiFernet:
    return _fernet(_key_text())


def key_count() -> int:
    return len([k for k in _key_text().split(",") if k.strip()])


def new_key() -> str:
    return Fernet.generate_key().decode()


def seal(value: str) -> dict[str, str]:
    return {MARK: fernet().encrypt(value.encode()).decode()}


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {MARK} and isinstance(value[MARK], str)


@lru_cache(maxsize=4096)
def _decrypt(key_text: str, token: str) -> str:
    # Every row read decrypts its secrets: the inbound worker reads channels all day,
    # and a Fernet decryption (HMAC + AES) cost more than the rest of the row.
    return _fernet(key_text).decrypt(token.encode()).decode()


def unseal(value: dict[str, str]) -> str:
    try:
        return _decrypt(_key_text(), value[MARK])
    except InvalidToken:
        raise SecretsKeyError(
            "A channel secret cannot be decrypted: ADESSO_SECRETS_KEY (or the key file "
            f"{settings.ADESSO_SECRETS_KEY_FILE}) is not the key it was encrypted with. Put the new "
            "key first and the old one after it (ADESSO_SECRETS_KEY=new,old), then run `adesso rotatesecrets`."
        ) from None


def open_all(data: Any) -> Any:
    """A configuration as the kinds read it: every sealed value decrypted."""
    if is_sealed(data):
        return unseal(data)
    if isinstance(data, dict):
        return {k: open_all(v) for k, v in data.items()}
    if isinstance(data, list):
        return [open_all(v) for v in data]
    return data


def secret_paths(schema: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Where a configuration schema keeps its secrets: ("bot_token",), ("imap", "password")..."""
    paths: list[tuple[str, ...]] = []
    for name, info in schema.model_fields.items():
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret"):
            paths.append((*prefix, name))
            continue
        for sub in _models_in(info.annotation):
            paths.extend(secret_paths(sub, (*prefix, name)))
    return paths


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def paths_for(kind: str) -> list[tuple[str, ...]]:
    from adesso.channels.registry import get_kind

    try:
        return secret_paths(get_kind(kind).config_schema)
    except (KeyError, AttributeError):
        return []


def get_path(config: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(config, dict):
            return None
        config = config.get(name)
    return config


def _with(config: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    head, rest = path[0], path[1:]
    if not rest:
        return {**config, head: value}
    inner = config.get(head)
    if not isinstance(inner, dict):
        return config
    return {**config, head: _with(inner, rest, value)}


def seal_config(kind: str, config: Any, rekey: bool = False) -> Any:
    """The configuration as stored: the kind's secrets sealed (already sealed ones kept,
    or sealed again under the first key when `rekey`). Empty secrets stay empty."""
    if not isinstance(config, dict):
        return config
    out = config
    for path in paths_for(kind):
        value = get_path(out, path)
        if isinstance(value, str) and value:
            out = _with(out, path, seal(value))
        elif rekey and is_sealed(value):
            out = _with(out, path, {MARK: fernet().rotate(value[MARK].encode()).decode()})
    return out


def mask(value: Any) -> str:
    """How a secret is shown back: its last 4 characters when it is long enough that they
    tell nothing (a token, a key: 32 characters or more), else only that it is set ("••••"); "" when
    there is none."""
    if not isinstance(value, str) or not value:
        return ""
    return "••••" + value[-4:] if len(value) >= 32 else "••••"


class ChannelConfigField(models.JSONField):
    """`Channel.config`: the kind's secrets sealed when saved, opened when loaded."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return open_all(super().from_db_value(value, expression, connection))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        return seal_config(str(getattr(model_instance, "kind", "")), super().pre_save(model_instance, add))
