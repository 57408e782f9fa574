"""The `webchat` channel kind: a chat window on the company's own site (docs/channels.md)."""
