from django.urls import path

from adesso.channels.email import views, webhooks

app_name = "email_channel"

urlpatterns = [
    path("mail/message/<str:code>/original", views.message_original, name="original"),
    path("mail/<str:code>.eml", views.mail_download, name="download"),
    path("mail/quarantine/", views.quarantine, name="quarantine"),
    path("mail/quarantine/<str:code>.eml", views.quarantine_download, name="quarantine_download"),
    path("mail/inbound/<str:provider>/<str:channel_code>", webhooks.inbound, name="inbound"),
]
