from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "adesso.notifications"
    label = "notifications"
    verbose_name = "Notifications"
