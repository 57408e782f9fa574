from django.urls import include, path

from adesso.api.api import api
from adesso.channels.email import views as email_views
from adesso.channels.registry import urlpatterns as channel_urls

urlpatterns = [
    # Every kind on the shape of docs/channels.md at /channels/<kind>/: first, since the
    # providers' webhooks are the most frequent requests (each pattern tried costs time).
    *channel_urls(),
    path("api/v1/", api.urls),
    # The email webhooks' address before the kind moved to /channels/email/ (kept working).
    path("mail/inbound/<str:provider>/<str:channel_code>", email_views.legacy_inbound),
    # The public page a survey's email links lead to (adesso/surveys/views.py).
    path("s/", include("adesso.surveys.urls")),
    path("", include("adesso.front.urls")),
]
