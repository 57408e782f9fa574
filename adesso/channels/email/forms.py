"""The form an admin connects or edits a mailbox with (the channels page renders
`email_channel/_config.html`). Passwords, tokens and signing keys are write-only:
never rendered back; left empty on an edit, the stored one is kept."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


def _secret(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=1000,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=help_text,
    )


class EmailConfigForm(forms.Form):
    # Where the password fields are kept in the channel's config (the channels page shows
    # only whether each is set).
    secret_paths = {"imap_password": ("imap", "password"), "smtp_password": ("smtp", "password")}

    address = forms.EmailField(label=_("Support address"), max_length=254)
    from_name = forms.CharField(label=_("Name shown as sender"), max_length=200, required=False)
    provider = forms.ChoiceField(
        label=_("Inbound by webhook from"),
        required=False,
        choices=[
            ("", _("None (IMAP only)")),
            ("mailgun", "Mailgun"),
            ("sendgrid", "SendGrid"),
            ("postmark", "Postmark"),
            ("amazon-ses", "Amazon SES"),
        ],
    )
    webhook_secret = _secret(_("Webhook user:password"), _("Put it in the URL the provider posts to."))
    mailgun_signing_key = _secret(_("Mailgun webhook signing key"))
    imap_host = forms.CharField(label=_("IMAP server"), max_length=255, required=False)
    imap_port = forms.IntegerField(label=_("IMAP port"), min_value=1, max_value=65535, initial=993, required=False)
    imap_ssl = forms.BooleanField(label=_("IMAP over SSL"), initial=True, required=False)
    imap_user = forms.CharField(label=_("IMAP user"), max_length=255, required=False)
    imap_password = _secret(_("IMAP password"))
    imap_folder = forms.CharField(label=_("IMAP folder"), max_length=255, initial="INBOX", required=False)
    smtp_host = forms.CharField(
        label=_("SMTP server"),
        max_length=255,
        required=False,
        help_text=_("Empty: replies leave through the site's mail service, once the address is confirmed."),
    )
    smtp_port = forms.IntegerField(label=_("SMTP port"), min_value=1, max_value=65535, initial=587, required=False)
    smtp_security = forms.ChoiceField(
        label=_("SMTP security"),
        choices=[("starttls", "STARTTLS"), ("ssl", "SSL/TLS"), ("none", _("None (local relay)"))],
        initial="starttls",
        required=False,
    )
    smtp_user = forms.CharField(label=_("SMTP user"), max_length=255, required=False)
    smtp_password = _secret(_("SMTP password"))
    threading = forms.ChoiceField(
        label=_("A new mail that answers nothing"),
        choices=[("new", _("opens a conversation")), ("open", _("joins the contact's open conversation"))],
        initial="new",
    )

    @staticmethod
    def initial_from(config: dict[str, Any]) -> dict[str, Any]:
        """The fields of a stored configuration, for an edit (never its secrets)."""
        imap, smtp = config.get("imap") or {}, config.get("smtp") or {}
        return {
            "address": config.get("address", ""),
            "from_name": config.get("from_name", ""),
            "provider": config.get("provider") or "",
            "threading": config.get("threading", "new"),
            **{f"imap_{k}": imap[k] for k in ("host", "port", "ssl", "user", "folder") if k in imap},
            **{f"smtp_{k}": smtp[k] for k in ("host", "port", "security", "user") if k in smtp},
        }

    def config(self) -> dict[str, Any]:
        """The channel's `config` from the cleaned form (validated again by the kind's
        schema); empty secrets are left out, so an edit keeps the stored ones."""
        data = self.cleaned_data
        config: dict[str, Any] = {
            "address": data["address"],
            "from_name": data.get("from_name") or "",
            "threading": data.get("threading") or "new",
        }
        if data.get("provider"):
            config["provider"] = data["provider"]
        for key in ("webhook_secret", "mailgun_signing_key"):
            if data.get(key):
                config[key] = data[key]
        if data.get("imap_host"):
            imap: dict[str, Any] = {
                "host": data["imap_host"],
                "port": data.get("imap_port") or 993,
                "ssl": bool(data.get("imap_ssl")),
                "user": data.get("imap_user") or data["address"],
                "folder": data.get("imap_folder") or "INBOX",
            }
            if data.get("imap_password"):
                imap["password"] = data["imap_password"]
            config["imap"] = imap
        if data.get("smtp_host"):
            smtp: dict[str, Any] = {
                "host": data["smtp_host"],
                "port": data.get("smtp_port") or 587,
                "security": data.get("smtp_security") or "starttls",
                "user": data.get("smtp_user") or "",
            }
            if data.get("smtp_password"):
                smtp["password"] = data["smtp_password"]
            config["smtp"] = smtp
        return config
