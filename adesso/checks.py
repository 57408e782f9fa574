"""System checks: bad configuration is refused at start with a clear message."""

from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

_DEV_KEY = "adesso-insecure-development-key"


@register(Tags.security, deploy=False)
def check_configuration(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    errors: list[Error | Warning] = []
    site = urlparse(settings.SITE_URL)
    if site.scheme not in ("http", "https") or not site.hostname:
        errors.append(Error(
            f"SITE_URL={settings.SITE_URL!r} is not an http(s) URL.",
            hint="Set SITE_URL to the address agents open, e.g. https://help.example.com",
            id="adesso.E002",
        ))
    local = site.hostname in ("127.0.0.1", "localhost", "::1")
    if settings.SECRET_KEY == _DEV_KEY and not local and not settings.DEBUG:
        errors.append(Error(
            "SECRET_KEY is the development default on a public site.",
            hint="Set the SECRET_KEY environment variable to a long random string.",
            id="adesso.E001",
        ))
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend") and not local and not settings.DEBUG:
        errors.append(Error(
            "Outgoing mail is written to files on a public site: nobody would receive it.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER...) or EMAIL_BACKEND for a provider.",
            id="adesso.E006",
        ))
    errors.extend(_secrets_key(local))
    errors.extend(_https(site.scheme == "https"))
    for name in ("ADESSO_MAX_BODY_BYTES", "ADESSO_MAX_ATTACHMENT_BYTES", "ADESSO_MAX_TEXT_CHARS"):
        if getattr(settings, name) <= 0:
            errors.append(Error(f"{name} must be a positive number.", id="adesso.E005"))
    return errors


def _secrets_key(local: bool) -> list[Error | Warning]:
    """Channel secrets are encrypted with ADESSO_SECRETS_KEY (adesso/channels/secrets.py)."""
    from adesso.channels.secrets import SecretsKeyError, _fernet

    if settings.ADESSO_SECRETS_KEY.strip():
        try:
            _fernet(settings.ADESSO_SECRETS_KEY)
        except SecretsKeyError as exc:
            return [Error(str(exc), id="adesso.E007")]
        return []
    if local or settings.DEBUG:
        return []
    return [Warning(
        "ADESSO_SECRETS_KEY is not set: channel secrets are encrypted with a key kept in "
        f"{settings.ADESSO_SECRETS_KEY_FILE}, on the same machine as the database.",
        hint="Set ADESSO_SECRETS_KEY to a key from `adesso rotatesecrets --new-key`, kept out of the "
        "database's backups; then run `adesso rotatesecrets` with ADESSO_SECRETS_KEY=<new>,<the file's key>.",
        id="adesso.W001",
    )]


def _https(https: bool) -> list[Error | Warning]:
    """An https site keeps its cookies to https, redirects http and asks for HSTS
    (settings derived from SITE_URL; each can be turned off, and is then reported)."""
    found: list[Error | Warning] = []
    if "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE:
        found.append(Warning("No Content Security Policy: csp.middleware.CSPMiddleware is not in MIDDLEWARE.",
                             id="adesso.W010"))
    if not https:
        return found
    wanted = [
        ("SESSION_COOKIE_SECURE", settings.SESSION_COOKIE_SECURE, "the session cookie also travels over plain http"),
        ("CSRF_COOKIE_SECURE", settings.CSRF_COOKIE_SECURE, "the CSRF cookie also travels over plain http"),
        ("SECURE_SSL_REDIRECT", settings.SECURE_SSL_REDIRECT, "plain http requests are served instead of redirected"),
        ("SECURE_HSTS_SECONDS", settings.SECURE_HSTS_SECONDS > 0, "browsers are not told to use https only (HSTS)"),
    ]
    for n, (name, ok, why) in enumerate(wanted, start=11):
        if not ok:
            found.append(Warning(
                f"SITE_URL is https but {name} is off: {why}.",
                hint=f"Unset {name} (it follows SITE_URL) or set it on; behind a proxy that ends TLS, set "
                "ADESSO_PROXY_COUNT so that X-Forwarded-Proto is trusted.",
                id=f"adesso.W0{n}",
            ))
    return found
