from django.apps import AppConfig


class TelegramChannelConfig(AppConfig):
    name = "adesso.channels.telegram"
    label = "telegram_channel"
    verbose_name = "Telegram channel"
