"""Who may export and erase contacts: the role is decided here, the organisation by
`access_contact_by_code` (404 for another organisation's contact)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from adesso.accounts.access import require_admin
from adesso.accounts.models import User
from adesso.contacts.models import Contact
from adesso.conversations.access import access_contact_by_code


def require_supervisor(user: User) -> None:
    if not user.is_supervisor:
        raise PermissionDenied(_("Only supervisors and admins can do this."))


def access_contact_for_export(user: User, code: str) -> Contact:
    """Exports (right of access) are for supervisors and admins."""
    require_supervisor(user)
    return access_contact_by_code(user, code)


def access_contact_for_erasure(user: User, code: str) -> Contact:
    """Erasure cannot be undone: admins only."""
    require_admin(user)
    return access_contact_by_code(user, code)
