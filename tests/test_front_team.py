"""The team page, presence in the top bar, and the automatic messages' wording page."""

import pytest

from adesso.accounts.models import Presence, User
from adesso.autoreply.models import AutoReplyTemplate
from adesso.routing.actions import do_set_presence
from tests.builders import customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def login(client, agent):
    client.force_login(agent)
    return client


def test_presence_from_the_top_bar(client):
    org = make_org(auto_assign=True)
    agent = make_agent(org)
    login(client, agent)
    page = client.get("/")
    assert b'id="presence-select"' in page.content
    r = client.post("/presence", {"presence": "online", "next": "/silence"})
    assert r.status_code == 302 and r["Location"] == "/silence"
    assert User.objects.get(pk=agent.pk).presence == Presence.ONLINE
    r = client.post("/presence", {"presence": "asleep", "next": "https://evil.example/"}, follow=True)
    assert r.redirect_chain[0][0] == "/"
    assert "Presence must be" in r.content.decode() or "presenza" in r.content.decode().lower()
    assert User.objects.get(pk=agent.pk).presence == Presence.ONLINE


def test_team_page_shows_load_and_queue_and_supervisors_edit_routing(client):
    org = make_org(auto_assign=True)
    ch = make_api_channel(org)
    agent, boss = make_agent(org, "Giulia"), make_agent(org, "Capo", role="supervisor")
    agent.capacity = 1
    agent.save()
    do_set_presence(agent, Presence.ONLINE)
    customer_writes(ch, "Primo", sender_id="a")
    customer_writes(ch, "Secondo in coda", sender_id="b")
    page = login(client, agent).get("/team").content.decode()
    assert "Giulia" in page and "Secondo in coda" in page and 'name="capacity"' not in page
    r = client.post(f"/team/{agent.code}", {"capacity": "3"})
    assert User.objects.get(pk=agent.pk).capacity == 1  # agents cannot
    login(client, boss)
    page = client.get("/team").content.decode()
    assert 'name="capacity"' in page
    r = client.post(f"/team/{agent.code}", {"capacity": "3", "languages": "it, en", "skills": "resi; fatture"})
    assert r.status_code == 302
    saved = User.objects.get(pk=agent.pk)
    assert (saved.capacity, saved.languages, saved.skills) == (3, ["en", "it"], ["fatture", "resi"])
    r = client.post(f"/team/{agent.code}", {"capacity": "tanti"}, follow=True)
    assert User.objects.get(pk=agent.pk).capacity == 3


def test_autoreplies_page_is_for_admins_and_validates(client):
    org = make_org()
    admin, agent = make_agent(org, "Admin", role="admin"), make_agent(org)
    assert login(client, agent).get("/settings/autoreplies").status_code == 403
    login(client, admin)
    page = client.get("/settings/autoreplies").content.decode()
    assert "Maria" in page  # the preview with a sample name
    r = client.post("/settings/autoreplies", {"purpose": "ack", "language": "it", "text": "Ciao {nome}"})
    assert r.status_code == 400 and "{nome}" in r.content.decode()
    r = client.post("/settings/autoreplies", {"purpose": "ack", "language": "it",
                                               "text": "Ciao {name}, ti rispondiamo entro {estimate}."})
    assert r.status_code == 302
    assert AutoReplyTemplate.objects.get(organization=org, purpose="ack", language="it").text.startswith("Ciao {name}")
