"""Pure helpers."""

from adesso.lib.addresses import normalize_email, normalize_phone
from adesso.lib.codes import hash_secret, new_code
from adesso.lib.html import html_to_text, sanitize_html


def test_phone_numbers_normalise_to_e164():
    assert normalize_phone("333 123 4567") == "+393331234567"
    assert normalize_phone("+39 333-123-4567") == "+393331234567"
    assert normalize_phone("0044 20 7946 0958") == "+442079460958"
    assert normalize_phone("12") == ""
    assert normalize_phone("") == ""


def test_emails_normalise_or_are_refused():
    assert normalize_email("  Mario@Example.COM ") == "mario@example.com"
    assert normalize_email("not an email") == ""


def test_codes_are_random_and_unambiguous():
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert not any(c in "01ilo" for code in codes for c in code)
    assert hash_secret("a") != hash_secret("b")


def test_sanitize_keeps_formatting_and_drops_scripts():
    dirty = ('<p style="x" onmouseover="steal()">Ciao <b>Mario</b><script>alert(1)</script>'
             '<img src="x" onerror="y()"><a href="javascript:z()">link</a>'
             '<a href="https://ok.example">ok</a><iframe src="https://evil"></iframe></p>')
    clean = sanitize_html(dirty)
    assert "<b>Mario</b>" in clean
    for bad in ("script", "onmouseover", "onerror", "javascript:", "iframe", "style="):
        assert bad not in clean
    assert 'rel="noopener noreferrer nofollow"' in clean
    assert html_to_text(clean) == "Ciao Mariolinkok"
    assert html_to_text("<p>Uno</p><p>Due<br>Tre</p>") == "Uno Due Tre"
