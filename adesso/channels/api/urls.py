"""The `api` kind's POST /api/v1/inbound/{channel}, mounted by the registry (the kind's
`url_prefix`) ahead of the API's router and served by Django directly: the most frequent
request of a busy install, where the router's dispatch cost a fifth of the request. The
router keeps the same function (views.inbound) for the OpenAPI documentation; the
events' GET stays the router's."""

from django.urls import path

from adesso.channels.api import views

app_name = "api_channel"

urlpatterns = [
    path("<str:channel_code>", views.inbound_direct, name="inbound"),
]
