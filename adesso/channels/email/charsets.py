"""Bytes of a mail's text as text, whatever its charset label claims.

Order: the declared charset (through the superset mail clients really send:
ISO-8859-1 is Windows-1252, EUC-KR is CP949, GB2312 is GB18030, Shift_JIS is
CP932...), except that bytes which are valid UTF-8 with non-ASCII characters are
UTF-8 whatever a single-byte label says (a mislabelled UTF-8 mail is common; the
reverse, Latin text that happens to be valid UTF-8, almost never is). A missing,
unknown or wrong label: UTF-8, then a detector (charset-normalizer) trusted only
for scripts it recognises well (CJK, Cyrillic, Greek...), then Windows-1252.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

# Labels seen in real mail -> the codec to decode them with (a superset where one exists).
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "windows-1252": "cp1252",
    "x-user-defined": "cp1252",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "korean": "cp949",
    "x-windows-949": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "x-mac-cyrillic": "mac_cyrillic",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "",
    "unknown-8bit": "",
    "default": "",
    "charset": "",
    "none": "",
}
# Codecs whose bytes decode anything: a strict decode proves nothing about them.
_SINGLE_BYTE = {"cp1252", "latin_1", "iso8859-1"}
_ASCII_SAFE_7BIT = ("iso2022", "utf_7", "hz")
# What the detector is trusted for on its own: scripts a Western fallback would ruin.
_TRUSTED_DETECTIONS = {
    "cp949",
    "euc_kr",
    "iso2022_kr",
    "cp932",
    "shift_jis",
    "shift_jis_2004",
    "euc_jp",
    "euc_jis_2004",
    "iso2022_jp",
    "big5",
    "big5hkscs",
    "cp950",
    "gb2312",
    "gbk",
    "gb18030",
    "hz",
    "cp1251",
    "koi8_r",
    "koi8_u",
    "iso8859_5",
    "mac_cyrillic",
    "cp866",
    "cp1253",
    "iso8859_7",
    "cp1255",
    "iso8859_8",
    "cp1256",
    "iso8859_6",
    "cp874",
    "tis_620",
}
# Detection reads this much at most (it is the slow step).
_DETECT_BYTES = 32_000


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # the codec used
    damaged: bool  # some bytes could not be decoded and were replaced


def codec_for(label: str | None) -> str:
    """The Python codec for a charset label, "" when unknown or absent."""
    name = (label or "").strip().strip("\"'").lower()
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        return codecs.lookup(name).name if name else ""
    except LookupError:
        return ""


def _strict(payload: bytes, codec: str) -> str | None:
    try:
        return payload.decode(codec)
    except (LookupError, UnicodeDecodeError):
        return None


def _detect(payload: bytes) -> str:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a dependency of requests, always installed
        return ""
    best = from_bytes(payload[:_DETECT_BYTES]).best()
    if best is None:
        return ""
    name = codec_for(best.encoding) or best.encoding
    return name if codecs.lookup(name).name.replace("-", "_") in _TRUSTED_DETECTIONS else ""


def decode_text(payload: bytes, label: str | None) -> Decoded:
    """Decode the bytes of a text part (or an 8-bit header) labelled `label`."""
    codec = codec_for(label)
    if payload.isascii():
        if codec and codecs.lookup(codec).name.replace("-", "_").startswith(_ASCII_SAFE_7BIT):
            text = _strict(payload, codec)
            if text is not None:
                return Decoded(text, codec, False)
        if b"\x1b$" in payload:  # ISO-2022 escapes without a label
            for name in ("iso2022_jp_ext", "iso2022_kr"):
                text = _strict(payload, name)
                if text is not None:
                    return Decoded(text, name, False)
        return Decoded(payload.decode("ascii"), "ascii", False)
    utf8 = _strict(payload, "utf-8")
    if utf8 is not None:
        return Decoded(utf8, "utf-8", False)
    text = _strict(payload, codec) if codec and codec != "utf-8" else None
    if text is not None:
        return Decoded(text, codec, False)
    if codec and codec != "utf-8" and codecs.lookup(codec).name not in _SINGLE_BYTE:
        # A multi-byte charset that fits all but a few bytes: those are damaged, the label right.
        damaged = payload.decode(codec, errors="replace")
        if damaged.count("\ufffd") <= max(8, len(damaged) // 10):
            return Decoded(damaged, codec, True)
    # No label, an unknown one, or one the bytes do not fit: detect.
    found = _detect(payload)
    text = _strict(payload, found) if found else None
    if text is not None:
        return Decoded(text, found, False)
    if codec and codec != "utf-8" and codecs.lookup(codec).name not in _SINGLE_BYTE:
        # The declared charset with the undecodable bytes replaced (and said so).
        return Decoded(payload.decode(codec, errors="replace"), codec, True)
    return Decoded(payload.decode("cp1252", errors="replace"), "cp1252", _cp1252_holes(payload))


def _cp1252_holes(payload: bytes) -> bool:
    # The five bytes Windows-1252 leaves undefined.
    return any(b in payload for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"))
