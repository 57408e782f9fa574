"""The form an admin connects or edits a Telegram bot with (the channels page renders
`telegram_channel/_config.html`). The token is write-only: never shown back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class TelegramConfigForm(forms.Form):
    bot_token = forms.CharField(
        label=_("Bot token"),
        max_length=130,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("From @BotFather: /newbot, then copy the token it gives."),
    )
    mode = forms.ChoiceField(
        label=_("How messages arrive"),
        required=False,
        choices=[
            ("", _("Automatic")),
            ("webhook", _("Webhook (public https address)")),
            ("polling", _("Polling (no public address)")),
        ],
    )

    def config(self) -> dict[str, Any]:
        """The channel's `config` from the cleaned form (validated again by the kind's schema)."""
        data: dict[str, Any] = {"bot_token": self.cleaned_data["bot_token"]}
        if self.cleaned_data.get("mode"):
            data["mode"] = self.cleaned_data["mode"]
        return data
