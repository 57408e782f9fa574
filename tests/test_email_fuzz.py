"""Fuzzing the MIME parser: thousands of malformed mails (real-world shapes from the
corpus, mutated, and mails built from hostile headers). None may crash intake:
each is stored or quarantined with a reason an admin can read."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adesso.channels.actions import do_create_channel
from adesso.channels.email.actions import inbound_for
from adesso.channels.email.config import EmailConfig
from adesso.channels.email.parse import MailError, parse_mail
from adesso.channels.email.quote import html_to_text, strip_reply
from tests.builders import make_org
from tests.support.mailintake import receive_mail

FIXTURES = Path(__file__).parent / "fixtures" / "email"
CORPUS = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 8))):
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        op = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "repeat"]))
        if op == "flip":
            raw[at] = draw(st.integers(0, 255))
        elif op == "delete":
            del raw[at:at + draw(st.integers(1, 200))]
        elif op == "insert":
            raw[at:at] = draw(st.sampled_from([
                b"\r\n", b"\r\n\r\n", b"--", b"\x00", b"=?", b"?=", b"=?utf-8?B?", b"=?x?Q?=FF?=", b"\xff\xfe",
                b"Content-Type: multipart/mixed; boundary=", b"Content-Transfer-Encoding: base64\r\n",
                b"charset=\"\"", b"<", b">", b"\t", b";", b"\"",
            ])) + draw(st.binary(max_size=20))
        elif op == "truncate":
            del raw[at:]
        else:
            raw[at:at] = raw[at:at + draw(st.integers(1, 500))] * draw(st.integers(1, 5))
    return bytes(raw)


HEADER_NAMES = ["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Date", "Content-Type",
                "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "Return-Path", "Reply-To",
                "MIME-Version", "Content-ID", "X-Failed-Recipients", "List-Id"]
VALUES = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
    st.sampled_from([
        "multipart/mixed; boundary=x", "multipart/alternative", "multipart/report; report-type=delivery-status",
        "message/rfc822", "text/plain; charset=klingon", "text/html; charset=\"utf-16\"", "message/delivery-status",
        "=?utf-8?B?w6g=?=", "=?iso-8859-1?Q?Nicol=F2?= <n@x.it>", "<>", "<a@b> <c@d>", "undisclosed-recipients:;",
        "\"unterminated <x@y>", "base64", "quoted-printable", "x-uuencode", "Mon, 99 Foo 20260 99:99:99 +9999",
        "@@@", "a" * 1000,
    ]),
)


@st.composite
def built(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        name = draw(st.sampled_from(HEADER_NAMES))
        value = draw(VALUES).replace("\r", " ").replace("\n", " ")
        lines.append(f"{name}: {value}".encode("utf-8", "surrogateescape"))
    parts = draw(st.lists(st.one_of(
        st.binary(max_size=200),
        st.sampled_from([b"--x\r\nContent-Type: text/plain\r\n\r\nciao\r\n", b"--x--\r\n", b"--x\r\n\r\n",
                         b"--x\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@b.c\r\n\r\nhi\r\n",
                         b"Final-Recipient: rfc822; a@b.c\r\nAction: failed\r\n"]),
    ), max_size=6))
    return b"\r\n".join(lines) + b"\r\n\r\n" + b"".join(parts)


OWN = {"help@shop.example"}


def _check_parse(raw: bytes) -> None:
    try:
        parsed = parse_mail(raw, OWN, 5 * 1024 * 1024)
    except MailError as exc:
        assert str(exc)
        return
    text = strip_reply(parsed.text.strip() or html_to_text(parsed.html), parsed.subject)
    for value in (text, parsed.subject, parsed.from_name, parsed.from_address, *parsed.recipients,
                  *(a.filename for a in parsed.attachments)):
        assert "\x00" not in value
        value.encode("utf-8")  # storable: no lone surrogates


@settings(max_examples=2000, deadline=None)
@given(mutated())
def test_mutated_real_mail_never_crashes_the_parser(raw):
    _check_parse(raw)


@settings(max_examples=1500, deadline=None)
@given(built())
def test_hostile_headers_never_crash_the_parser(raw):
    _check_parse(raw)


@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(raw=st.one_of(mutated(), built()))
def test_every_malformed_mail_is_stored_or_quarantined_with_a_reason(raw, channel):
    outcome = receive_mail(channel, raw, source="fuzz")

    assert outcome.status in {"stored", "duplicate", "quarantined", "bounce", "report", "ours"}
    if outcome.status == "quarantined":
        assert outcome.quarantine.error and bytes(outcome.quarantine.body) == raw
    if outcome.status == "stored":
        assert outcome.mail.raw.read() == raw
        inbound_for(channel, EmailConfig.model_validate(channel.config),
                    parse_mail(raw, OWN, 5 * 1024 * 1024))  # parsing again agrees


@pytest.fixture
def channel():
    channel, _ = do_create_channel(make_org(), "email", "Assistenza", {"address": "help@shop.example"})
    return channel


@pytest.mark.django_db
def test_a_mail_reusing_a_bounces_message_id_is_a_duplicate_not_a_failure(channel):
    """Found by the test above: a bounce stored under its Message-ID, then a plain mail
    with the same Message-ID, made the worker fail on the mail table's unique key (and
    retry it until quarantine). The first mail with a key is kept; the second is a
    duplicate, processed."""
    bounce = (FIXTURES / "bounce_dsn.eml").read_bytes()
    assert receive_mail(channel, bounce).status == "bounce"
    plain = (
        b"From: Mario Bianchi <mario.bianchi@example.net>\r\nTo: help@shop.example\r\n"
        b"Subject: Ordine 1234\r\nMessage-Id: <20261124091502.4ZK1x23abc@mx.rossi.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nBuongiorno, dov'e' il mio ordine?\r\n"
    )
    outcome = receive_mail(channel, plain)
    assert outcome.status == "duplicate", outcome
