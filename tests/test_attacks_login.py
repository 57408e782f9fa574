"""Finding 6 of issue 14: password guessing on the login page, and weak passwords."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from adesso.accounts.actions import do_accept_invitation, do_create_agent, do_invite_agent
from adesso.accounts.models import Role
from adesso.lib.errors import ActionError
from tests.builders import make_agent, make_org

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests/builders.make_agent's


def _login(client: Client, email: str, password: str, ip: str = "203.0.113.7"):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_forty_wrong_passwords_lock_the_account_even_for_the_right_one(settings):
    giulia = make_agent(make_org(), "Giulia")
    attacker = Client()
    statuses = [_login(attacker, giulia.email, f"guess-{n}").status_code for n in range(40)]
    assert statuses[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(statuses[settings.AXES_FAILURE_LIMIT :]) == {429}
    # Giulia herself, from elsewhere, with the right password: refused until the cool-off.
    giulia_client = Client()
    page = _login(giulia_client, giulia.email, PASSWORD, ip="198.51.100.20")
    assert page.status_code == 429
    assert not _logged_in(giulia_client)
    assert "Too many failed attempts" in page.content.decode()
    assert "15 minutes" in page.content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert _login(giulia_client, giulia.email, PASSWORD, ip="198.51.100.20").status_code == 302
        assert _logged_in(giulia_client)


def test_one_address_trying_many_accounts_is_locked_out(settings):
    org = make_org()
    agents = [make_agent(org, name) for name in ("Anna", "Bruno", "Carla", "Dario", "Elena", "Fabio")]
    attacker = Client()
    for n in range(settings.AXES_FAILURE_LIMIT + 2):
        _login(attacker, agents[n % len(agents)].email, "Password1!")
    # A right password from that address is refused too; the same account elsewhere is not.
    assert _login(attacker, agents[0].email, PASSWORD).status_code == 429
    assert not _logged_in(attacker)
    elsewhere = Client()
    assert _login(elsewhere, agents[0].email, PASSWORD, ip="198.51.100.21").status_code == 302


def test_the_lockout_is_said_in_italian():
    giulia = make_agent(make_org(), "Giulia")
    attacker = Client(headers={"Accept-Language": "it"})
    for n in range(12):
        page = _login(attacker, giulia.email, f"tentativo-{n}")
    assert page.status_code == 429
    assert "Troppi tentativi falliti" in page.content.decode()


def test_a_success_before_the_limit_starts_the_count_again(settings):
    giulia = make_agent(make_org(), "Giulia")
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, giulia.email, f"typo-{n}")
    assert _login(client, giulia.email, PASSWORD).status_code == 302
    client.logout()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, giulia.email, f"typo-{n}")
    assert _login(client, giulia.email, PASSWORD).status_code == 302


@pytest.mark.parametrize("weak", ["12345678", "password", "abc", "giulia-rossi", "qwertyuiop"])
def test_weak_passwords_are_refused_wherever_a_password_is_set(weak, django_capture_on_commit_callbacks):
    org = make_org()
    with pytest.raises(ActionError) as refused:
        do_create_agent(org, "giulia.rossi@example.com", "Giulia Rossi", password=weak)
    assert refused.value.code == "invalid_password"
    admin = make_agent(org, "Anna", role=Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, secret = do_invite_agent(admin, "giulia.rossi@example.com", "Giulia Rossi")
    with pytest.raises(ActionError) as refused:
        do_accept_invitation(secret, weak)
    assert refused.value.code == "invalid_password"
    page = Client().post(f"/invite/{secret}", {"password": weak, "password2": weak})
    assert page.status_code in (200, 400)
    assert not _logged_in(Client())


def test_behind_a_proxy_the_forwarded_address_counts_and_cannot_be_forged(settings):
    settings.ADESSO_PROXY_COUNT = 1
    giulia = make_agent(make_org(), "Giulia")
    attacker = Client()
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        # The attacker sends a different forged address each time; the proxy appends the real one.
        attacker.post(
            "/login/",
            {"username": f"x{n}@example.com", "password": "x"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.9",
        )
    refused = attacker.post(
        "/login/",
        {"username": giulia.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert refused.status_code == 429
    colleague = Client().post(
        "/login/",
        {"username": giulia.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.4",
    )
    assert colleague.status_code == 302  # same proxy, another client
