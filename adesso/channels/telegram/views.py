"""Telegram's webhook: POST /channels/telegram/<channel code>/inbound.

Checked by X-Telegram-Bot-Api-Secret-Token, stored by the pipeline with one INSERT
(a repeated update_id is the same event), answered 200 at once; the worker does the rest.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from adesso.channels.pipeline import receive_webhook


@csrf_exempt
def inbound(request: HttpRequest, channel_code: str) -> HttpResponse:
    return receive_webhook(request, "telegram", channel_code)
