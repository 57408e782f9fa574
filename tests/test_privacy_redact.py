"""PII redaction on real-format examples: what must be hidden, and what must stay."""

from __future__ import annotations

import time

import pytest

from adesso.privacy.redact import codice_fiscale_valid, found, iban_valid, luhn_valid, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Il mio codice fiscale è RSSMRA85T10A562S, grazie", "Il mio codice fiscale è [CODICE FISCALE], grazie"),
        ("cf: bncmra80a01h501a", "cf: [CODICE FISCALE]"),
        ("IBAN IT60 X054 2811 1010 0000 0123 456 intestato a me", "IBAN [IBAN] intestato a me"),
        ("bonifico su IT60X0542811101000000123456.", "bonifico su [IBAN]."),
        ("German account DE89 3704 0044 0532 0130 00", "German account [IBAN]"),
        ("Visa 4111 1111 1111 1111 scad. 12/28", "Visa [CARD] scad. 12/28"),
        ("Mastercard 5555-5555-5555-4444", "Mastercard [CARD]"),
        ("Amex 378282246310005", "Amex [CARD]"),
        ("scrivete a mario.rossi+ordini@example.it", "scrivete a [EMAIL]"),
        ("cell. +39 333 123 4567 o 333.123.4567", "cell. [PHONE] o [PHONE]"),
        ("fisso 02 1234 5678, ufficio (06) 12345678", "fisso [PHONE], ufficio [PHONE]"),
        ("UK mobile +44 7700 900123", "UK mobile [PHONE]"),
    ],
)
def test_real_formats_are_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ordine n. 4111111111111112 del 3/12",  # 16 digits failing Luhn: an order number
        "Codice RSSMRA85T10A562X",  # wrong control letter
        "Importo 1.234,56 euro, ordine 2026-1234",
        "Ci vediamo alle 10:30 del 04/12/2026",
        "CAP 20121 Milano, civico 12",
    ],
)
def test_lookalikes_are_left_alone(text):
    assert redact(text) == text


def test_a_wrong_check_digit_is_no_iban_and_a_wrong_luhn_no_card():
    assert redact("IBAN IT61 X054 2811 1010 0000 0123 456", ["iban"]) == "IBAN IT61 X054 2811 1010 0000 0123 456"
    assert redact("4111 1111 1111 1112", ["card"]) == "4111 1111 1111 1112"


def test_only_the_configured_kinds_are_redacted():
    text = "mario@example.it, +39 333 123 4567, IT60 X054 2811 1010 0000 0123 456"
    assert redact(text, ["email"]) == "[EMAIL], +39 333 123 4567, IT60 X054 2811 1010 0000 0123 456"
    assert redact(text, ["iban", "phone"]) == "mario@example.it, [PHONE], [IBAN]"
    assert redact(text, []) == text
    assert found(text) == [
        ("email", "mario@example.it"),
        ("iban", "IT60 X054 2811 1010 0000 0123 456"),
        ("phone", "+39 333 123 4567"),
    ]


def test_check_digit_helpers():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert codice_fiscale_valid("RSSMRA85T10A562S") and not codice_fiscale_valid("RSSMRA85T10A562T")


def test_long_hostile_input_takes_linear_time():
    hostile = ("1 " * 50_000) + ("a" * 50_000) + ("@" * 10_000) + ("IT60 " * 10_000)
    start = time.perf_counter()
    redact(hostile)
    assert time.perf_counter() - start < 2.0
