"""Inbound mail by providers' webhooks, with payloads in each provider's documented
format, signed in the test the way the provider signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path

import pytest
from django.test import Client

from adesso.channels.actions import do_create_channel
from adesso.channels.email.models import Mail
from adesso.channels.models import InboundEvent
from adesso.conversations.models import Message
from tests.builders import make_org
from tests.support.mailintake import process_mail, receive_mail
from tests.support.mailservers import compose

pytestmark = pytest.mark.django_db

SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
BASIC = "adesso:s3cr3t-webhook-pass"
FIXTURES = Path(__file__).parent / "fixtures" / "email"


@pytest.fixture
def channel():
    channel, _ = do_create_channel(
        make_org(),
        "email",
        "Assistenza",
        {
            "address": "help@shop.example",
            "webhook_secret": BASIC,
            "mailgun_signing_key": SIGNING_KEY,
        },
    )
    return channel


def url(provider, channel):
    return f"/channels/email/{channel.code}/inbound/{provider}"


def basic(credentials=BASIC):
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def mailgun_signature(key=SIGNING_KEY, timestamp=None, token=None):
    # Mailgun signs a fresh random token (50 hex characters) and the time of each request.
    timestamp, token = timestamp or str(int(time.time())), token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


def mailgun_form(raw: bytes, key: str = SIGNING_KEY) -> dict:
    """Client.post keyword arguments for a Mailgun "forward() with ?mime" request: the raw
    mail as the bytes of the body-mime field of a multipart form, as Mailgun posts it."""
    boundary = "4d1c6b2f8a9e7d3c5b0a"
    fields = {"recipient": "help@shop.example", "sender": "someone@example.net", **mailgun_signature(key)}
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="body-mime"\r\n\r\n'.encode() + raw
    body += f"\r\n--{boundary}--\r\n".encode()
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def test_mailgun_raw_mime_signed_with_the_channels_key(channel):
    raw = compose(message_id="<mg-1@example.net>")
    r = Client().post(
        url("mailgun", channel),
        {
            "recipient": "help@shop.example",
            "sender": "mario.bianchi@example.net",
            "body-mime": raw.decode(),
            **mailgun_signature(),
        },
    )

    assert r.status_code == 200, r.content
    assert r.json()["duplicate"] is False
    assert not Message.objects.exists()  # stored as it came; the worker parses it
    process_mail()
    message = Message.objects.get(channel=channel)
    assert message.external_id == "mg-1@example.net"
    assert Mail.objects.get(message=message).source == "webhook:mailgun"


def test_mailgun_fully_parsed_fields(channel):
    r = Client().post(
        url("mailgun", channel),
        {
            "recipient": "help@shop.example",
            "sender": "giulia@example.net",
            "from": "Giulia <giulia@example.net>",
            "To": "help@shop.example",
            "subject": "Reso",
            "body-plain": "Vorrei restituire le scarpe.",
            "message-headers": json.dumps(
                [
                    ["From", "Giulia <giulia@example.net>"],
                    ["To", "help@shop.example"],
                    ["Subject", "Reso"],
                    ["Message-Id", "<mg-parsed@example.net>"],
                ]
            ),
            **mailgun_signature(),
        },
    )

    assert r.status_code == 200, r.content
    process_mail()
    assert Message.objects.get(channel=channel).text == "Vorrei restituire le scarpe."


def test_mailgun_with_a_wrong_signature_is_refused(channel):
    r = Client().post(url("mailgun", channel), {"body-mime": compose().decode(), **mailgun_signature("other-key")})

    assert r.status_code == 403 and r.json()["error"] == "invalid_signature"
    assert not Message.objects.exists()


def test_a_channel_without_the_providers_secret_accepts_nothing():
    channel, _ = do_create_channel(make_org(), "email", "Assistenza", {"address": "help@shop.example"})

    mailgun = Client().post(url("mailgun", channel), {"body-mime": compose().decode(), **mailgun_signature()})
    postmark = Client().post(url("postmark", channel), "{}", content_type="application/json", headers=basic())

    assert (mailgun.status_code, postmark.status_code) == (403, 403)
    assert not Message.objects.exists()


def postmark_payload():
    # Postmark's documented inbound JSON (RawEmail not included: built from the fields).
    return {
        "FromName": "Mario Bianchi",
        "From": "mario.bianchi@example.net",
        "FromFull": {"Email": "mario.bianchi@example.net", "Name": "Mario Bianchi", "MailboxHash": ""},
        "To": "help@shop.example",
        "ToFull": [{"Email": "help@shop.example", "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "OriginalRecipient": "help@shop.example",
        "Subject": "Fattura sbagliata",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Tue, 24 Nov 2026 10:12:00 +0100",
        "TextBody": "La fattura 77 ha l'importo sbagliato.",
        "HtmlBody": "<p>La fattura 77 ha l'importo sbagliato.</p>",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": "<mario.bianchi@example.net>"},
            {"Name": "Message-ID", "Value": "<pm-1@example.net>"},
        ],
        "Attachments": [
            {
                "Name": "fattura.pdf",
                "Content": base64.b64encode(b"%PDF-1.4 fattura").decode(),
                "ContentType": "application/pdf",
                "ContentLength": 16,
            }
        ],
    }


def test_postmark_with_basic_auth(channel):
    r = Client().post(
        url("postmark", channel), json.dumps(postmark_payload()), content_type="application/json", headers=basic()
    )

    assert r.status_code == 200, r.content
    process_mail()
    message = Message.objects.get(channel=channel)
    assert message.external_id == "pm-1@example.net"
    assert message.text == "La fattura 77 ha l'importo sbagliato."
    assert [a.filename for a in message.attachments.all()] == ["fattura.pdf"]


def test_postmark_without_or_with_wrong_credentials(channel):
    body = json.dumps(postmark_payload())
    challenged = Client().post(url("postmark", channel), body, content_type="application/json")
    wrong = Client().post(
        url("postmark", channel), body, content_type="application/json", headers=basic("adesso:guess")
    )

    assert challenged.status_code == 401 and challenged["WWW-Authenticate"].startswith("Basic")
    assert wrong.status_code == 403
    assert not Message.objects.exists()


def test_sendgrid_send_raw(channel):
    raw = compose(message_id="<sg-1@example.net>", subject="Consegna")
    r = Client().post(
        url("sendgrid", channel),
        {
            "email": raw.decode(),
            "envelope": json.dumps({"to": ["help@shop.example"], "from": "mario@example.net"}),
            "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8"}),
            "spam_score": "0.1",
        },
        headers=basic(),
    )

    assert r.status_code == 200, r.content
    process_mail()
    assert Message.objects.get(channel=channel).external_id == "sg-1@example.net"


def test_amazon_ses_sns_notification_with_the_mail_inside(channel):
    raw = compose(message_id="<ses-1@example.net>")
    ses_event = {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2026-11-24T09:12:00.000Z",
            "source": "mario.bianchi@example.net",
            "messageId": "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1",
            "destination": ["help@shop.example"],
        },
        "receipt": {
            "recipients": ["help@shop.example"],
            "spamVerdict": {"status": "PASS"},
            "action": {"type": "SNS", "topicArn": "arn:aws:sns:eu-west-1:123456789012:adesso", "encoding": "BASE64"},
        },
        "content": base64.b64encode(raw).decode(),
    }
    sns = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:adesso",
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps(ses_event),
        "Timestamp": "2026-11-24T09:12:01.000Z",
        "SignatureVersion": "1",
    }
    r = Client().post(
        url("amazon-ses", channel),
        json.dumps(sns),
        content_type="text/plain; charset=UTF-8",
        headers={**basic(), "x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": sns["MessageId"]},
    )

    assert r.status_code == 200, r.content
    process_mail()
    assert Message.objects.get(channel=channel).external_id == "ses-1@example.net"


def test_the_same_mail_by_webhook_and_by_imap_is_one_message(channel):
    raw = compose(message_id="<both@example.net>")
    receive_mail(channel, raw, source="imap:1:1")

    r = Client().post(url("mailgun", channel), {"body-mime": raw.decode(), **mailgun_signature()})
    process_mail()

    event = InboundEvent.objects.get(code=r.json()["event"])
    assert (event.state, event.outcome) == ("processed", "message")
    assert "had been received before" in event.note
    assert Message.objects.filter(channel=channel).count() == 1


def test_a_bounce_by_webhook_is_a_bounce(channel):
    dsn = (FIXTURES / "bounce_dsn.eml").read_bytes()
    r = Client().post(url("mailgun", channel), {"body-mime": dsn.decode(), **mailgun_signature()})
    process_mail()

    assert InboundEvent.objects.get(code=r.json()["event"]).outcome == "bounce"
    assert Mail.objects.get(channel=channel).kind == "bounce"
    assert not Message.objects.exists()


def test_unknown_provider_and_channel(channel):
    assert Client().post(url("pigeon", channel)).status_code == 404
    assert Client().post(f"/mail/inbound/pigeon/{channel.code}").status_code == 404
    assert Client().post("/channels/email/nope/inbound/mailgun").status_code == 404
    assert Client().post("/mail/inbound/mailgun/nope").status_code == 404
    # No provider in the channel's configuration: its own address names none.
    assert Client().post(f"/channels/email/{channel.code}/inbound").status_code == 404


def test_the_address_providers_were_given_before_still_works(channel):
    r = Client().post(f"/mail/inbound/mailgun/{channel.code}", **mailgun_form(compose(message_id="<old@ex.net>")))
    process_mail()

    assert r.status_code == 200, r.content
    assert Message.objects.get(channel=channel).external_id == "old@ex.net"


def test_the_channels_own_address_takes_the_configured_provider():
    channel, _ = do_create_channel(
        make_org(),
        "email",
        "Assistenza",
        {"address": "help@shop.example", "provider": "postmark", "webhook_secret": BASIC},
    )
    assert channel.inbound_url.endswith(f"/channels/email/{channel.code}/inbound")

    r = Client().post(channel.inbound_url, json.dumps(postmark_payload()), content_type="application/json",
                      headers=basic())
    process_mail()

    assert r.status_code == 200, r.content
    assert Message.objects.get(channel=channel).external_id == "pm-1@example.net"


# An Italian mail as an old client sends it: 8-bit ISO-8859-1, no RFC 2047 in the body.
LATIN1 = (
    b"From: =?ISO-8859-1?Q?Nicol=F2_Bianchi?= <nicolo.bianchi@example.net>\r\n"
    b"To: help@shop.example\r\nSubject: =?ISO-8859-1?Q?Perch=E8_non_=E8_arrivato=3F?=\r\n"
    b"Date: Mon, 23 Nov 2026 10:12:00 +0100\r\nMessage-ID: <latin1-8bit@example.net>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    + "Buongiorno, perché il pacco non è ancora arrivato? Così non va: è già lunedì.\r\nNicolò\r\n".encode("latin-1")
)
LATIN1_TEXT = "Buongiorno, perché il pacco non è ancora arrivato? Così non va: è già lunedì.\nNicolò"


def sendgrid_raw_form(raw: bytes) -> dict:
    """SendGrid Inbound Parse with "POST the raw, full MIME message": multipart form data
    whose `email` field is the mail's bytes, with the `charsets` of the other fields."""
    boundary = "xYzZY"
    fields = {
        "envelope": json.dumps({"to": ["help@shop.example"], "from": "nicolo.bianchi@example.net"}),
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8", "email": "iso-8859-1"}),
        "spam_score": "0.1",
        "to": "help@shop.example",
        "from": "nicolo.bianchi@example.net",
    }
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\n'.encode() + raw
    body += f"\r\n--{boundary}--\r\n".encode()
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def ses_notification(raw: bytes) -> str:
    event = {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2026-11-23T09:12:00.000Z",
            "source": "nicolo.bianchi@example.net",
            "messageId": "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g2",
            "destination": ["help@shop.example"],
        },
        "receipt": {
            "recipients": ["help@shop.example"],
            "action": {"type": "SNS", "topicArn": "arn:aws:sns:eu-west-1:123456789012:adesso", "encoding": "BASE64"},
        },
        "content": base64.b64encode(raw).decode(),
    }
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf325",
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:adesso",
            "Message": json.dumps(event),
            "Timestamp": "2026-11-23T09:12:01.000Z",
            "SignatureVersion": "1",
        }
    )


def postmark_raw(raw: bytes) -> str:
    # Postmark's JSON carries the raw mail as text: one character per byte of the 8-bit body.
    payload = {**postmark_payload(), "RawEmail": raw.decode("latin-1"), "Headers": [], "Attachments": []}
    return json.dumps(payload)


def latin1_posts(channel) -> dict:
    """The same 8-bit mail posted by each provider as that provider posts it."""
    target = url("{}", channel)
    return {
        "mailgun": lambda: Client().post(target.format("mailgun"), **mailgun_form(LATIN1)),
        "sendgrid": lambda: Client().post(target.format("sendgrid"), headers=basic(), **sendgrid_raw_form(LATIN1)),
        "postmark": lambda: Client().post(
            target.format("postmark"), postmark_raw(LATIN1), content_type="application/json", headers=basic()
        ),
        "amazon-ses": lambda: Client().post(
            target.format("amazon-ses"),
            ses_notification(LATIN1),
            content_type="text/plain; charset=UTF-8",
            headers={
                **basic(),
                "x-amz-sns-message-type": "Notification",
                "x-amz-sns-message-id": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf325",
            },
        ),
    }


@pytest.mark.parametrize("provider", ["mailgun", "sendgrid", "postmark", "amazon-ses"])
def test_an_8bit_latin1_italian_mail_keeps_its_accents_through_every_provider(channel, provider):
    response = latin1_posts(channel)[provider]()
    process_mail()

    assert response.status_code == 200, response.content
    message = Message.objects.get(channel=channel)
    mail = Mail.objects.get(message=message)
    assert (message.text, mail.subject, message.conversation.contact.name) == (
        LATIN1_TEXT,
        "Perchè non è arrivato?",
        "Nicolò Bianchi",
    )
    assert mail.raw.read() == LATIN1  # the bytes as sent, kept for "Show original"


def test_the_raw_mime_is_parsed_from_the_posted_bytes_not_from_decoded_text(channel):
    # Korean in EUC-KR, 8-bit: any decoding as UTF-8 on the way would destroy it.
    raw = (
        b"From: kim@example.kr\r\nTo: help@shop.example\r\nSubject: order\r\nMessage-ID: <euckr-8bit@example.kr>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=euc-kr\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "주문한 상품이 아직 도착하지 않았습니다.".encode("euc-kr")
    )

    Client().post(url("mailgun", channel), **mailgun_form(raw))
    process_mail()

    assert Message.objects.get(channel=channel).text == "주문한 상품이 아직 도착하지 않았습니다."
