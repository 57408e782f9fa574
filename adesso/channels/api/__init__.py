"""The `api` channel kind: a channel fed over HTTP by the company's own systems (docs/channels.md)."""
