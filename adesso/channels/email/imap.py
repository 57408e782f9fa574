"""Reading a channel's mailbox by IMAP: a catch-up search on every (re)connection,
then IDLE, re-issued well before servers drop it (RFC 2177: 29 minutes).

Each fetched mail is stored as a raw inbound event (one INSERT, nothing parsed: the
pipeline's worker parses it). The position is `UIDVALIDITY:UID` of the last mail
stored, moved forward in the same transaction that stores the event: a reader killed
mid-batch starts again from the first mail it had not committed, so nothing is lost
and nothing repeats.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from imapclient import IMAPClient

from adesso.channels.email.actions import do_accept_mail
from adesso.channels.email.config import EmailConfig, ImapSettings
from adesso.channels.email.models import Mailbox
from adesso.channels.models import Channel
from adesso.lib.netguard import GuardedIMAPClient

log = logging.getLogger(__name__)

# IDLE is re-issued after this many seconds (servers may drop it after 29 minutes).
IDLE_RENEW = 9 * 60
# How often an idling reader wakes to see whether it was asked to stop.
IDLE_TICK = 1.0
FETCH_BATCH = 10
SOCKET_TIMEOUT = 60.0


@dataclass
class Pass:
    stored: int = 0  # new events, parsed by the pipeline's worker
    duplicates: int = 0  # the same bytes stored before


def connect(settings: ImapSettings) -> IMAPClient:
    """Connect and log in (password or XOAUTH2). Errors never carry the secret."""
    client = GuardedIMAPClient(settings.host, port=settings.port, ssl=settings.ssl, timeout=SOCKET_TIMEOUT)
    try:
        if not settings.ssl and settings.starttls:
            client.starttls()
        if settings.oauth2_token:
            client.oauth2_login(settings.user, settings.oauth2_token)
        else:
            client.login(settings.user, settings.password)
    except Exception:
        _quietly_close(client)
        raise
    return client


def _quietly_close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection may already be gone
        with contextlib.suppress(Exception):
            client.shutdown()


def select(client: IMAPClient, channel: Channel, settings: ImapSettings) -> Mailbox:
    """Open the folder; a new UIDVALIDITY (the server renumbered it) restarts from the
    beginning, and intake's idempotency on Message-ID drops what was stored before."""
    info = client.select_folder(settings.folder, readonly=True)
    uidvalidity = int(info[b"UIDVALIDITY"])
    mailbox, _ = Mailbox.objects.get_or_create(channel=channel, defaults={"folder": settings.folder})
    if mailbox.uidvalidity != uidvalidity or mailbox.folder != settings.folder:
        mailbox.uidvalidity, mailbox.folder, mailbox.last_uid = uidvalidity, settings.folder, 0
        mailbox.save(update_fields=["uidvalidity", "folder", "last_uid"])
    return mailbox


def catch_up(client: IMAPClient, channel: Channel, mailbox: Mailbox, stop: threading.Event | None = None) -> Pass:
    """Store every mail after the position, oldest first, committing the position with each."""
    done = Pass()
    # "n:*" always matches the newest mail, even below n: filter.
    uids = sorted(uid for uid in client.search(["UID", f"{mailbox.last_uid + 1}:*"]) if uid > mailbox.last_uid)
    for start in range(0, len(uids), FETCH_BATCH):
        batch = uids[start : start + FETCH_BATCH]
        fetched = client.fetch(batch, ["BODY.PEEK[]"])
        for uid in batch:
            if stop is not None and stop.is_set():
                return done
            raw = fetched.get(uid, {}).get(b"BODY[]")
            if raw is None:
                continue  # expunged meanwhile
            source = f"imap:{mailbox.uidvalidity}:{uid}"
            with transaction.atomic():
                _event, created = do_accept_mail(channel, bytes(raw), source)
                Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=uid, checked_at=timezone.now(), error="")
            mailbox.last_uid = uid
            if created:
                done.stored += 1
            else:
                done.duplicates += 1
    Mailbox.objects.filter(pk=mailbox.pk).update(checked_at=timezone.now(), error="")
    return done


def fetch_once(channel: Channel) -> Pass:
    """One pass over a channel's mailbox: connect, store what is new, log out."""
    settings = _imap(channel)
    client = connect(settings)
    try:
        mailbox = select(client, channel, settings)
        return catch_up(client, channel, mailbox)
    finally:
        _quietly_close(client)


def _imap(channel: Channel) -> ImapSettings:
    config = EmailConfig.model_validate(channel.config)
    if config.imap is None:
        raise ValueError("The channel has no IMAP mailbox")
    return config.imap


def _new_mail(responses: list[Any]) -> bool:
    return any(len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses)


def record_error(channel: Channel, exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"[:500]
    Mailbox.objects.update_or_create(channel=channel, defaults={"error": text, "checked_at": timezone.now()})
    return text


class Reader(threading.Thread):
    """Keeps one channel's mailbox read: connect, catch up, IDLE, again; on an error,
    wait (growing up to 5 minutes) and reconnect. Stops when `stop` is set."""

    def __init__(self, channel_id: int) -> None:
        super().__init__(name=f"fetchmail-{channel_id}", daemon=True)
        self.channel_id = channel_id
        self.stop = threading.Event()

    def run(self) -> None:
        delay = 1.0
        try:
            while not self.stop.is_set():
                try:
                    self._session()
                    delay = 1.0
                except Exception as exc:
                    close_old_connections()
                    try:
                        channel = Channel.objects.get(pk=self.channel_id)
                        text = record_error(channel, exc)
                    except Exception:
                        text = type(exc).__name__
                    log.warning("fetchmail: channel %s: %s; retrying in %.0f s", self.channel_id, text, delay)
                    self.stop.wait(delay)
                    delay = min(delay * 2, 300.0)
        finally:
            connection.close()

    def _session(self) -> None:
        channel = Channel.objects.get(pk=self.channel_id)
        settings = _imap(channel)
        client = connect(settings)
        try:
            mailbox = select(client, channel, settings)
            catch_up(client, channel, mailbox, self.stop)
            while not self.stop.is_set():
                client.idle()
                renew_at = time.monotonic() + IDLE_RENEW
                news = False
                while not self.stop.is_set() and not news and time.monotonic() < renew_at:
                    news = _new_mail(client.idle_check(timeout=IDLE_TICK))
                client.idle_done()
                if self.stop.is_set():
                    break
                close_old_connections()
                catch_up(client, channel, mailbox, self.stop)
        finally:
            _quietly_close(client)


def active_channels() -> dict[int, str]:
    """Enabled email channels that have a mailbox, with a fingerprint of their settings
    (a changed configuration restarts the channel's reader)."""
    import hashlib
    import json

    found = {}
    for pk, config in Channel.objects.filter(kind="email", is_enabled=True).values_list("pk", "config"):
        if isinstance(config, dict) and config.get("imap"):
            found[pk] = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    return found
