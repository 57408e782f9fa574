"""Administration (admins): invitations, roles, deactivation, teams; in the API and the UI."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from adesso.accounts.actions import do_accept_invitation, do_invite_agent
from adesso.accounts.models import Invitation, Role, TeamMembership, User
from adesso.conversations.actions import do_assign, do_change_status, do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent, Message
from adesso.lib.errors import ActionError
from adesso.sla.actions import do_check_sla
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org, make_team

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "panettone-al-forno-42"


def secret_of(accept_url: str) -> str:
    return accept_url.rstrip("/").rsplit("/", 1)[1]


def accept(client: Client, accept_url: str, password: str = NEW_PASSWORD, again: str | None = None):
    path = accept_url.split("://", 1)[1].split("/", 1)[1]
    return client.post(f"/{path}", {"password": password, "password2": again or password, "name": ""})


def test_admin_invites_and_the_invited_agent_sets_a_password_and_is_logged_in(django_capture_on_commit_callbacks):
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)

    with django_capture_on_commit_callbacks(execute=True):
        r = AgentApi(francesca).post(
            "/agents/invitations", {"email": "Luca@Example.com", "name": "Luca Verdi", "role": "supervisor"}
        )

    assert r.status_code == 201, r.content
    body = r.json()
    assert body["email"] == "luca@example.com"
    assert body["role"] == "supervisor"
    assert body["state"] == "pending"
    assert body["accept_url"].startswith("http://127.0.0.1:8000/invite/inv_")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["luca@example.com"]
    assert body["accept_url"] in mail.outbox[0].body
    client = Client()
    page = client.get(body["accept_url"].split("8000", 1)[1])
    assert page.status_code == 200
    assert "luca@example.com" in page.content.decode()
    r = accept(client, body["accept_url"])
    assert r.status_code == 302
    assert r["Location"] == "/"
    assert client.get("/").status_code == 200
    luca = User.objects.get(email="luca@example.com")
    assert (luca.organization, luca.role, luca.name) == (org, Role.SUPERVISOR, "Luca Verdi")
    assert luca.check_password(NEW_PASSWORD)
    assert Client().login(username="luca@example.com", password=NEW_PASSWORD)
    listed = AgentApi(francesca).get("/agents/invitations").json()
    assert [(i["email"], i["state"]) for i in listed] == [("luca@example.com", "accepted")]


def test_an_invitation_works_once():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    url = (
        AgentApi(francesca)
        .post("/agents/invitations", {"email": "luca@example.com", "name": "Luca", "role": "agent", "language": "en"})
        .json()["accept_url"]
    )
    assert accept(Client(), url).status_code == 302

    again = accept(Client(), url, password="un-altra-password-77")

    assert again.status_code == 410
    assert "already used" in again.content.decode()
    with pytest.raises(ActionError) as exc:
        do_accept_invitation(secret_of(url), "un-altra-password-77")
    assert exc.value.code == "invitation_used"
    assert User.objects.get(email="luca@example.com").check_password(NEW_PASSWORD)


def test_an_expired_invitation_is_refused():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    _invitation, secret = do_invite_agent(francesca, "luca@example.com", "Luca")

    with time_machine.travel(timezone.now() + dt.timedelta(days=7, minutes=1)):
        page = Client().get(f"/invite/{secret}")
        with pytest.raises(ActionError) as exc:
            do_accept_invitation(secret, NEW_PASSWORD)

    assert page.status_code == 410
    assert exc.value.code == "invitation_expired"
    assert not User.objects.filter(email="luca@example.com").exists()


def test_a_weak_or_mistyped_password_is_refused_and_the_link_still_works():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    _invitation, secret = do_invite_agent(francesca, "luca@example.com", "Luca", language="en")
    client = Client()

    short = client.post(f"/invite/{secret}", {"password": "abc", "password2": "abc"})
    differ = client.post(f"/invite/{secret}", {"password": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    common = client.post(f"/invite/{secret}", {"password": "password123", "password2": "password123"})

    assert short.status_code == differ.status_code == common.status_code == 400
    assert "too short" in short.content.decode()
    assert "differ" in differ.content.decode()
    assert "too common" in common.content.decode()
    assert not User.objects.filter(email="luca@example.com").exists()
    assert accept(client, f"http://x/invite/{secret}").status_code == 302


def test_an_unknown_link_is_404_and_a_new_invitation_replaces_the_pending_one():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    _first, old = do_invite_agent(francesca, "luca@example.com")
    _second, new = do_invite_agent(francesca, "luca@example.com")

    assert Client().get("/invite/inv_nope").status_code == 404
    assert Client().get(f"/invite/{old}").status_code == 410
    assert Client().get(f"/invite/{new}").status_code == 200


def test_inviting_someone_who_has_an_account_is_a_conflict():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    giulia = make_agent(org, "Giulia")
    api = AgentApi(francesca)

    taken = api.post("/agents/invitations", {"email": giulia.email, "name": "", "role": "agent"})
    bad = api.post("/agents/invitations", {"email": "not-an-address", "name": "", "role": "agent"})
    role = api.post("/agents/invitations", {"email": "a@example.com", "name": "", "role": "boss"})

    assert taken.status_code == 409
    assert taken.json()["error"] == "already_agent"
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_email"
    assert role.status_code == 422


def test_agents_and_supervisors_cannot_administer():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    team = make_team(org, "Assistenza", [francesca])
    invitation, _secret = do_invite_agent(francesca, "luca@example.com")
    for role in (Role.AGENT, Role.SUPERVISOR):
        api = AgentApi(make_agent(org, "Giulia", role=role))
        attempts = [
            api.post("/agents/invitations", {"email": "x@example.com", "name": "", "role": "admin"}),
            api.get("/agents/invitations"),
            api.post(f"/agents/invitations/{invitation.code}/revoke"),
            api.get("/agents/all"),
            api.send("put", f"/agents/{francesca.code}/role", '{"role": "agent"}'),
            api.post(f"/agents/{francesca.code}/deactivate"),
            api.post(f"/agents/{francesca.code}/reactivate"),
            api.post("/teams", {"name": "Nuovo"}),
            api.patch(f"/teams/{team.code}", {"name": "Altro"}),
            api.send("put", f"/teams/{team.code}/members", '{"members": []}'),
            api.send("delete", f"/teams/{team.code}"),
        ]
        assert [r.status_code for r in attempts] == [403] * len(attempts)
        assert {r.json()["error"] for r in attempts} == {"forbidden"}
        client = Client()
        client.force_login(api.agent)
        pages = [
            client.get("/settings/agents"),
            client.get("/settings/teams"),
            client.post("/settings/agents", {"email": "y@example.com"}),
            client.post(f"/settings/agents/{francesca.code}/active", {"active": "0"}),
        ]
        assert [r.status_code for r in pages] == [403] * len(pages)
    assert Invitation.objects.count() == 1
    assert User.objects.get(pk=francesca.pk).is_active


def test_another_organisation_sees_none_of_it():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    giulia = make_agent(org, "Giulia")
    team = make_team(org, "Assistenza", [giulia])
    invitation, _secret = do_invite_agent(francesca, "luca@example.com")
    other = AgentApi(make_agent(make_org("Gelateria"), "Paolo", role=Role.ADMIN))

    attempts = [
        other.post(f"/agents/invitations/{invitation.code}/revoke"),
        other.send("put", f"/agents/{giulia.code}/role", '{"role": "admin"}'),
        other.post(f"/agents/{giulia.code}/deactivate"),
        other.get(f"/teams/{team.code}"),
        other.patch(f"/teams/{team.code}", {"name": "Mia"}),
        other.send("delete", f"/teams/{team.code}"),
    ]

    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert other.get("/agents/invitations").json() == []
    assert [a["code"] for a in other.get("/agents/all").json()] == [other.agent.code]
    assert other.get("/teams").json() == []
    own = make_agent(other.agent.organization, "Anna")
    members = other.send(
        "put",
        f"/teams/{make_team(other.agent.organization, 'Loro', []).code}/members",
        f'{{"members": ["{own.code}", "{giulia.code}"]}}',
    )
    assert members.status_code == 404
    assert User.objects.get(pk=giulia.pk).role == Role.AGENT


def test_deactivating_requeues_open_conversations_and_blocks_login_and_tokens():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    giulia = make_agent(org, "Giulia")
    token_api = AgentApi(giulia)
    ch = make_api_channel(org)
    waiting = Conversation.objects.get(code=customer_writes(ch, "Il mio ordine?", sender_id="a")["conversation"])
    answered = Conversation.objects.get(code=customer_writes(ch, "Grazie!", sender_id="b")["conversation"])
    pending = Conversation.objects.get(code=customer_writes(ch, "Vi mando la foto", sender_id="c")["conversation"])
    for conversation in (waiting, answered, pending):
        do_assign(francesca, conversation, giulia)
    do_send_reply(giulia, answered, "Ciao, ecco il numero di spedizione.")
    do_send_reply(giulia, pending, "Aspetto la foto, grazie.")
    do_change_status(giulia, pending, "pending")

    r = AgentApi(francesca).post(f"/agents/{giulia.code}/deactivate")

    assert r.status_code == 200, r.content
    assert r.json()["is_active"] is False
    for conversation in (waiting, answered, pending):
        conversation.refresh_from_db()
        assert conversation.assignee_id is None
        assert ConversationEvent.objects.filter(
            conversation=conversation, kind="assigned", data__from=giulia.code, data__to=None
        ).exists()
    assert waiting.queued_at is not None
    assert answered.queued_at is not None
    assert pending.queued_at is None
    assert Message.objects.filter(author=giulia).count() == 2
    assert not Client().login(username=giulia.email, password=PASSWORD)
    assert token_api.get("/me").status_code == 401
    giulia.refresh_from_db()
    assert giulia.presence == "offline"

    back = AgentApi(francesca).post(f"/agents/{giulia.code}/reactivate")

    assert back.json()["is_active"] is True
    assert Client().login(username=giulia.email, password=PASSWORD)
    assert token_api.get("/me").status_code == 200


def test_a_logged_in_agent_is_logged_out_when_deactivated():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    giulia = make_agent(org, "Giulia")
    client = Client()
    client.force_login(giulia)
    assert client.get("/").status_code == 200

    AgentApi(francesca).post(f"/agents/{giulia.code}/deactivate")

    assert client.get("/").status_code == 302


def test_roles_change_and_the_last_admin_stays():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    giulia = make_agent(org, "Giulia")
    api = AgentApi(francesca)

    promoted = api.send("put", f"/agents/{giulia.code}/role", '{"role": "supervisor"}')
    last = api.send("put", f"/agents/{francesca.code}/role", '{"role": "agent"}')
    myself = api.post(f"/agents/{francesca.code}/deactivate")

    assert promoted.status_code == 200
    assert promoted.json()["role"] == "supervisor"
    assert last.status_code == 400
    assert last.json()["error"] == "last_admin"
    assert myself.status_code == 400
    assert myself.json()["error"] == "self"
    assert User.objects.get(pk=giulia.pk).role == Role.SUPERVISOR
    assert User.objects.get(pk=francesca.pk).role == Role.ADMIN


def test_teams_are_created_renamed_given_members_and_supervisors_and_deleted():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    giulia = make_agent(org, "Giulia")
    sarah = make_agent(org, "Sarah", role=Role.SUPERVISOR)
    api = AgentApi(francesca)

    created = api.post("/teams", {"name": "Spedizioni"})
    code = created.json()["code"]
    duplicate = api.post("/teams", {"name": "spedizioni"})
    renamed = api.patch(f"/teams/{code}", {"name": "Ordini e spedizioni"})
    members = api.send(
        "put", f"/teams/{code}/members", f'{{"members": ["{giulia.code}"], "supervisors": ["{sarah.code}"]}}'
    )
    not_supervisor = api.send("put", f"/teams/{code}/members", f'{{"members": [], "supervisors": ["{giulia.code}"]}}')

    assert created.status_code == 201
    assert duplicate.status_code == 409
    assert renamed.json()["name"] == "Ordini e spedizioni"
    assert members.status_code == 200
    assert [(m["name"], m["supervisor"]) for m in members.json()["members"]] == [("Giulia", False), ("Sarah", True)]
    assert not_supervisor.status_code == 400
    assert not_supervisor.json()["error"] == "invalid_supervisor"
    assert AgentApi(giulia).get(f"/teams/{code}").json()["name"] == "Ordini e spedizioni"
    assert [t["name"] for t in AgentApi(giulia).get("/teams").json()] == ["Ordini e spedizioni"]
    assert api.send("delete", f"/teams/{code}").status_code == 204
    assert api.get("/teams").json() == []
    assert not TeamMembership.objects.exists()


def test_the_agents_page_invites_and_shows_the_link_in_italian_and_english(django_capture_on_commit_callbacks):
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN, language="it")
    make_agent(org, "Giulia")
    client = Client()
    client.force_login(francesca)

    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/settings/agents",
            {"email": "luca@example.com", "name": "Luca", "role": "agent", "language": "en"},
            follow=True,
        )

    html = r.content.decode()
    assert "Invita un operatore" in html
    assert "Invito inviato a luca@example.com" in html
    link = re.search(r'id="invitation-link" readonly value="([^"]+)"', html)
    assert link is not None
    assert link.group(1).startswith("http://testserver/invite/inv_")
    assert "invites you to" in mail.outbox[0].subject  # the invitee's language
    assert link.group(1) in mail.outbox[0].body
    francesca.language = "en"
    francesca.save(update_fields=["language"])
    english = client.get("/settings/agents").content.decode()
    assert "Invite an agent" in english
    assert "Giulia" in english
    assert client.get(link.group(1).replace("http://testserver", "")).status_code == 200


def test_the_teams_page_saves_members_and_supervisors():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN, language="en")
    giulia = make_agent(org, "Giulia")
    client = Client()
    client.force_login(francesca)
    client.post("/settings/teams", {"name": "Assistenza"})
    team = org.teams.get()

    r = client.post(
        f"/settings/teams/{team.code}",
        {"name": "Assistenza clienti", "members": [giulia.code], "supervisors": [francesca.code]},
        follow=True,
    )

    assert "Team Assistenza clienti saved." in r.content.decode()
    team.refresh_from_db()
    assert team.name == "Assistenza clienti"
    assert sorted(TeamMembership.objects.filter(team=team).values_list("user__name", "is_supervisor")) == [
        ("Francesca", True),
        ("Giulia", False),
    ]


def test_a_breach_in_a_team_notifies_the_supervisors_the_admin_chose():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN)
    sarah = make_agent(org, "Sarah", role=Role.SUPERVISOR)
    paolo = make_agent(org, "Paolo", role=Role.SUPERVISOR)
    team = make_team(org, "Spedizioni", [])
    api = AgentApi(francesca)
    api.send("put", f"/teams/{team.code}/members", f'{{"members": ["{paolo.code}"], "supervisors": ["{sarah.code}"]}}')
    ch = make_api_channel(org)
    conversation = Conversation.objects.get(code=customer_writes(ch)["conversation"])
    do_assign(francesca, conversation, None, team)

    do_check_sla(timezone.now() + dt.timedelta(hours=2))

    breach = ConversationEvent.objects.get(conversation=conversation, kind="sla_breached")
    assert breach.data["notify"] == [sarah.code]


def test_the_agents_page_changes_roles_deactivates_reactivates_and_revokes():
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN, language="en")
    giulia = make_agent(org, "Giulia")
    _invitation, secret = do_invite_agent(francesca, "luca@example.com")
    invitation = Invitation.objects.get()
    client = Client()
    client.force_login(francesca)

    role = client.post(f"/settings/agents/{giulia.code}/role", {"role": "supervisor"}, follow=True)
    off = client.post(f"/settings/agents/{giulia.code}/active", {"active": "0"}, follow=True)
    giulia.refresh_from_db()
    was_active = giulia.is_active
    on = client.post(f"/settings/agents/{giulia.code}/active", {"active": "1"}, follow=True)
    revoked = client.post(f"/settings/invitations/{invitation.code}/revoke", follow=True)

    assert "Giulia is now supervisor." in role.content.decode()
    assert "Giulia was deactivated" in off.content.decode()
    assert was_active is False
    assert "Giulia can log in again." in on.content.decode()
    assert "no longer works" in revoked.content.decode()
    giulia.refresh_from_db()
    assert (giulia.role, giulia.is_active) == (Role.SUPERVISOR, True)
    assert Client().get(f"/invite/{secret}").status_code == 410
