"""Remote images in customers' HTML, held until an agent asks for them.

An image on another server tells its owner when and where a mail was opened (a
tracking pixel) and from which address. Sanitised HTML (adesso/lib/html.py: only
`img src` can point elsewhere) is shown with each remote image's address moved to
`data-remote-src` and no `src`, so the browser fetches nothing; the page's "Show
images" button (adesso.js) puts the addresses back for one message. Images of our
own (attachments, `cid:` parts served by us, data: URIs) are left alone.
"""

from __future__ import annotations

import re

# nh3 writes attributes double-quoted, with `"` inside escaped: a plain pattern is exact.
_REMOTE_SRC = re.compile(r'(<img\b[^>]*?)\ssrc="((?:https?:)?//[^"]*)"', re.IGNORECASE)


def hold_remote_images(sanitised_html: str) -> tuple[str, int]:
    """The HTML with remote images held, and how many there are."""
    count = 0

    def hold(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f'{match.group(1)} data-remote-src="{match.group(2)}" class="remote-image"'

    return _REMOTE_SRC.sub(hold, sanitised_html), count


# The Content Security Policy's addition on pages that show customers' messages, so
# that "Show images" can load them (settings.CONTENT_SECURITY_POLICY allows only ours).
SHOWN_ON_REQUEST = {"img-src": ["https:", "http:"]}
