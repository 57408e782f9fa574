from django.urls import include, path

from adesso.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("adesso.channels.email.urls")),
    path("", include("adesso.front.urls")),
]
