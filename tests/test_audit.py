"""The audit log: written by the actions, read by admins (page and GET /api/v1/audit)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from adesso.accounts.actions import do_change_role
from adesso.accounts.models import Role
from adesso.audit.models import AuditAction, AuditEntry
from adesso.contacts.models import Contact
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def logged_in(agent):
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def shop():
    org = make_org("Pasticceria Rossi")
    anna = make_agent(org, "Anna", role=Role.ADMIN)
    sara = make_agent(org, "Sara", role=Role.SUPERVISOR)
    luca = make_agent(org, "Luca")
    ch = make_api_channel(org)
    customer_writes(ch, "Buongiorno, la torta per sabato?", sender={"email": "mario.bianchi@example.net"})
    contact = Contact.objects.get(organization=org)
    return org, anna, sara, luca, contact


def test_export_views_erasures_and_role_changes_are_recorded_with_actor_and_time(shop):
    """Acceptance 5."""
    _org, anna, sara, luca, contact = shop
    before = timezone.now()
    sara_web = logged_in(sara)

    assert sara_web.get(f"/contacts/{contact.code}/export").status_code == 200
    download = sara_web.get(f"/contacts/{contact.code}/export.zip")
    assert download.status_code == 200
    b"".join(download.streaming_content)
    assert AgentApi(anna).post(f"/contacts/{contact.code}/erase").status_code == 200
    anna_api = AgentApi(anna)
    changed = anna_api.send("PUT", f"/agents/{luca.code}/role", '{"role": "supervisor"}')
    assert changed.status_code == 200, changed.content

    r = anna_api.get("/audit")
    assert r.status_code == 200, r.content
    items = r.json()["items"][:4]  # newest first; the channel's creation came before
    seen = [(i["action"], i["actor"], i["object_code"]) for i in reversed(items)]
    assert seen == [
        ("export_viewed", sara.code, contact.code),
        ("contact_exported", sara.code, contact.code),
        ("contact_erased", anna.code, contact.code),
        ("role_changed", anna.code, luca.code),
    ]
    role = items[0]
    assert role["data"] == {"before": "agent", "after": "supervisor"}
    assert role["actor_email"] == anna.email
    assert role["ip"] == "127.0.0.1"
    for item in items:
        assert before <= dt.datetime.fromisoformat(item["created_at"]) <= timezone.now()


def test_filters_by_actor_action_and_object_and_pages(shop):
    _org, anna, sara, luca, _contact = shop
    do_change_role(anna, luca, Role.SUPERVISOR)
    do_change_role(anna, luca, Role.AGENT)
    do_change_role(anna, sara, Role.AGENT)
    api = AgentApi(anna)

    by_object = api.get("/audit", object=luca.code).json()
    assert by_object["count"] == 2
    assert {i["object_code"] for i in by_object["items"]} == {luca.code}
    assert api.get("/audit", actor=anna.email).json()["count"] == 3
    assert api.get("/audit", actor=anna.code, action="role_changed").json()["count"] == 3
    assert api.get("/audit", actor=sara.code).json()["count"] == 0
    assert api.get("/audit", action="contact_erased").json()["count"] == 0
    page = api.get("/audit", action="role_changed", limit=2, offset=2).json()
    assert page["count"] == 3 and len(page["items"]) == 1
    assert api.get("/audit", action="no_such_action").status_code == 422


def test_only_admins_read_it_and_only_their_organisation(shop):
    _org, anna, sara, luca, _contact = shop
    do_change_role(anna, luca, Role.SUPERVISOR)
    other_admin = make_agent(make_org("Altra"), "Paolo", role=Role.ADMIN)

    assert AgentApi(sara).get("/audit").status_code == 403
    assert AgentApi(luca).get("/audit").status_code == 403
    assert AgentApi(other_admin).get("/audit").json()["count"] == 0
    assert logged_in(sara).get("/settings/audit").status_code == 403
    assert logged_in(other_admin).get("/settings/audit").status_code == 200


def test_the_page_lists_and_filters_in_italian(shop):
    _org, anna, _sara, luca, contact = shop
    do_change_role(anna, luca, Role.SUPERVISOR)
    logged_in(anna).post(f"/contacts/{contact.code}/edit", {"tier": "vip"})
    web = logged_in(anna)

    page = web.get("/settings/audit").content.decode()
    assert '<tr class="audit-role_changed">' in page and '<tr class="audit-contact_changed">' in page
    assert "<td>Ruolo cambiato</td>" in page and "<td>Contatto modificato</td>" in page
    filtered = web.get("/settings/audit", {"action": "role_changed"}).content.decode()
    assert "<td>Ruolo cambiato</td>" in filtered and "<td>Contatto modificato</td>" not in filtered
    assert f'href="/contacts/{contact.code}/"' in page


def test_contacts_channels_and_agents_changes_are_recorded(shop):
    org, anna, _sara, luca, contact = shop
    web = logged_in(anna)
    web.post(f"/contacts/{contact.code}/edit", {"notes": "preferisce il telefono"})
    web.post(f"/contacts/{contact.code}/consent", {"consent": "given", "consent_source": "modulo web"})
    make_api_channel(org, "App")
    web.post(f"/settings/agents/{luca.code}/active", {"active": "0"})

    actions = list(AuditEntry.objects.filter(organization=org).order_by("pk").values_list("action", "data"))
    assert (AuditAction.CONTACT_CHANGED, {"fields": ["notes"]}) in actions
    assert (AuditAction.CONSENT_CHANGED, {"consent": "given"}) in actions
    assert (AuditAction.CONTACT_CHANGED, {"fields": ["consent_source"]}) in actions
    assert any(a == AuditAction.CHANNEL_CREATED for a, _ in actions)
    # The log holds codes and field names, never the values (personal data).
    assert "preferisce" not in str(actions) and "modulo" not in str(actions)


def test_channel_edits_are_recorded_by_setting_name(shop):
    org, anna, _sara, _luca, _contact = shop
    from adesso.channels.actions import do_set_channel_enabled, do_update_channel

    channel = make_api_channel(org, "App").channel
    do_update_channel(channel, "App mobile", {})
    do_set_channel_enabled(anna, channel, False)

    entries = AuditEntry.objects.filter(object_code=channel.code).order_by("pk")
    assert [(e.action, e.data) for e in entries] == [
        (AuditAction.CHANNEL_CREATED, {"kind": "api"}),
        (AuditAction.CHANNEL_CHANGED, {"fields": ["name"]}),
        (AuditAction.CHANNEL_CHANGED, {"fields": ["is_enabled"]}),
    ]
    assert entries[2].actor == anna
