"""Date formats that Django's own locale files get wrong for us (FORMAT_MODULE_PATH),
and the one short format Django has no name for."""

from django.utils.translation import get_language


def day_month(year: bool = False, time: bool = False) -> str:
    """A compact date format: "4 dic, 14:05" in Italian, "4 Dec, 14:05" in English.

    Django's "M" capitalises the abbreviation ("4 Dic"), which Italian does not; "b" is
    the lower-case one, right for Italian and wrong for English.
    """
    month = "b" if (get_language() or "").startswith("it") else "M"
    return f"j {month}" + (" Y" if year else "") + (", H:i" if time else "")
