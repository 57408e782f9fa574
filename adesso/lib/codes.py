"""Public random identifiers and secrets.

URLs carry a random `code` instead of a sequential id, so nothing about an
organisation's volume leaks and codes cannot be guessed.
"""

import hashlib
import secrets

_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


# Random bytes at or above this are dropped, so that every character is equally likely
# (248 = 8 x 31); the others are mapped to characters by one table, in C.
_LIMIT = 256 - 256 % len(_ALPHABET)
_TABLE = bytes(ord(_ALPHABET[b % len(_ALPHABET)]) if b < _LIMIT else 0 for b in range(256))
_DROPPED = bytes(range(_LIMIT, 256))


def new_code(length: int = 12) -> str:
    """A random lowercase code without look-alike characters (0/o, 1/l/i).

    One read of the system's randomness for the whole code, turned into characters by
    `bytes.translate` (every stored event, message and conversation gets one: the
    per-character Python loop was a few percent of processing a message)."""
    code = b""
    while len(code) < length:
        code += secrets.token_bytes(length - len(code) + 4).translate(_TABLE, _DROPPED)
    return code[:length].decode("ascii")


def new_secret() -> str:
    """A bearer secret shown once to its owner; only its hash is stored."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
