from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "adesso.conversations"
    label = "conversations"
    verbose_name = "Conversations"
