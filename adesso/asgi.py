"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adesso.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from adesso.channels.webchat.routing import websocket_urlpatterns as webchat_urlpatterns  # noqa: E402
from adesso.lib.bodylimit import BodyLimitASGI  # noqa: E402
from adesso.realtime.routing import websocket_urlpatterns  # noqa: E402

_agents = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
# Visitors of a web chat come from the companies' sites: no session, and the consumer
# checks the channel's allowed_origins instead of this site's hosts.
_visitors = URLRouter(webchat_urlpatterns)


async def _websocket(scope, receive, send):  # type: ignore[no-untyped-def]
    app = _visitors if scope.get("path", "").startswith("/chat/ws/") else _agents
    return await app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": BodyLimitASGI(django_asgi_app),  # bodies over the path's limit refused first
        "websocket": _websocket,
    }
)
