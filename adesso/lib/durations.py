"""Durations as people say them, in the active language (the UI, the digest, reports)."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def duration_text(seconds: int) -> str:
    """A short human duration: "just now", "12 min", "3 h 5 min", "2 days"."""
    minutes = seconds // 60
    if minutes < 1:
        return _("just now")
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if minutes == 0:
            return _("%(hours)d h") % {"hours": hours}
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    days = hours // 24
    return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}
