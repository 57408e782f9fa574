"""The settings of an email channel: a mailbox to read (IMAP), a way to send (SMTP or
Django's EMAIL_BACKEND, e.g. anymail) and how new mail is threaded."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from adesso.channels.base import secret_field
from adesso.lib.addresses import normalize_email
from adesso.lib.netguard import outbound_host


class ImapSettings(BaseModel):
    host: str = outbound_host(min_length=1, max_length=255)
    port: int = Field(default=993, ge=1, le=65535)
    ssl: bool = True
    # STARTTLS on a plain connection (port 143) when ssl is off.
    starttls: bool = False
    user: str = Field(min_length=1, max_length=255)
    # One of the two: a password, or an OAuth2 access token (XOAUTH2, e.g. Gmail, Microsoft 365).
    # repr=False keeps them out of logs and tracebacks.
    password: str = secret_field(default="", max_length=1000)
    oauth2_token: str = secret_field(default="", max_length=5000)
    folder: str = Field(default="INBOX", min_length=1, max_length=255)

    @model_validator(mode="after")
    def _one_secret(self) -> ImapSettings:
        if not self.password and not self.oauth2_token:
            raise ValueError("IMAP needs a password or an OAuth2 token")
        return self


class SmtpSettings(BaseModel):
    host: str = outbound_host(min_length=1, max_length=255)
    port: int = Field(default=587, ge=1, le=65535)
    # "starttls" (port 587), "ssl" (port 465) or "none" (a local relay only).
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str = Field(default="", max_length=255)
    password: str = secret_field(default="", max_length=1000)
    timeout: float = Field(default=30.0, gt=0, le=300)


class EmailConfig(BaseModel):
    # The support address customers write to; replies are sent from it.
    address: str = Field(min_length=3, max_length=254)
    # The name shown in the From of our replies (e.g. "Assistenza Rossi").
    from_name: str = Field(default="", max_length=200)
    imap: ImapSettings | None = None
    # Without it, mail goes out through Django's EMAIL_BACKEND (SMTP settings or an
    # anymail provider, see docs/email.md).
    smtp: SmtpSettings | None = None
    # A new mail that threads nowhere: "new" opens a conversation; "open" joins the
    # contact's open conversation on this channel.
    threading: Literal["new", "open"] = "new"
    # Reply-To: <local>+<conversation code>@<domain>. Turn off for a mail server that does
    # not deliver plus-addresses: threading then relies on the headers and subject token.
    plus_address: bool = True
    # Automatic messages (acknowledgements) to one sender per hour, at most.
    auto_reply_limit: int = Field(default=3, ge=0, le=100)
    # The provider that posts inbound mail to the channel's inbound URL (each provider
    # also has its own address: the channel's `webhook_urls`).
    provider: Literal["mailgun", "sendgrid", "postmark", "amazon-ses"] | None = None
    # Inbound through a provider's webhook (docs/email.md): the "user:password" of the
    # basic auth the provider's URL carries (Postmark, SendGrid, Amazon SES), and
    # Mailgun's HTTP webhook signing key.
    webhook_secret: str = secret_field(default="", max_length=500)
    mailgun_signing_key: str = secret_field(default="", max_length=500)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        clean = normalize_email(value)
        if not clean:
            raise ValueError("address must be an email address")
        return clean

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]

    def reply_address(self, conversation_code: str) -> str:
        """The plus-address that threads a customer's answer back to the conversation."""
        local = self.address.rsplit("@", 1)[0].split("+", 1)[0]
        return f"{local}+{conversation_code}@{self.domain}"


def masked(config: dict[str, object]) -> dict[str, object]:
    """The configuration as it may be shown back: secrets replaced by their last characters."""
    out: dict[str, object] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out[key] = masked(value)
        elif key in {"password", "oauth2_token", "webhook_secret", "mailgun_signing_key"} and value:
            text = str(value)
            out[key] = "…" + text[-2:] if len(text) > 8 else "…"
        else:
            out[key] = value
    return out
