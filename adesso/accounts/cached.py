"""An organisation's settings as intake reads them for every message: cached briefly.

Read by every customer message (routing on? acknowledgements on? the handling
time to assume), so they come from the cache (per process, or Redis when
configured) and a change takes effect within `TTL` seconds everywhere, at once
in the process that made it (`forget`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from adesso.accounts.models import Organization
from adesso.lib import batch

TTL = 10


@dataclass(frozen=True)
class OrgSettings:
    name: str
    auto_assign: bool
    acknowledge: bool
    default_handle_seconds: int


def _key(organization_id: int) -> str:
    return f"adesso:org-settings:{organization_id}"


def org_settings(organization_id: int) -> OrgSettings:
    # Once per batch of the inbound pipeline, not once per message (adesso.lib.batch).
    return batch.memo(("org_settings", organization_id), lambda: _org_settings(organization_id))


def _org_settings(organization_id: int) -> OrgSettings:
    found = cache.get(_key(organization_id))
    if found is None:
        row = Organization.objects.filter(pk=organization_id).values(
            "name", "auto_assign", "acknowledge", "default_handle_seconds").first()
        found = OrgSettings(**row) if row else OrgSettings("", False, False, 360)
        cache.set(_key(organization_id), found, TTL)
    return found  # type: ignore[no-any-return]


def forget(organization_id: int) -> None:
    cache.delete(_key(organization_id))
