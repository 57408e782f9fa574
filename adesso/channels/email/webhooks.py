"""Inbound mail by a provider's webhook (Mailgun, SendGrid, Postmark, Amazon SES),
through django-anymail's inbound views: each request verified as that provider
signs it (Mailgun: HMAC-SHA256 with the webhook signing key; the others: the
basic-auth credentials in the URL the provider posts to), normalised to a MIME
message, then handed to the same handler as IMAP mail. When the provider posts the
raw mail (Mailgun `body-mime`, SendGrid "raw", Postmark `RawEmail`, SES's SNS
content) its bytes are taken from the request untouched (rawmime.py) and parsed
once, by our parser: never decoded as UTF-8 on the way.

URL: /mail/inbound/<provider>/<channel code>; the secrets are the channel's own
(`webhook_secret`, `mailgun_signing_key`), so each channel has its own.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from anymail.exceptions import AnymailError, AnymailWebhookValidationFailure
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.base import AnymailBaseWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from adesso.channels.email.actions import do_receive_mail
from adesso.channels.email.config import EmailConfig
from adesso.channels.email.rawmime import raw_mime
from adesso.channels.models import Channel

log = logging.getLogger(__name__)


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


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)


def _raw(message: Any) -> bytes:
    try:
        return bytes(message.as_bytes())
    except Exception:  # 8-bit text the parser kept as surrogates
        return str(message.as_string()).encode("utf-8", "surrogateescape")


@csrf_exempt
@require_POST
def inbound(request: HttpRequest, provider: str, channel_code: str) -> HttpResponse:
    view_class = VIEWS.get(provider)
    if view_class is None:
        return _error(404, "unknown_provider", f"Unknown provider {provider!r}; use one of {', '.join(VIEWS)}")
    channel = Channel.objects.filter(code=channel_code, kind="email", is_enabled=True).first()
    if channel is None:
        return _error(404, "unknown_channel", f"No enabled email channel with code {channel_code!r}")
    try:
        config = EmailConfig.model_validate(channel.config)
    except ValidationError:
        return _error(503, "channel_misconfigured", "The channel's configuration is invalid")
    # Never accept unsigned mail: a channel without the provider's secret refuses it.
    if provider == "mailgun":
        if not config.mailgun_signing_key:
            return _error(403, "not_configured", "Set the channel's mailgun_signing_key to receive Mailgun webhooks")
        kwargs: dict[str, Any] = {"webhook_signing_key": config.mailgun_signing_key, "webhook_secret": []}
    else:
        if not config.webhook_secret:
            return _error(
                403,
                "not_configured",
                "Set the channel's webhook_secret (user:password) and put it in the URL the provider posts to",
            )
        if not request.META.get("HTTP_AUTHORIZATION"):
            # Amazon SNS and others send credentials only after a 401 challenge.
            response = HttpResponse(status=401)
            response["WWW-Authenticate"] = 'Basic realm="Adesso inbound mail"'
            return response
        kwargs = {"webhook_secret": config.webhook_secret}
    # The body is read first, as bytes: the raw MIME is taken from it untouched (rawmime).
    _body = request.body
    with warnings.catch_warnings():
        # anymail warns that it no longer tests SendGrid; its inbound format is stable.
        warnings.simplefilter("ignore")
        view = view_class(**kwargs)
    try:
        view.run_validators(request)
    except AnymailWebhookValidationFailure:
        return _error(403, "invalid_signature", "The request is not signed with this channel's secret")
    except AnymailError as exc:
        return _error(400, "invalid", str(exc)[:300])
    raw = raw_mime(request, provider)
    if raw is not None:
        # The provider posted the mail itself: parsed once, by our parser, from its bytes.
        return JsonResponse({"received": [do_receive_mail(channel, raw, source=f"webhook:{provider}").status]})
    try:
        events = view.parse_events(request)
    except (AnymailError, ValueError, KeyError) as exc:
        return _error(400, "invalid", f"The payload is not a {provider} inbound message ({type(exc).__name__})")
    # Parsed fields only (Mailgun without ?mime, Postmark without RawEmail, SendGrid
    # without "raw"): the mail anymail rebuilt from them, already text.
    results = [
        do_receive_mail(channel, _raw(event.message), source=f"webhook:{provider}").status
        for event in events
        if event.message is not None
    ]
    return JsonResponse({"received": results})
