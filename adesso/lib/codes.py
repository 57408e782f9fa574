"""Public random identifiers and secrets.

URLs carry a random `code` instead of a sequential id, so nothing about an
organisation's volume leaks and codes cannot be guessed.
"""

import hashlib
import secrets

_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


# 16-bit draws at or above this are dropped, so that every character is equally likely.
_LIMIT = 65536 - 65536 % len(_ALPHABET)


def new_code(length: int = 12) -> str:
    """A random lowercase code without look-alike characters (0/o, 1/l/i).

    One read of the system's randomness for the whole code (not one per character:
    every stored event, message and conversation gets one)."""
    chars: list[str] = []
    while len(chars) < length:
        data = secrets.token_bytes(2 * (length - len(chars)) + 2)
        draws = (int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
        chars += [_ALPHABET[v % len(_ALPHABET)] for v in draws if v < _LIMIT]
    return "".join(chars[:length])


def new_secret() -> str:
    """A bearer secret shown once to its owner; only its hash is stored."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
