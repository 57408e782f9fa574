"""Mounted at /channels/email/ by the registry (adesso.channels.registry.urlpatterns).
The older webhook address /mail/inbound/<provider>/<code> is kept in adesso/urls.py."""

from django.urls import path

from adesso.channels.email import views

app_name = "email_channel"

urlpatterns = [
    path("<str:channel_code>/inbound", views.inbound, name="inbound"),
    path("<str:channel_code>/inbound/<str:provider>", views.inbound, name="inbound_provider"),
    path("<str:channel_code>/verify/<str:token>", views.verify_sender, name="verify_sender"),
    path("message/<str:code>/original", views.message_original, name="original"),
    path("mail/<str:code>.eml", views.mail_download, name="download"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/<str:code>.eml", views.quarantine_download, name="quarantine_download"),
]
