"""Sanitising HTML that comes from customers, before any agent sees it."""

import html as std_html
import re

import nh3

_BLOCK_END = re.compile(r"<br\s*/?>|</(p|div|li|tr|td|th|h[1-6]|blockquote|pre)>", re.IGNORECASE)

_ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def sanitize_html(raw: str) -> str:
    """Keep formatting, drop scripts, styles, event handlers and javascript: URLs.

    Links get rel="noopener noreferrer nofollow" so a customer's link cannot
    reach back into the agent's tab.
    """
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel", "cid"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_to_text(raw: str) -> str:
    """A plain-text rendering of sanitised HTML, for previews and search."""
    spaced = _BLOCK_END.sub(" ", raw)
    stripped = nh3.clean(spaced, tags=set(), attributes={})
    return " ".join(std_html.unescape(stripped).split())
