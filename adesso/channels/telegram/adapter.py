"""The `telegram` kind: a bot of the Telegram Bot API (docs/channels.md, Telegram).

Inbound: Telegram posts each Update to the channel's inbound URL with the secret
given to setWebhook in `X-Telegram-Bot-Api-Secret-Token` (webhook mode), or
`adesso pollchannels` fetches them with getUpdates (polling mode); either way each
Update is stored by the pipeline, deduplicated by `update_id`, and parsed here in
the worker: text, photos, documents, voice, location, contacts, edits, `/start`,
reactions. Outbound: sendMessage, sendPhoto / sendDocument for files.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import mimetypes
import secrets
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, ValidationError

from adesso.channels.base import (
    ChannelKind,
    ConnectError,
    EventIdentity,
    Ignored,
    InboundAttachment,
    InboundError,
    InboundMessage,
    InboundSender,
    MessageEdit,
    Normalised,
    PermanentChannelError,
    PermanentDeliveryError,
    Reaction,
    RecipientUnreachable,
    RemoteAttachment,
    TemporaryDeliveryError,
    UnknownDeliveryResult,
    VerificationError,
    secret_field,
)
from adesso.channels.telegram import botapi
from adesso.lib.language import LANGUAGES

if TYPE_CHECKING:
    from django.http import HttpRequest

    from adesso.channels.models import Channel
    from adesso.conversations.models import Conversation, Message

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_META = "HTTP_" + SECRET_HEADER.upper().replace("-", "_")
# What the bot asks Telegram for (reactions are sent only when asked for).
ALLOWED_UPDATES = ["message", "edited_message", "message_reaction"]
# Bot API limits: a message's text, a caption, a file a bot may download / send as a photo.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024
PHOTO_LIMIT = 10 * 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
BLOCKED = (
    "The customer has blocked the bot or deleted the chat: Telegram will not deliver to them until they write again"
)


def new_webhook_secret() -> str:
    # 1-256 characters of A-Z, a-z, 0-9, _ and - (what setWebhook accepts).
    return secrets.token_urlsafe(32)


class TelegramConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # From @BotFather: "123456789:AA...".
    bot_token: str = secret_field(pattern=r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")
    # Given to setWebhook; Telegram sends it back on every update.
    webhook_secret: str = secret_field(default_factory=new_webhook_secret, pattern=r"^[A-Za-z0-9_-]{16,256}$")
    # webhook: Telegram posts to the inbound URL (needs a public https SITE_URL);
    # polling: `adesso pollchannels` asks with getUpdates. Unset: webhook when
    # Telegram accepts the inbound URL on connecting, else polling.
    mode: Literal["webhook", "polling"] | None = None
    # Filled in from getMe on connecting.
    bot_id: int | None = None
    bot_username: str = ""


class TelegramChannel(ChannelKind):
    kind = "telegram"
    label = "Telegram"
    identity_kind = "telegram"  # the chat id (a private chat's id is the user's id)
    config_schema = TelegramConfig
    supports_attachments = True
    supports_typing = True
    supports_edits = True
    inbound_path = "/channels/telegram/{code}/inbound"
    config_form = "adesso.channels.telegram.forms.TelegramConfigForm"

    # -- connecting -------------------------------------------------------------------

    def connect(self, channel: Channel) -> None:
        config = TelegramConfig.model_validate(channel.config)
        try:
            me = botapi.call(config.bot_token, "getMe")
        except botapi.BotApiError as exc:
            if exc.status in (401, 404):
                raise ConnectError(
                    "Telegram does not know this bot token (getMe answered "
                    f"{exc.status} {exc.description}): copy it again from @BotFather",
                    "invalid_token",
                ) from None
            raise ConnectError(f"Telegram refused getMe: {exc.status} {exc.description}") from None
        except (botapi.NotSent, botapi.NoAnswer) as exc:
            raise ConnectError(f"Could not reach Telegram to check the token: {exc}", "unreachable") from None
        config.bot_id = int(me.get("id", 0)) or None
        config.bot_username = str(me.get("username") or "")
        chosen = config.mode
        try:
            if chosen != "polling":
                try:
                    botapi.call(
                        config.bot_token,
                        "setWebhook",
                        {
                            "url": self.inbound_url(channel),
                            "secret_token": config.webhook_secret,
                            "allowed_updates": ALLOWED_UPDATES,
                        },
                    )
                    config.mode = "webhook"
                except botapi.BotApiError as exc:
                    # Unset mode: Telegram itself says whether it can reach the inbound
                    # URL (it refuses plain http, reserved addresses, unknown hosts with
                    # 400 "bad webhook"); then the bot polls.
                    if chosen is not None or exc.status != 400:
                        raise
                    config.mode = "polling"
            if config.mode == "polling":
                # getUpdates answers 409 while a webhook is set.
                botapi.call(config.bot_token, "deleteWebhook", {"drop_pending_updates": False})
        except botapi.BotApiError as exc:
            raise ConnectError(
                f"Telegram refused the webhook: {exc.status} {exc.description}", "webhook_refused"
            ) from None
        except (botapi.NotSent, botapi.NoAnswer) as exc:
            raise ConnectError(f"Could not reach Telegram to set the webhook: {exc}", "unreachable") from None
        channel.config = config.model_dump(mode="json")

    def test_connection(self, channel: Channel) -> str:
        """getMe with the stored token: Telegram still knows the bot, and it is the same bot."""
        from django.utils.translation import gettext as _

        try:
            config = TelegramConfig.model_validate(channel.config)
            me = botapi.call(config.bot_token, "getMe")
        except ValidationError:
            raise ConnectError(_("The channel's configuration is invalid: connect the bot again.")) from None
        except botapi.BotApiError as exc:
            raise ConnectError(
                _("Telegram refused the bot token (getMe answered %(status)s: %(description)s).")
                % {"status": exc.status, "description": exc.description}
            ) from None
        except (botapi.NotSent, botapi.NoAnswer) as exc:
            raise ConnectError(_("Could not reach Telegram: %s") % exc) from None
        username = str(me.get("username") or "")
        if config.bot_id and me.get("id") != config.bot_id:
            raise ConnectError(_("The token now belongs to another bot (@%s): edit the channel.") % username)
        return _("Telegram knows the bot @%s: the token works.") % username

    # -- inbound -----------------------------------------------------------------------

    def verify(self, channel: Channel, request: HttpRequest) -> None:
        expected = str(channel.config.get("webhook_secret") or "")
        # From META: building request.headers was a tenth of the webhook's own work.
        given = request.META.get(_SECRET_META, "")
        # Constant time: the comparison must not tell how much of a guess was right.
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise VerificationError(f"Missing or wrong {SECRET_HEADER}")

    def identify(self, channel: Channel, body: bytes) -> EventIdentity:
        update = _update(body)
        return EventIdentity(
            external_id=str(update["update_id"]), sender_key=_chat_key(update), position=update["update_id"]
        )

    def parse(self, channel: Channel, body: bytes) -> list[Normalised]:
        update = _update(body)
        if isinstance(update.get("message"), dict):
            return [_message(update["message"])]
        if isinstance(update.get("edited_message"), dict):
            return [_edit(update["edited_message"])]
        if isinstance(update.get("message_reaction"), dict):
            return [_reaction(update["message_reaction"])]
        kinds = [key for key in update if key != "update_id"]
        return [Ignored(f"Telegram update of a kind Adesso does not handle: {', '.join(kinds) or 'empty'}")]

    def fetch_attachment(self, channel: Channel, remote: RemoteAttachment) -> InboundAttachment:
        token = _config(channel).bot_token
        limit = min(settings.ADESSO_MAX_ATTACHMENT_BYTES, DOWNLOAD_LIMIT)
        try:
            found = botapi.call(token, "getFile", {"file_id": remote.remote_id})
            content = botapi.download(token, str(found["file_path"]), limit)
        except botapi.BotApiError as exc:
            if 400 <= exc.status < 500 and exc.status != 429:
                raise InboundError(f"not received ({exc.description})") from None
            raise
        return InboundAttachment(remote.filename, remote.content_type, content)

    def polls(self, channel: Channel) -> bool:
        return channel.is_enabled and channel.config.get("mode") == "polling"

    def poll(self, channel: Channel, after: int, timeout: float) -> list[bytes]:
        updates = botapi.call(
            _config(channel).bot_token,
            "getUpdates",
            {"offset": after + 1, "timeout": int(timeout), "allowed_updates": ALLOWED_UPDATES},
            timeout=timeout + 10,
        )
        return [json.dumps(u, ensure_ascii=False).encode() for u in updates if isinstance(u, dict)]

    # -- outbound ----------------------------------------------------------------------

    def send_typing(self, channel: Channel, conversation: Conversation) -> None:
        """Show "typing..." in the customer's chat (Telegram shows it for 5 s or until
        the next message). Outside any transaction; failures are ignored."""
        chat_id = _chat_id(channel, conversation)
        if chat_id is not None:
            _typing(_config(channel).bot_token, chat_id)

    def send(self, channel: Channel, message: Message) -> str | None:
        """sendMessage (text over 4096 characters in several), sendPhoto / sendDocument for
        each file, the text as its caption when it fits. 429 waits `retry_after`; 403 (the
        customer blocked the bot) fails the message; 401 (token revoked) the channel."""
        token = _config(channel).bot_token
        prepared: tuple[str | None, dict[str, Any] | None] | None = getattr(message, "_telegram_send", None)
        chat_id = prepared[0] if prepared else _chat_id(channel, message.conversation)
        if chat_id is None:
            raise PermanentDeliveryError("No Telegram chat is known for this customer on this bot")
        files = sorted(message.attachments.all(), key=lambda a: a.pk)  # prefetched by prepare_sends
        text = message.text.strip()
        caption = ""
        if len(files) == 1 and len(text) <= CAPTION_LIMIT:
            caption, text = text, ""
        sent: list[str] = []
        chunks = _chunks(text)
        keyboard = None
        if message.auto and chunks:
            keyboard = _keyboard(prepared[1]) if prepared else _survey_keyboard(message)
        for number, chunk in enumerate(chunks, 1):
            part: dict[str, Any] = {"chat_id": chat_id, "text": chunk}
            if keyboard is not None and number == len(chunks):
                part["reply_markup"] = keyboard
            sent.append(_send(token, "sendMessage", part, None, sent))
        for item in files:
            with item.file.open("rb") as handle:
                content = handle.read()
            photo = item.content_type in PHOTO_TYPES and item.size <= PHOTO_LIMIT
            method, field = ("sendPhoto", "photo") if photo else ("sendDocument", "document")
            data: dict[str, Any] = {"chat_id": chat_id}
            if caption:
                data["caption"] = caption
            sent.append(_send(token, method, data, {field: (item.filename, content, item.content_type)}, sent))
        return sent[-1] if sent else None

    def prepare_sends(self, channel: Channel, messages: list[Message]) -> None:
        """Before the outbox sends several messages (a batch's acknowledgements): what
        `send` looks up for each (the chat, its files, a survey's scale) read for all of
        them in three queries instead of three each."""
        from django.db.models import OuterRef, Subquery, prefetch_related_objects

        from adesso.conversations.models import ConversationEvent, Direction
        from adesso.conversations.models import Message as MessageModel

        if not messages:
            return
        last = (
            MessageModel.objects.filter(
                conversation_id=OuterRef("conversation_id"),
                channel_id=channel.pk,
                direction=Direction.INCOMING,
                external_id__isnull=False,
            )
            .order_by("-created_at", "-pk")
            .values("external_id")[:1]
        )
        chats = dict(
            MessageModel.objects.filter(pk__in=[m.pk for m in messages])
            .annotate(last=Subquery(last))
            .values_list("pk", "last")
        )
        auto = [m for m in messages if m.auto]
        surveys: dict[str, dict[str, Any]] = {}
        if auto:
            for code, data in (
                ConversationEvent.objects.filter(
                    conversation_id__in={m.conversation_id for m in auto},
                    kind="auto_sent",
                    data__message__in=[m.code for m in auto],
                )
                .order_by("pk")
                .values_list("data__message", "data")
            ):
                surveys.setdefault(str(code), data)
        prefetch_related_objects(messages, "attachments")
        for message in messages:
            found = chats.get(message.pk)
            chat_id = found.split(":", 1)[0] if found and ":" in found else _chat_id(channel, message.conversation)
            message._telegram_send = (chat_id, surveys.get(message.code))  # type: ignore[attr-defined]


def _survey_keyboard(message: Message) -> dict[str, Any] | None:
    """A survey's question (adesso.surveys: its automatic message's event carries the
    scale) gets a reply keyboard, one button per score: a tap sends the digit as a
    message, which is how the answer is read on every text channel."""
    from adesso.conversations.models import ConversationEvent

    data = (
        ConversationEvent.objects.filter(
            conversation_id=message.conversation_id, kind="auto_sent", data__message=message.code
        )
        .values_list("data", flat=True)
        .first()
    )
    return _keyboard(data)


def _keyboard(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The reply keyboard of a survey's question, from its auto_sent event's data."""
    scale = (data or {}).get("scale")
    if (data or {}).get("purpose") != "survey" or not isinstance(scale, list) or len(scale) != 2:
        return None
    keys = [{"text": str(score)} for score in range(int(scale[0]), int(scale[1]) + 1)]
    # At most 6 a row: NPS's 11 buttons in two rows stay readable on a phone.
    return {
        "keyboard": [keys[i : i + 6] for i in range(0, len(keys), 6)],
        "one_time_keyboard": True,
        "resize_keyboard": True,
    }


def _typing(token: str, chat_id: str) -> None:
    try:
        botapi.call(token, "sendChatAction", {"chat_id": chat_id, "action": "typing"}, timeout=5.0)
    except (botapi.BotApiError, botapi.NotSent, botapi.NoAnswer):
        pass  # a courtesy: never worth an error


def _send(
    token: str,
    method: str,
    data: dict[str, Any],
    files: dict[str, tuple[str, bytes, str]] | None,
    sent: list[str],
) -> str:
    """One Bot API send, its failure in the outbox's terms. After a part of the reply has
    gone, a repeat would send that part twice: then any failure is final."""
    try:
        result = botapi.call(token, method, data, files)
    except botapi.BotApiError as exc:
        error = _delivery_error(exc, str(data.get("chat_id", "")))
        if sent and not isinstance(error, PermanentDeliveryError):
            raise PermanentDeliveryError(f"Only part of the reply was delivered: {error}") from None
        raise error from None
    except botapi.NotSent as exc:
        if sent:
            raise PermanentDeliveryError(f"Only part of the reply was delivered: {exc}") from None
        raise TemporaryDeliveryError(str(exc)) from None
    except botapi.NoAnswer as exc:
        raise UnknownDeliveryResult(str(exc)) from None
    return str(result.get("message_id", "")) if isinstance(result, dict) else ""


def _delivery_error(exc: botapi.BotApiError, chat_id: str) -> Exception:
    if exc.status == 429 or exc.status >= 500:
        return TemporaryDeliveryError(f"Telegram answered {exc.status}: {exc.description}", exc.retry_after)
    if exc.status == 401:
        return PermanentChannelError(f"Telegram refused the bot token ({exc.status} {exc.description})")
    if exc.status == 403:
        text = f"{BLOCKED} (Telegram answered 403: {exc.description})"
        return RecipientUnreachable(text, TelegramChannel.identity_kind, chat_id)
    return PermanentDeliveryError(f"Telegram answered {exc.status}: {exc.description}")


def _config(channel: Channel) -> TelegramConfig:
    try:
        return TelegramConfig.model_validate(channel.config)
    except ValidationError:
        raise PermanentChannelError("The channel's configuration is invalid") from None


def _chunks(text: str) -> list[str]:
    """Text in pieces Telegram accepts, cut at a line break or space when there is one."""
    chunks = []
    while len(text) > TEXT_LIMIT:
        cut = max(text.rfind("\n", 0, TEXT_LIMIT), text.rfind(" ", 0, TEXT_LIMIT))
        cut = cut if cut > TEXT_LIMIT // 2 else TEXT_LIMIT
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*chunks, text] if text else chunks


def _chat_id(channel: Channel, conversation: Conversation) -> str | None:
    """The chat the customer last wrote from in this conversation (message external ids
    are "<chat id>:<message id>"), else the contact's Telegram identity."""
    from adesso.contacts.models import ContactIdentity
    from adesso.conversations.models import Direction
    from adesso.conversations.models import Message as MessageModel

    last = (
        MessageModel.objects.filter(
            conversation_id=conversation.pk,
            channel_id=channel.pk,
            direction=Direction.INCOMING,
            external_id__isnull=False,
        )
        .order_by("-created_at", "-pk")
        .values_list("external_id", flat=True)
        .first()
    )
    if last and ":" in last:
        return last.split(":", 1)[0]
    return (
        ContactIdentity.objects.filter(contact_id=conversation.contact_id, kind=TelegramChannel.identity_kind)
        .order_by("created_at", "pk")
        .values_list("value", flat=True)
        .first()
    )


# -- parsing updates (Bot API objects: Update, Message, User, Chat, PhotoSize...) ----------


def _update(body: bytes) -> dict[str, Any]:
    try:
        update = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InboundError("The body is not JSON") from None
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise InboundError("The body is not a Telegram Update (no update_id)")
    return update


def _chat_key(update: dict[str, Any]) -> str:
    for key in ("message", "edited_message", "message_reaction"):
        item = update.get(key)
        if isinstance(item, dict) and isinstance(item.get("chat"), dict):
            return str(item["chat"].get("id", ""))
    return ""


def _sender(message: dict[str, Any]) -> InboundSender:
    chat = message.get("chat") or {}
    user = message.get("from") or message.get("user") or {}
    name = " ".join(str(user.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    if user.get("username"):
        name = f"{name} (@{user['username']})" if name else f"@{user['username']}"
    # The user's app language ("it", "en-GB"): what a first "/start" cannot tell.
    language = str(user.get("language_code") or "").split("-")[0].lower()
    return InboundSender(
        external_id=str(chat.get("id", user.get("id", ""))),
        name=name[:200],
        language=language if language in LANGUAGES else "",
    )


def _when(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value, tz=dt.UTC) if isinstance(value, int) else None


def _private(message: dict[str, Any]) -> bool:
    return (message.get("chat") or {}).get("type") == "private"


def _message(message: dict[str, Any]) -> Normalised:
    if not _private(message):
        return Ignored("Messages in groups and channels are not handled, only private chats with the bot")
    sender = _sender(message)
    if (message.get("from") or {}).get("is_bot"):
        return Ignored("Sent by a bot")
    text, files = _content(message, sender)
    if not text and not files:
        kinds = sorted(k for k in message if k not in _ENVELOPE)
        return Ignored(f"A message with nothing Adesso shows ({', '.join(kinds) or 'empty'})")
    return InboundMessage(
        external_id=f"{sender.external_id}:{message.get('message_id')}",
        sender=sender,
        text=text,
        sent_at=_when(message.get("date")),
        remote_attachments=files,
    )


_ENVELOPE = {
    "message_id",
    "from",
    "chat",
    "date",
    "edit_date",
    "entities",
    "caption_entities",
    "message_thread_id",
    "reply_to_message",
    "forward_origin",
    "link_preview_options",
}


def _content(message: dict[str, Any], sender: InboundSender) -> tuple[str, list[RemoteAttachment]]:
    """The text agents read and the files to fetch, whatever kind of message it is."""
    lines = [str(message.get("text") or message.get("caption") or "").strip()]
    files: list[RemoteAttachment] = []
    limit = min(settings.ADESSO_MAX_ATTACHMENT_BYTES, DOWNLOAD_LIMIT)
    mid = message.get("message_id")
    photos = [p for p in message.get("photo") or [] if isinstance(p, dict)]
    found: list[tuple[dict[str, Any], str, str]] = []
    if photos:
        found.append((photos[-1], f"photo-{mid}.jpg", "image/jpeg"))  # the largest size comes last
    for key, default_name in (
        ("document", "document"),
        ("voice", f"voice-{mid}.ogg"),
        ("audio", f"audio-{mid}"),
        ("video", f"video-{mid}.mp4"),
    ):
        item = message.get(key)
        if isinstance(item, dict):
            name = str(item.get("file_name") or default_name)
            content_type = str(item.get("mime_type") or mimetypes.guess_type(name)[0] or "application/octet-stream")
            if "." not in name:
                name += mimetypes.guess_extension(content_type) or ""
            found.append((item, name, content_type))
    for item, name, content_type in found:
        size = item.get("file_size") if isinstance(item.get("file_size"), int) else None
        if size is not None and size > limit:
            lines.append(f"[{name}: {size} bytes, over the limit of {limit}]")
            continue
        files.append(RemoteAttachment(str(item.get("file_id")), name, content_type, size))
    location = message.get("location")
    if isinstance(location, dict):
        lat, lon = location.get("latitude"), location.get("longitude")
        lines.append(f"\U0001f4cd {lat}, {lon} https://www.openstreetmap.org/?mlat={lat}&mlon={lon}")
    contact = message.get("contact")
    if isinstance(contact, dict):
        name = " ".join(str(contact.get(k) or "") for k in ("first_name", "last_name")).strip()
        phone = str(contact.get("phone_number") or "")
        lines.append(f"\U0001f464 {name} {phone}".strip())
        # Their own number, shared with the button Telegram offers: an address of theirs.
        if contact.get("user_id") is not None and str(contact.get("user_id")) == sender.external_id:
            sender.phone = phone
    return "\n".join(line for line in lines if line), files


def _edit(message: dict[str, Any]) -> Normalised:
    if not _private(message):
        return Ignored("Edits in groups and channels are not handled")
    sender = _sender(message)
    text, _files = _content(message, sender)
    original = f"{sender.external_id}:{message.get('message_id')}"
    return MessageEdit(
        external_id=original,
        edit_id=f"{original}:edit:{message.get('edit_date')}",
        sender=sender,
        text=text,
        edited_at=_when(message.get("edit_date")),
    )


def _reaction(update: dict[str, Any]) -> Normalised:
    if not _private(update):
        return Ignored("Reactions in groups and channels are not handled")
    sender = _sender(update)
    emoji = "".join(str(r.get("emoji") or "") for r in update.get("new_reaction") or [] if isinstance(r, dict))
    return Reaction(external_id=f"{sender.external_id}:{update.get('message_id')}", sender=sender, emoji=emoji)
