"""Inbound mail by a provider's webhook (Mailgun, SendGrid, Postmark, Amazon SES), on
the inbound pipeline: the request is verified as that provider signs it, the raw mail
is stored as an inbound event with one INSERT, and the answer goes at once; the
worker parses it (docs/email.md, docs/channels.md).

Verification: Mailgun, HMAC-SHA256 of timestamp + token with the channel's webhook
signing key (its fields read from the raw body, the form left unparsed), a timestamp
within 5 minutes of ours, and a token never seen before on the channel (the token is
the stored event's id, so a
replayed signature with another mail is refused and one with the same mail is the
same event); the others, the basic-auth credentials in the URL the provider posts
to. A channel without the provider's secret refuses everything.

When the provider posts the raw mail (Mailgun `body-mime`, SendGrid "raw", Postmark
`RawEmail`, SES's SNS content) its bytes are taken from the request untouched
(rawmime.py, linear); only when it posts parsed fields is the mail rebuilt from
anymail's message. Nothing else is read here: MIME, charsets and quotes are the
worker's.

URLs: /channels/email/<code>/inbound (the provider in the channel's configuration),
/channels/email/<code>/inbound/<provider>, and the older /mail/inbound/<provider>/<code>.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import time
import warnings
from typing import Any

from anymail.exceptions import AnymailError, AnymailWebhookValidationFailure
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.base import AnymailBaseWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from pydantic import ValidationError

from adesso.channels.base import VerificationError
from adesso.channels.email.actions import do_accept_mail
from adesso.channels.email.config import EmailConfig
from adesso.channels.email.rawmime import form_field, raw_mime
from adesso.channels.models import Channel
from adesso.channels.pipeline import find_channel

log = logging.getLogger(__name__)

# Mailgun's timestamp may be this far from our clock (its documentation's advice).
MAILGUN_MAX_SKEW = 5 * 60


class SesInboundView(AmazonSESInboundWebhookView):
    """Amazon SES with the "SNS" receipt action (the mail inside the notification).
    Without boto3, which Adesso does not install, there is no S3 action and no
    automatic confirmation of the SNS subscription: confirm it in the AWS console."""

    def __init__(self, **kwargs: Any) -> None:
        self.kms_key_id = None
        self.chunk_size = 1 << 20
        self.auto_confirm_enabled = False
        self.session_params: dict[str, Any] = {}
        self.client_params: dict[str, Any] = {}
        AnymailBaseWebhookView.__init__(self, **kwargs)

    def auto_confirm_sns_subscription(self, sns_message: dict[str, Any]) -> None:
        log.warning("Amazon SES: confirm the SNS subscription %s in the AWS console", sns_message.get("TopicArn"))


VIEWS: dict[str, type[AnymailBaseWebhookView]] = {
    "mailgun": MailgunInboundWebhookView,
    "sendgrid": SendGridInboundWebhookView,
    "postmark": PostmarkInboundWebhookView,
    "amazon-ses": SesInboundView,
}


class Refused(VerificationError):
    """A request the provider did not send, or that this channel cannot take."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _json(status: int, data: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


def _error(status: int, code: str, message: str) -> HttpResponse:
    return _json(status, {"error": code, "message": message})


def provider_of(channel: Channel, request: HttpRequest) -> str:
    """The provider named in the URL, else the one in the channel's configuration."""
    match = getattr(request, "resolver_match", None)
    named = match.kwargs.get("provider") if match is not None else None
    return str(named or channel.config.get("provider") or "")


def _view(provider: str, config: EmailConfig) -> AnymailBaseWebhookView:
    """anymail's inbound view for the provider, with this channel's own secrets."""
    if provider == "mailgun":
        if not config.mailgun_signing_key:
            raise Refused(403, "not_configured", "Set the channel's mailgun_signing_key to receive Mailgun webhooks")
        kwargs: dict[str, Any] = {"webhook_signing_key": config.mailgun_signing_key, "webhook_secret": []}
    else:
        if not config.webhook_secret:
            raise Refused(
                403,
                "not_configured",
                "Set the channel's webhook_secret (user:password) and put it in the URL the provider posts to",
            )
        kwargs = {"webhook_secret": config.webhook_secret}
    with warnings.catch_warnings():
        # anymail warns that it no longer tests SendGrid; its inbound format is stable.
        warnings.simplefilter("ignore")
        return VIEWS[provider](**kwargs)


def verify(channel: Channel, request: HttpRequest, provider: str) -> None:
    """Check that the provider sent this request for this channel (raises Refused)."""
    if provider not in VIEWS:
        raise Refused(404, "unknown_provider", f"Unknown provider {provider!r}; use one of {', '.join(VIEWS)}")
    try:
        config = EmailConfig.model_validate(channel.config)
    except ValidationError:
        raise Refused(503, "channel_misconfigured", "The channel's configuration is invalid") from None
    view = _view(provider, config)
    if provider == "mailgun":
        _check_mailgun(request, config.mailgun_signing_key)
        return
    if not request.META.get("HTTP_AUTHORIZATION"):
        # Amazon SNS and others send credentials only after a 401 challenge.
        raise Refused(401, "unauthorized", "Credentials required")
    try:
        view.run_validators(request)
    except AnymailWebhookValidationFailure:
        raise Refused(403, "invalid_signature", "The request is not signed with this channel's secret") from None
    except AnymailError as exc:
        raise Refused(400, "invalid", str(exc)[:300]) from None


def mailgun_field(request: HttpRequest, name: str) -> str:
    """A field of Mailgun's form read from the raw body (rawmime): Django's parsing of
    the whole form (a 1 MB mail) is left to the worker's side."""
    value = form_field(request, name)
    return value.decode("latin-1") if value is not None else ""


def _check_mailgun(request: HttpRequest, key: str) -> None:
    """Mailgun's HMAC-SHA256 of timestamp + token with the signing key, and a recent
    timestamp: a signature is valid for ever by itself, so a captured one could be
    replayed years later (issue 14, finding 4). The token is checked by the caller."""
    timestamp, token = mailgun_field(request, "timestamp"), mailgun_field(request, "token")
    signature = mailgun_field(request, "signature")
    expected = hmac.new(key.encode(), f"{timestamp}{token}".encode("latin-1"), hashlib.sha256).hexdigest()
    if not token or not hmac.compare_digest(signature.encode("latin-1"), expected.encode()):
        raise Refused(403, "invalid_signature", "The request is not signed with this channel's secret")
    try:
        stamp = float(timestamp)
    except ValueError:
        raise Refused(403, "invalid_signature", "Mailgun's timestamp is missing") from None
    if abs(time.time() - stamp) > MAILGUN_MAX_SKEW:
        raise Refused(
            403, "stale_signature", "Mailgun's timestamp is more than 5 minutes from now: a replayed request?"
        )


def mails(channel: Channel, request: HttpRequest, provider: str) -> list[bytes]:
    """The raw mails in a verified request: the bytes the provider posted, or (parsed
    fields only) the mail anymail rebuilt from them. Raises Refused."""
    raw = raw_mime(request, provider)
    if raw is not None:
        return [raw]
    try:
        view = _view(provider, EmailConfig.model_validate(channel.config))
    except ValidationError:
        raise Refused(503, "channel_misconfigured", "The channel's configuration is invalid") from None
    try:
        events = view.parse_events(request)
    except (AnymailError, ValueError, KeyError) as exc:
        raise Refused(
            400, "invalid", f"The payload is not a {provider} inbound message ({type(exc).__name__})"
        ) from None
    return [_as_bytes(event.message) for event in events if event.message is not None]


def _as_bytes(message: Any) -> bytes:
    # Fixed boundaries (random ones by default): the same fields make the same bytes, so
    # a provider's retry is the same stored event. Parts are base64 or headers, which
    # never hold "=_adesso_".
    for n, part in enumerate(message.walk()):
        if part.is_multipart():
            with contextlib.suppress(Exception):
                part.set_boundary(f"=_adesso_{n}_=")
    try:
        return bytes(message.as_bytes())
    except Exception:  # 8-bit text the parser kept as surrogates
        return str(message.as_string()).encode("utf-8", "surrogateescape")


def receive(request: HttpRequest, provider: str | None, channel_code: str) -> HttpResponse:
    """Verify, store each raw mail as an inbound event (one INSERT), answer at once."""
    if request.method != "POST":
        return _error(405, "method_not_allowed", "POST the provider's inbound mail here")
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.ADESSO_MAX_BODY_BYTES:
        return _error(413, "too_large", f"The body is {length} bytes; the limit is {settings.ADESSO_MAX_BODY_BYTES}")
    channel = find_channel("email", channel_code)
    if channel is None:
        return _error(404, "unknown_channel", f"No email channel with code {channel_code!r}")
    provider = provider or str(channel.config.get("provider") or "")
    if not provider:
        return _error(404, "unknown_provider", "Set the channel's provider, or post to /inbound/<provider>")
    # The body is read first, as bytes: the raw mail is taken from it untouched (rawmime),
    # and the signature checks then read the form from it.
    request.body  # noqa: B018
    try:
        verify(channel, request, provider)
        if not channel.is_enabled:
            return _error(404, "channel_disabled", "This channel is disabled")
        raws = mails(channel, request, provider)
    except Refused as exc:
        if exc.status == 401:
            response = _error(401, exc.code, str(exc))
            response["WWW-Authenticate"] = 'Basic realm="Adesso inbound mail"'
            return response
        return _error(exc.status, exc.code, str(exc))
    token = mailgun_field(request, "token") if provider == "mailgun" else ""
    stored = []
    for raw in raws:
        # Mailgun's token is the event's id: a token seen before is refused unless it
        # brings the very same mail (a retry).
        event, created = do_accept_mail(channel, raw, f"webhook:{provider}", f"mailgun:{token}"[:200] if token else "")
        if token and not created and not hmac.compare_digest(bytes(event.body), raw):
            return _error(403, "replayed_token", "This Mailgun token was used before with another mail")
        stored.append({"event": event.code, "duplicate": not created})
    if len(stored) == 1:
        return _json(200, stored[0])
    return _json(200, {"events": stored})
