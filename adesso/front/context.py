import functools
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def live(request: HttpRequest) -> dict[str, str]:
    """Where the pages open their websocket (see settings.LIVE_PORT)."""
    return {"live_port": settings.LIVE_PORT}


def unread_count(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the bell's number, counted only by pages that show the bell
    (templates call a callable when they first use it; cached for the request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @functools.cache
    def count() -> int:
        from adesso.notifications.models import Notification

        return Notification.objects.filter(user=user, read_at__isnull=True).count()

    return {"unread_notifications": count}
