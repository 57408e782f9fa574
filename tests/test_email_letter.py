"""Our messages sent as mail are framed as Italian (or English) business mail: a
greeting on its own line, the text, a sign-off; never twice what the text has."""

from __future__ import annotations

from adesso.channels.email.letter import letter

ACK_IT = (
    "Ciao Mario, abbiamo ricevuto il tuo messaggio. Una persona del nostro team ti risponderà entro 12 minuti "
    "(verso le 14:30). Questo è un messaggio automatico."
)


def test_the_italian_acknowledgement_becomes_a_letter():
    assert letter(ACK_IT, name="Mario Rossi", signer="Assistenza Rossi", language="it") == (
        "Ciao Mario,\n\nabbiamo ricevuto il tuo messaggio. Una persona del nostro team ti risponderà entro 12 minuti "
        "(verso le 14:30). Questo è un messaggio automatico.\n\nCordiali saluti\nAssistenza Rossi"
    )


def test_a_reply_without_greeting_gets_one_with_the_first_name_and_a_sign_off():
    assert letter("il rimborso è partito oggi.", name="Mario Rossi", signer="Assistenza Rossi", language="it") == (
        "Buongiorno Mario,\n\nil rimborso è partito oggi.\n\nCordiali saluti\nAssistenza Rossi"
    )


def test_what_the_agent_already_wrote_is_not_added_again():
    reply = "Buongiorno Mario,\nil rimborso è partito oggi.\n\nCordiali saluti\nGiulia"

    assert letter(reply, name="Mario", signer="Assistenza Rossi", language="it") == (
        "Buongiorno Mario,\n\nil rimborso è partito oggi.\n\nCordiali saluti\nGiulia"
    )


def test_english_and_an_unknown_name():
    assert letter("Hi, we have your message.", name="", signer="Shop", language="en") == (
        "Hi,\n\nWe have your message.\n\nKind regards\nShop"
    )
    assert letter("This is taking longer than we told you.", name="", signer="Shop", language="en") == (
        "Hello,\n\nThis is taking longer than we told you.\n\nKind regards\nShop"
    )
