"""The email channel end to end, against real servers on loopback: Dovecot (IMAP)
and aiosmtpd (SMTP). Mail is APPENDed as an MTA would deliver it; replies are sent
through the outbox and read back from the SMTP server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from adesso.channels.actions import do_create_channel
from adesso.channels.email.imap import fetch_once
from adesso.channels.email.models import Mail, Mailbox
from adesso.channels.models import InboundEvent
from adesso.channels.registry import get_kind
from adesso.conversations.actions import do_send_auto_message, do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent, DeliveryStatus, Message
from adesso.outbox.models import Delivery
from tests.builders import make_agent, make_org
from tests.support.mailintake import process_mail
from tests.support.mailservers import compose, start_dovecot, start_smtp, stop_smtp
from tests.support.servers import database_url

ADDRESS = "assistenza@rossi.example"


def fetch(channel):
    """One pass of the IMAP reader (each mail stored as a raw event), then the pipeline's
    worker (each event parsed into a message, a bounce...)."""
    done = fetch_once(channel)
    process_mail()
    return done


@pytest.fixture
def dovecot():
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = start_smtp()
    yield server
    stop_smtp(server)


def make_channel(org, dovecot, smtp, **config):
    channel, _ = do_create_channel(org, "email", "Assistenza", {
        "address": ADDRESS, "from_name": "Assistenza Rossi",
        "imap": dovecot.imap_config(), "smtp": smtp.config(), **config,
    })
    return channel


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def send(agent, conversation, text="Buongiorno Mario, ecco il codice di tracciamento: RX123."):
        with django_capture_on_commit_callbacks(execute=True):
            return do_send_reply(agent, conversation, text)

    return send


@pytest.mark.django_db
def test_appended_mail_becomes_a_message_once(dovecot, smtp):
    channel = make_channel(make_org(), dovecot, smtp)
    uid, = dovecot.append(compose(message_id="<ordine-1@example.net>"))

    first = fetch(channel)
    again = fetch(channel)

    assert (first.stored, again.stored) == (1, 0)
    message = Message.objects.get(channel=channel)
    assert message.external_id == "ordine-1@example.net"
    assert "il mio ordine non è ancora arrivato" in message.text
    assert message.conversation.subject == "Ordine 1234 non arrivato" or message.conversation.subject == ""
    assert message.conversation.contact.email == "mario.bianchi@example.net"
    mailbox = Mailbox.objects.get(channel=channel)
    assert mailbox.last_uid == uid and mailbox.position.endswith(f":{uid}")
    mail = Mail.objects.get(message=message)
    assert mail.source == f"imap:{mailbox.uidvalidity}:{uid}"
    assert mail.raw.read().startswith(b"From: Mario Bianchi")


@pytest.mark.django_db
def test_the_same_mail_delivered_twice_is_stored_once(dovecot, smtp):
    channel = make_channel(make_org(), dovecot, smtp)
    raw = compose(message_id="<doppio@example.net>")
    dovecot.append(raw, raw)

    done = fetch(channel)

    assert (done.stored, done.duplicates) == (1, 1)
    assert Message.objects.filter(channel=channel).count() == 1


@pytest.mark.django_db
def test_reply_reaches_smtp_threaded_and_the_answer_lands_in_the_same_conversation(dovecot, smtp, send):
    org = make_org()
    channel = make_channel(org, dovecot, smtp)
    agent = make_agent(org)
    dovecot.append(compose(message_id="<domanda@example.net>"))
    fetch(channel)
    conversation = Conversation.objects.get(channel=channel)

    reply = send(agent, conversation)

    sent, = smtp.wait_for(1)
    assert sent["In-Reply-To"] == "<domanda@example.net>"
    assert sent["References"] == "<domanda@example.net>"
    assert sent["Message-ID"] == f"<adesso.{reply.code}.{conversation.code}@rossi.example>"
    assert sent["From"] == f"Assistenza Rossi <{ADDRESS}>"
    assert sent["To"] == "mario.bianchi@example.net"
    assert sent["Reply-To"] == f"Assistenza Rossi <assistenza+{conversation.code}@rossi.example>"
    assert sent["Subject"] == f"Re: Ordine 1234 non arrivato [#{conversation.code}]"
    assert "Auto-Submitted" not in sent
    assert "RX123" in sent.get_content()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT

    # The customer answers from a client that drops the subject token: the headers thread it.
    dovecot.append(compose(
        subject="Re: Ordine 1234 non arrivato", message_id="<risposta@example.net>",
        text="Grazie, arrivato!\n\nIl giorno lun 23 nov 2026 alle ore 10:12 Assistenza Rossi "
             "<assistenza@rossi.example> ha scritto:\n> Buongiorno Mario, ecco il codice",
        headers={"In-Reply-To": sent["Message-ID"], "References": f"<domanda@example.net> {sent['Message-ID']}"},
    ))
    fetch(channel)

    answer = Message.objects.get(external_id="risposta@example.net")
    assert answer.conversation_id == conversation.pk
    assert answer.text == "Grazie, arrivato!"
    assert Mail.objects.get(message=answer).threaded_by == "references"

    # And the next reply carries the whole chain.
    send(agent, conversation, "Bene, buona giornata!")
    second = smtp.wait_for(2)[1]
    assert second["In-Reply-To"] == "<risposta@example.net>"
    assert second["References"].split() == ["<domanda@example.net>", sent["Message-ID"], "<risposta@example.net>"]


@pytest.mark.django_db
def test_a_resolved_conversation_is_found_again_by_plus_address_or_subject_token(dovecot, smtp, send):
    org = make_org()
    channel = make_channel(org, dovecot, smtp)
    dovecot.append(compose(message_id="<primo@example.net>"))
    fetch(channel)
    conversation = Conversation.objects.get(channel=channel)

    dovecot.append(
        compose(subject="ancora io", message_id="<plus@example.net>",
                to=f"assistenza+{conversation.code}@rossi.example"),
        compose(subject=f"Nuova domanda [#{conversation.code}]", message_id="<token@example.net>"),
        compose(subject="Tutt'altro", message_id="<nuova@example.net>"),
    )
    fetch(channel)

    by_plus = Mail.objects.get(msgid="plus@example.net")
    by_token = Mail.objects.get(msgid="token@example.net")
    assert (by_plus.threaded_by, by_token.threaded_by) == ("plus-address", "subject")
    assert Mail.objects.get(msgid="nuova@example.net").threaded_by == "new"


@pytest.mark.django_db
def test_automatic_messages_are_marked_so_robots_do_not_answer(dovecot, smtp, django_capture_on_commit_callbacks):
    channel = make_channel(make_org(), dovecot, smtp)
    dovecot.append(compose())
    fetch(channel)
    conversation = Conversation.objects.get(channel=channel)

    with django_capture_on_commit_callbacks(execute=True):
        do_send_auto_message(conversation, "Abbiamo ricevuto il suo messaggio: risposta entro un'ora.", "ack")

    sent, = smtp.wait_for(1)
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["X-Auto-Response-Suppress"] == "All"


@pytest.mark.django_db
def test_out_of_office_is_stored_but_never_acknowledged(dovecot, smtp):
    channel = make_channel(make_org(), dovecot, smtp)
    dovecot.append(compose(
        subject="Risposta automatica: Ordine 1234", text="Sono fuori ufficio fino a lunedì.",
        headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    ))
    fetch(channel)

    message = Message.objects.get(channel=channel)
    assert Mail.objects.get(message=message).automated.startswith("auto-submitted")
    assert get_kind("email").may_auto_reply(channel, message.conversation) is False


@pytest.mark.django_db
def test_automatic_mail_to_one_sender_is_rate_limited(dovecot, smtp, django_capture_on_commit_callbacks):
    channel = make_channel(make_org(), dovecot, smtp, auto_reply_limit=2)
    dovecot.append(compose())
    fetch(channel)
    conversation = Conversation.objects.get(channel=channel)
    kind = get_kind("email")

    allowed = []
    for _ in range(3):
        allowed.append(kind.may_auto_reply(channel, conversation))
        with django_capture_on_commit_callbacks(execute=True):
            do_send_auto_message(conversation, "Ricevuto.", "ack")

    assert allowed == [True, True, False]


@pytest.mark.django_db
def test_without_plus_addresses_there_is_no_reply_to(dovecot, smtp, send):
    org = make_org()
    channel = make_channel(org, dovecot, smtp, plus_address=False)
    dovecot.append(compose())
    fetch(channel)

    send(make_agent(org), Conversation.objects.get(channel=channel))

    sent, = smtp.wait_for(1)
    assert "Reply-To" not in sent and sent["In-Reply-To"]


@pytest.mark.django_db
def test_a_bounce_marks_the_reply_failed_and_is_no_customer_message(dovecot, smtp, send):
    org = make_org()
    channel = make_channel(org, dovecot, smtp)
    dovecot.append(compose(message_id="<domanda@example.net>"))
    fetch(channel)
    conversation = Conversation.objects.get(channel=channel)
    reply = send(make_agent(org), conversation)
    sent, = smtp.wait_for(1)
    fixtures = Path(__file__).parent / "fixtures" / "email"
    dsn = (fixtures / "bounce_dsn.eml").read_bytes().replace(b"{ORIGINAL_MESSAGE_ID}", sent["Message-ID"].encode())
    dovecot.append(dsn)

    done = fetch(channel)

    assert done.stored == 1
    assert InboundEvent.objects.filter(channel=channel, outcome="bounce").count() == 1
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert Delivery.objects.get(message=reply).status == "failed"
    event = ConversationEvent.objects.get(conversation=conversation, kind="delivery_failed")
    assert event.data["bounce"] is True and "5.1.1" in event.data["error"]
    assert Message.objects.filter(conversation=conversation, direction="incoming").count() == 1


@pytest.mark.django_db
def test_malformed_mail_is_quarantined_and_the_fetcher_goes_on(dovecot, smtp):
    channel = make_channel(make_org(), dovecot, smtp)
    dovecot.append(
        b"Subject: nobody sent this\r\nContent-Type: text/plain\r\n\r\nno From header at all\r\n",
        compose(message_id="<dopo@example.net>"),
    )

    done = fetch(channel)

    assert done.stored == 2
    row = InboundEvent.objects.get(channel=channel, state="quarantined")
    assert row.error == "Cannot be processed: The mail has no sender address (From)"
    assert bytes(row.body).startswith(b"Subject: nobody sent this")
    assert Message.objects.get(channel=channel).external_id == "dopo@example.net"
    assert Mailbox.objects.get(channel=channel).last_uid == 2


@pytest.mark.django_db
def test_smtp_answers_decide_retry_or_failure(dovecot, smtp, send):
    org = make_org()
    channel = make_channel(org, dovecot, smtp)
    agent = make_agent(org)
    dovecot.append(compose())
    fetch(channel)
    conversation = Conversation.objects.get(channel=channel)

    smtp.refuse_next.append("450 4.2.0 Mailbox busy, try later")
    busy = send(agent, conversation, "primo")
    smtp.refuse_next.append("550 5.1.1 No such user")
    refused = send(agent, conversation, "secondo")

    assert Delivery.objects.get(message=busy).status == "queued"
    assert "450" in Delivery.objects.get(message=busy).last_error
    assert Delivery.objects.get(message=refused).status == "failed"
    assert smtp.messages == []


@pytest.mark.django_db
def test_an_smtp_server_that_is_down_is_retried_later(dovecot, smtp, send):
    org = make_org()
    channel = make_channel(org, dovecot, smtp)
    dovecot.append(compose())
    fetch(channel)
    channel.config["smtp"]["port"] = smtp.port + 1 if smtp.port < 65535 else smtp.port - 1
    channel.save(update_fields=["config"])
    conversation = Conversation.objects.get(channel=channel)

    reply = send(make_agent(org), conversation)

    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == "queued" and "Could not connect" in delivery.last_error


@pytest.mark.django_db
def test_a_wrong_imap_password_is_shown_to_admins_without_the_secret(dovecot, smtp):
    channel = make_channel(make_org(), dovecot, smtp)
    channel.config["imap"]["password"] = "sbagliata-segreta"
    channel.save(update_fields=["config"])

    call_command("fetchmail")

    mailbox = Mailbox.objects.get(channel=channel)
    assert "LoginError" in mailbox.error or "AUTHENTICATIONFAILED" in mailbox.error
    assert "sbagliata-segreta" not in mailbox.error


def _fetchmail(tmp_path: Path, settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url(), "ADESSO_TESTING": "1",
           "MEDIA_ROOT": str(settings.MEDIA_ROOT), "LOG_LEVEL": "WARNING",
           "ADESSO_OUTBOUND_ALLOW": "127.0.0.0/8,::1/128"}
    log = (tmp_path / "fetchmail.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "adesso", "fetchmail", "--loop", "--interval", "0.5"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def processed(**message) -> bool:
    """Run the worker once, then: is there such a message?"""
    process_mail()
    return Message.objects.filter(**message).exists()


def _wait_for(predicate, timeout: float) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - start


def test_idle_brings_new_mail_within_five_seconds(transactional_db, dovecot, smtp, tmp_path, settings):
    channel = make_channel(make_org(), dovecot, smtp)
    fetcher = _fetchmail(tmp_path, settings)
    try:
        _wait_for(lambda: Mailbox.objects.filter(channel=channel, uidvalidity__isnull=False).exists(), 20)
        time.sleep(0.5)  # idling now
        latencies = []
        for n in range(3):
            start = time.monotonic()
            dovecot.append(compose(message_id=f"<idle-{n}@example.net>"))
            # The reader stores the raw mail; the worker (here, this loop) makes the message.
            _wait_for(lambda n=n: processed(external_id=f"idle-{n}@example.net"), 5)
            latencies.append(time.monotonic() - start)
        time.sleep(1)
        assert Message.objects.filter(channel=channel).count() == 3
        print(f"IMAP APPEND -> message stored: {[f'{x:.2f}' for x in latencies]} s")
    finally:
        fetcher.send_signal(signal.SIGTERM)
        fetcher.wait(timeout=30)
    assert fetcher.returncode == 0, (tmp_path / "fetchmail.log").read_text()


def test_killing_the_fetcher_mid_batch_loses_and_repeats_nothing(transactional_db, dovecot, smtp, tmp_path, settings):
    channel = make_channel(make_org(), dovecot, smtp)
    total = 150
    attachment = os.urandom(20_000).hex()  # bigger mails: the batch takes long enough to be cut
    dovecot.append(*(compose(message_id=f"<batch-{n}@example.net>", text=f"mail {n}\n{attachment}")
                     for n in range(total)))

    fetcher = _fetchmail(tmp_path, settings)
    _wait_for(lambda: InboundEvent.objects.filter(channel=channel).count() >= 10, 60)
    fetcher.kill()  # SIGKILL: no cleanup, mid-batch
    fetcher.wait()
    at_kill = InboundEvent.objects.filter(channel=channel).count()
    assert at_kill < total, "the whole batch was stored before the kill: nothing was tested"
    assert Mailbox.objects.get(channel=channel).last_uid == at_kill  # the position moved with each mail

    fetcher = _fetchmail(tmp_path, settings)
    try:
        _wait_for(lambda: InboundEvent.objects.filter(channel=channel).count() >= total, 120)
        time.sleep(1)
    finally:
        fetcher.send_signal(signal.SIGTERM)
        fetcher.wait(timeout=30)
    process_mail()

    assert InboundEvent.objects.filter(channel=channel).count() == total
    assert InboundEvent.objects.filter(channel=channel, state="processed").count() == total
    ids = list(Message.objects.filter(channel=channel).values_list("external_id", flat=True))
    assert sorted(ids) == sorted(f"batch-{n}@example.net" for n in range(total))
    assert Mail.objects.filter(channel=channel).count() == total
    assert Mailbox.objects.get(channel=channel).last_uid == total


@pytest.mark.django_db
def test_a_customer_gets_one_acknowledgement_and_an_out_of_office_none(dovecot, smtp,
                                                                         django_capture_on_commit_callbacks):
    """Acceptance 3, end to end: the acknowledgement goes out marked as automatic; the
    customer's out-of-office answering it is stored and answered by nothing."""
    channel = make_channel(make_org(ack=True), dovecot, smtp)
    dovecot.append(compose(message_id="<cliente@example.net>"))
    with django_capture_on_commit_callbacks(execute=True):
        fetch(channel)
    ack, = smtp.wait_for(1)
    assert ack["Auto-Submitted"] == "auto-replied" and ack["In-Reply-To"] == "<cliente@example.net>"
    # In Italian mail form: the greeting on its own line, the text, a sign-off.
    body = ack.get_content().replace("\r\n", "\n").strip()
    assert body.startswith("Ciao Mario,\n\nabbiamo ricevuto il tuo messaggio.")
    assert body.endswith("\n\nCordiali saluti\nAssistenza Rossi")  # the channel's from_name
    conversation = Conversation.objects.get(channel=channel)

    dovecot.append(compose(
        subject=f"Risposta automatica: {ack['Subject']}", message_id="<ooo@example.net>",
        text="Sono fuori ufficio fino a lunedì.",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": ack["Message-ID"]},
    ))
    with django_capture_on_commit_callbacks(execute=True):
        fetch(channel)
    time.sleep(0.5)

    ooo = Message.objects.get(external_id="ooo@example.net")
    assert ooo.conversation_id == conversation.pk
    assert len(smtp.messages) == 1  # no acknowledgement of the out-of-office: no loop
    assert Message.objects.filter(conversation=conversation, auto=True).count() == 1


def test_the_fetcher_idles_quietly_without_email_channels(transactional_db, tmp_path, settings):
    fetcher = _fetchmail(tmp_path, settings)
    time.sleep(20)  # Django's start-up took 8-14 s on this 2-core machine under a load of 10
    assert fetcher.poll() is None
    fetcher.send_signal(signal.SIGTERM)
    fetcher.wait(timeout=30)

    assert fetcher.returncode == 0
    assert (tmp_path / "fetchmail.log").read_text() == ""


@pytest.mark.django_db
def test_without_an_smtp_server_replies_go_through_djangos_backend_eg_anymail(dovecot, smtp, send, settings):
    from django.core import mail as django_mail

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    org = make_org()
    channel, _ = do_create_channel(org, "email", "Assistenza", {"address": ADDRESS, "imap": dovecot.imap_config()})
    # The shared backend sends From the address only once it is proven: the link of the
    # mail sent to it is opened.
    proof, = django_mail.outbox
    assert proof.to == [ADDRESS] and proof.from_email == settings.DEFAULT_FROM_EMAIL
    link = re.search(r"https?://\S+/verify/\S+", proof.body).group(0)
    assert Client().post(urlsplit(link).path).status_code == 200
    django_mail.outbox.clear()
    dovecot.append(compose(message_id="<via-anymail@example.net>"))
    fetch(channel)
    conversation = Conversation.objects.get(channel=channel)

    reply = send(make_agent(org), conversation)

    sent, = django_mail.outbox
    assert sent.extra_headers["In-Reply-To"] == "<via-anymail@example.net>"
    assert sent.from_email == ADDRESS and sent.to == ["mario.bianchi@example.net"]
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == "sent" and delivery.provider_message_id == str(sent.anymail_status.message_id)


def test_idle_is_reissued_and_keeps_bringing_mail(transactional_db, dovecot, smtp, monkeypatch):
    from adesso.channels.email import imap

    monkeypatch.setattr(imap, "IDLE_RENEW", 0.3)  # instead of 9 minutes
    monkeypatch.setattr(imap, "IDLE_TICK", 0.1)
    idles = []
    real_idle = imap.IMAPClient.idle
    monkeypatch.setattr(imap.IMAPClient, "idle", lambda client: idles.append(1) or real_idle(client))
    channel = make_channel(make_org(), dovecot, smtp)
    reader = imap.Reader(channel.pk)
    reader.start()
    try:
        _wait_for(lambda: Mailbox.objects.filter(channel=channel, uidvalidity__isnull=False).exists(), 20)
        time.sleep(1.5)  # several IDLE commands ended and issued again
        dovecot.append(compose(message_id="<dopo-rinnovo@example.net>"))
        _wait_for(lambda: processed(external_id="dopo-rinnovo@example.net"), 5)
    finally:
        reader.stop.set()
        reader.join(timeout=10)
    assert not reader.is_alive()
    assert Mailbox.objects.get(channel=channel).error == ""
    assert len(idles) >= 3


@pytest.mark.django_db
def test_oauth2_login_xoauth2(smtp):
    from tests.support.mailservers import TokenInfo

    tokens = TokenInfo({"ya29.valid-token": "support@example.com"})
    server = start_dovecot(tokeninfo_url=tokens.url)
    try:
        channel = make_channel(make_org(), server, smtp)
        channel.config["imap"] = {**server.imap_config(password=""), "oauth2_token": "ya29.valid-token"}
        channel.save(update_fields=["config"])
        server.append(compose(message_id="<oauth@example.net>"))

        assert fetch(channel).stored == 1

        channel.config["imap"]["oauth2_token"] = "ya29.expired"
        channel.save(update_fields=["config"])
        call_command("fetchmail")
        assert "ya29.expired" not in Mailbox.objects.get(channel=channel).error
        assert Mailbox.objects.get(channel=channel).error
    finally:
        server.stop()
        tokens.stop()


@pytest.mark.django_db
def test_a_copy_of_our_own_reply_in_the_mailbox_is_not_a_customer_message(dovecot, smtp, send):
    org = make_org()
    channel = make_channel(org, dovecot, smtp)
    dovecot.append(compose(message_id="<domanda@example.net>"))
    fetch(channel)
    send(make_agent(org), Conversation.objects.get(channel=channel))
    sent, = smtp.wait_for(1)

    dovecot.append(sent.as_bytes())  # e.g. the support address was in Cc
    fetch(channel)

    copy = InboundEvent.objects.filter(channel=channel).latest("pk")
    assert (copy.state, copy.note) == ("ignored", "A copy of a mail sent from this channel")
    assert Message.objects.filter(channel=channel, direction="incoming").count() == 1


@pytest.mark.django_db
def test_a_renumbered_folder_is_read_again_without_duplicates(dovecot, smtp):
    channel = make_channel(make_org(), dovecot, smtp)
    channel.config["imap"]["folder"] = "Assistenza"
    channel.save(update_fields=["config"])
    client = dovecot.client()
    client.create_folder("Assistenza")
    client.logout()
    first = compose(message_id="<prima@example.net>")
    dovecot.append(first, folder="Assistenza")
    fetch(channel)
    before = Mailbox.objects.get(channel=channel).uidvalidity

    # The folder is recreated: the server gives it a new UIDVALIDITY and UIDs from 1.
    client = dovecot.client()
    client.delete_folder("Assistenza")
    client.create_folder("Assistenza")
    client.logout()
    # The very same bytes (a mail composed again would carry another Date: header once
    # the clock passes a second, and be another mail).
    dovecot.append(first, compose(message_id="<seconda@example.net>"), folder="Assistenza")
    done = fetch(channel)

    mailbox = Mailbox.objects.get(channel=channel)
    assert mailbox.uidvalidity != before and mailbox.last_uid == 2
    # The same bytes read again are the same stored event: only the new mail is new.
    assert (done.stored, done.duplicates) == (1, 1)
    assert Message.objects.filter(channel=channel).count() == 2


@pytest.mark.django_db
def test_a_bounce_naming_only_the_failed_address_finds_our_latest_mail_to_it(dovecot, smtp, send):
    org = make_org()
    channel = make_channel(org, dovecot, smtp)
    dovecot.append(compose(message_id="<domanda@example.net>"))
    fetch(channel)
    conversation = Conversation.objects.get(channel=channel)
    reply = send(make_agent(org), conversation)
    dovecot.append(
        b"From: Mail Delivery Subsystem <mailer-daemon@mx.rossi.example>\r\n"
        b"To: assistenza@rossi.example\r\nSubject: Delivery Status Notification (Failure)\r\n"
        b"Message-ID: <dsn-senza-originale@mx.rossi.example>\r\n"
        b"X-Failed-Recipients: mario.bianchi@example.net\r\nContent-Type: text/plain\r\n\r\n"
        b"Delivery to the following recipient failed permanently: mario.bianchi@example.net\r\n"
    )

    fetch(channel)
    assert InboundEvent.objects.filter(channel=channel).latest("pk").outcome == "bounce"

    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert Message.objects.filter(conversation=conversation, direction="incoming").count() == 1


@pytest.mark.django_db
def test_an_8bit_latin1_italian_mail_read_by_imap_keeps_its_accents(dovecot, smtp):
    from tests.test_email_webhooks import LATIN1, LATIN1_TEXT

    channel = make_channel(make_org(), dovecot, smtp)
    dovecot.append(LATIN1)

    assert fetch(channel).stored == 1

    message = Message.objects.get(channel=channel)
    mail = Mail.objects.get(message=message)
    assert (message.text, mail.subject, message.conversation.contact.name) == (
        LATIN1_TEXT, "Perchè non è arrivato?", "Nicolò Bianchi")
    assert mail.raw.read() == LATIN1
