"""The `telegram` channel kind: a Telegram bot (docs/channels.md)."""
