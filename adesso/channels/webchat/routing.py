"""The visitor's websocket route, added in adesso/asgi.py beside the agents' (its own
origin check: the channel's allowed_origins, not the site's hosts)."""

from django.urls import path

from adesso.channels.webchat.consumers import VisitorConsumer

websocket_urlpatterns = [path("chat/ws/<str:channel_code>/", VisitorConsumer.as_asgi())]
