"""Mounted at /channels/telegram/ by the registry (adesso.channels.registry.urlpatterns)."""

from django.urls import path

from adesso.channels.telegram import views

app_name = "telegram_channel"

urlpatterns = [
    path("<str:channel_code>/inbound", views.inbound, name="inbound"),
]
