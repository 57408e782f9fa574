"""Survey settings as the settings page changes them: the organisation's default row
(no channel) and each channel's own row (adesso/surveys/models.py SurveySettings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.lib.errors import ActionError
from adesso.surveys.models import Kind, SurveySettings

if TYPE_CHECKING:
    from adesso.accounts.models import User
    from adesso.channels.models import Channel

MAX_INTERVAL = 365


def do_save_survey_settings(
    actor: User, channel: Channel | None, *, enabled: bool, kind: str, interval_days: int, inherit: bool = False
) -> SurveySettings | None:
    """Set the default (channel None) or a channel's own settings; `inherit` removes a
    channel's own row, so it follows the default again."""
    if channel is not None and channel.organization_id != actor.organization_id:
        raise ActionError(_("Choose one of your organisation's channels."), "bad_channel")
    if channel is not None and inherit:
        SurveySettings.objects.filter(organization_id=actor.organization_id, channel=channel).delete()
        return None
    if kind not in Kind.values:
        raise ActionError(_("Choose CSAT, NPS or CES."), "bad_kind")
    if not 0 <= interval_days <= MAX_INTERVAL:
        raise ActionError(_("The days between surveys go from 0 to 365."), "bad_interval")
    row, _created = SurveySettings.objects.update_or_create(
        organization_id=actor.organization_id,
        channel=channel,
        defaults={"enabled": enabled, "kind": kind, "interval_days": interval_days, "updated_at": timezone.now()},
    )
    return row
