"""Two-factor login (TOTP): enrolment with the QR code's secret, the second login step
with a code computed here from that secret (RFC 6238, independently of django-otp),
recovery codes, the organisation's policy, throttling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
import time_machine
from django.test import Client

from adesso.accounts.models import Role
from adesso.audit.models import AuditAction, AuditEntry
from adesso.privacy.actions import do_save_privacy_settings
from tests.builders import AgentApi, make_agent, make_org

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def totp(secret_b32: str, at: float | None = None) -> str:
    """RFC 6238: HMAC-SHA1 over the 30-second counter, dynamic truncation, 6 digits."""
    key = base64.b32decode(secret_b32.replace(" ", ""))
    counter = int((at if at is not None else time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def login(agent) -> Client:
    client = Client()
    r = client.post("/login/", {"username": agent.email, "password": PASSWORD})
    assert r.status_code == 302, r.content
    return client


def enrol(client: Client) -> tuple[str, list[str]]:
    page = client.get("/settings/two-factor").content.decode()
    assert "<svg" in page  # the QR code, inline
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    done = client.post("/settings/two-factor", {"action": "confirm", "code": totp(secret)})
    assert done.status_code == 200, done.content
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    return secret, codes


@pytest.fixture
def shop():
    org = make_org("Pasticceria Rossi")
    return org, make_agent(org, "Anna", role=Role.ADMIN), make_agent(org, "Luca")


def test_enrol_then_every_login_asks_the_code(shop):
    _org, _anna, luca = shop
    start = time.time()
    with time_machine.travel(start, tick=False):
        secret, codes = enrol(login(luca))
    assert len(codes) == 10
    assert AuditEntry.objects.filter(action=AuditAction.TWO_FACTOR_ENABLED, actor=luca).count() == 1

    with time_machine.travel(start + 60, tick=False):
        client = login(luca)
        assert client.get("/contacts/").url == "/login/verify?next=%2Fcontacts%2F"
        assert client.get("/api/v1/me").status_code != 302  # the API uses tokens, not the session
        wrong = client.post("/login/verify?next=/contacts/", {"code": "000000"})
        assert wrong.status_code == 400
        assert "Il codice non è corretto" in wrong.content.decode()
    with time_machine.travel(start + 62, tick=False):  # after a wrong code, django-otp waits a second
        right = client.post("/login/verify", {"code": totp(secret), "next": "/contacts/"})
        assert right.url == "/contacts/"
        assert client.get("/contacts/").status_code == 200


def test_a_recovery_code_works_once(shop):
    _org, _anna, luca = shop
    _secret, codes = enrol(login(luca))

    first = login(luca)
    assert first.post("/login/verify", {"code": codes[0]}).status_code == 302
    assert first.get("/").status_code == 200
    again = login(luca)
    assert again.post("/login/verify", {"code": codes[0]}).status_code == 400
    used = AuditEntry.objects.get(action=AuditAction.RECOVERY_CODE_USED, actor=luca)
    assert used.data == {"remaining": 9}


def test_wrong_codes_are_throttled(shop):
    _org, _anna, luca = shop
    start = time.time()
    with time_machine.travel(start, tick=False):
        secret, _codes = enrol(login(luca))
    with time_machine.travel(start + 60, tick=False):
        client = login(luca)
        for _ in range(3):
            client.post("/login/verify", {"code": "123456"})
        refused = client.post("/login/verify", {"code": totp(secret)})
        assert refused.status_code == 400
        assert "Troppi codici sbagliati" in refused.content.decode()
    with time_machine.travel(start + 600, tick=False):
        assert client.post("/login/verify", {"code": totp(secret)}).status_code == 302


def test_the_organisation_can_require_it_for_admins(shop):
    _org, anna, luca = shop
    do_save_privacy_settings(anna, two_factor="admins")

    admin = login(anna)
    assert admin.get("/").url == "/settings/two-factor"
    assert "La tua organizzazione richiede" in admin.get("/settings/two-factor").content.decode()
    assert login(luca).get("/").status_code == 200  # agents may choose
    start = time.time()
    with time_machine.travel(start, tick=False):
        secret, _codes = enrol(admin)
        assert admin.get("/").status_code == 200
    # It cannot be turned off while required.
    with time_machine.travel(start + 60, tick=False):
        off = admin.post("/settings/two-factor", {"action": "disable", "code": totp(secret)})
        assert off.status_code == 400


def test_an_agent_may_turn_it_off_with_a_current_code(shop):
    _org, anna, luca = shop
    start = time.time()
    with time_machine.travel(start, tick=False):
        secret, _codes = enrol(login(luca))
    with time_machine.travel(start + 60, tick=False):
        client = login(luca)
        client.post("/login/verify", {"code": totp(secret)})
    with time_machine.travel(start + 120, tick=False):
        assert client.post("/settings/two-factor", {"action": "disable", "code": totp(secret)}).status_code == 302
    assert login(luca).get("/").status_code == 200
    assert AgentApi(anna).get("/audit", action="two_factor_disabled").json()["count"] == 1


def test_an_admin_resets_a_colleagues_lost_phone(shop):
    _org, anna, luca = shop
    enrol(login(luca))
    stranger = make_agent(make_org("Altra"), "Paolo", role=Role.ADMIN)
    from adesso.lib.errors import ActionError
    from adesso.twofactor.actions import confirmed_device, do_reset

    with pytest.raises(ActionError):
        do_reset(stranger, luca)
    do_reset(anna, luca)

    assert confirmed_device(luca) is None
    assert login(luca).get("/").status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.TWO_FACTOR_DISABLED, object_code=luca.code)
    assert entry.actor == anna
