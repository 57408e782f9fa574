"""The form an admin connects or edits an API channel with (the channels page renders
`api_channel/_config.html`). The channel's token and webhook signing key are generated
by Adesso and shown once, when the channel is created: never in this form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _


class ApiConfigForm(forms.Form):
    webhook_url = forms.URLField(
        label=_("Webhook address"),
        required=False,
        max_length=2000,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_(
            "Where Adesso posts agents' replies, signed with the channel's key. "
            "Leave it empty if your system reads replies through the API."
        ),
    )

    def config(self) -> dict[str, Any]:
        """The channel's `config` from the cleaned form (validated again by the kind's schema)."""
        url = self.cleaned_data.get("webhook_url") or None
        return {"webhook_url": url}
