"""Channels: one package per kind (`adesso/channels/<kind>/`), listed in registry.py."""
