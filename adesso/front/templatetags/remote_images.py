"""{{ html|held_images }}: sanitised customer HTML with remote images held, and a
"Show images" button when there are any (adesso/lib/remoteimages.py)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from adesso.lib.remoteimages import hold_remote_images

register = template.Library()


@register.filter
def held_images(sanitised_html: str) -> SafeString:
    """Only for HTML already sanitised at intake (Message.html, the mail's shown part)."""
    html, count = hold_remote_images(sanitised_html or "")
    if not count:
        return mark_safe(html)  # noqa: S308  (sanitised with nh3 at intake)
    note = _("Remote images are not shown, so the sender cannot tell that you read this.")
    return format_html(
        '<p class="remote-images-note muted small">{} <button type="button" class="link" data-show-images>{}</button>'
        '</p><div class="remote-images-held">{}</div>',
        note,
        _("Show images"),
        mark_safe(html),  # noqa: S308  (sanitised with nh3 at intake)
    )
