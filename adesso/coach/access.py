"""The only way views fetch an organisation's coach rules: scoped to the caller's
organisation, 404 otherwise."""

from django.http import Http404

from adesso.accounts.models import User
from adesso.coach.models import CoachRule


def access_rule_by_code(user: User, code: str) -> CoachRule:
    try:
        return CoachRule.objects.get(organization_id=user.organization_id, code=code)
    except CoachRule.DoesNotExist:
        raise Http404("No such rule") from None
