"""Adesso: customer care on every channel, help now."""
