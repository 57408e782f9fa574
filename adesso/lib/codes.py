"""Public random identifiers and secrets.

URLs carry a random `code` instead of a sequential id, so nothing about an
organisation's volume leaks and codes cannot be guessed.
"""

import hashlib
import secrets

_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_code(length: int = 12) -> str:
    """A random lowercase code without look-alike characters (0/o, 1/l/i)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_secret() -> str:
    """A bearer secret shown once to its owner; only its hash is stored."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
