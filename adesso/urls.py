from django.urls import include, path

from adesso.api.api import api
from adesso.channels.registry import urlpatterns as channel_urls

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("adesso.channels.email.urls")),
    # Every kind on the shape of docs/channels.md at /channels/<kind>/ (email and api
    # keep their own mounts until they move).
    *channel_urls(),
    path("", include("adesso.front.urls")),
]
