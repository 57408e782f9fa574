"""Mounted at /chat/ by the registry (the kind's `url_prefix`; adesso.channels.registry)."""

from django.urls import path

from adesso.channels.webchat import views

app_name = "webchat_channel"

urlpatterns = [
    path("widget.js", views.widget, name="widget"),
    path("<str:channel_code>/config", views.config, name="config"),
    path("<str:channel_code>/session", views.session, name="session"),
    path("<str:channel_code>/messages", views.inbound, name="inbound"),
    path("<str:channel_code>/contact", views.contact, name="contact"),
    path("<str:channel_code>/page", views.page, name="page"),
    path("<str:channel_code>/transcript", views.transcript, name="transcript"),
    path("<str:channel_code>/files", views.upload, name="upload"),
    path("<str:channel_code>/files/<str:signed>", views.download, name="download"),
]
