"""What of a customer's name may appear in our automatic messages.

A display name is whatever the sender typed ("Claim your refund now: https://..."):
copied into an acknowledgement it would be mailed from the company's own address to
any address the sender gives. Automatic messages carry at most a first name made of
letters; anything else gets the neutral greeting.
"""

from __future__ import annotations

import re
import unicodedata

MAX_FIRST_NAME = 20
# Letters only, with an inner apostrophe or hyphen (D'Angelo, Anna-Maria).
_FIRST = re.compile(r"[^\W\d_]{1,20}(?:['\u2019-][^\W\d_]{1,20})?")
# A link, an address or a domain anywhere in the name: the sender is advertising.
_ADVERT = re.compile(r"://|www\.|@|[^\W_]\.[^\W\d_]{2,}|\d{3}", re.IGNORECASE)


def safe_first_name(display_name: str) -> str:
    """The first name to greet the customer with, or "" for the neutral greeting."""
    name = unicodedata.normalize("NFKC", display_name or "").strip()
    if not name or _ADVERT.search(name):
        return ""
    first = name.split()[0].rstrip(",.;:!")
    if len(first) < 2 or len(first) > MAX_FIRST_NAME or not _FIRST.fullmatch(first):
        return ""
    return first
