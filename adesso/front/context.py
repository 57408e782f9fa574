from django.conf import settings
from django.http import HttpRequest


def live(request: HttpRequest) -> dict[str, str]:
    """Where the pages open their websocket (see settings.LIVE_PORT)."""
    return {"live_port": settings.LIVE_PORT}
