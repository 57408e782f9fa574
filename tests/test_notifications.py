"""Agents hear about conversations given to them and SLA warnings, in the page and the API."""

import datetime as dt

import pytest

from adesso.accounts.models import Presence
from adesso.conversations.actions import do_assign
from adesso.conversations.models import Conversation
from adesso.notifications.models import Notification
from adesso.routing.actions import do_set_presence
from adesso.sla.actions import do_check_sla
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def test_routing_transfers_and_sla_warnings_notify_the_right_people(client):
    org = make_org(auto_assign=True)
    ch = make_api_channel(org)
    giulia, marco = make_agent(org, "Giulia"), make_agent(org, "Marco")
    make_agent(org, "Capo", role="supervisor")
    do_set_presence(giulia, Presence.ONLINE)
    c = Conversation.objects.get(code=customer_writes(ch, "Aiuto")["conversation"])
    assert list(Notification.objects.filter(user=giulia).values_list("kind", flat=True)) == ["assigned"]
    do_assign(giulia, c, marco, note="Ci pensi tu al reso?")
    transferred = Notification.objects.get(user=marco)
    assert transferred.kind == "transferred" and transferred.data["note"] == "Ci pensi tu al reso?"
    # Taking a conversation yourself tells nobody.
    do_set_presence(giulia, Presence.OFFLINE)
    other = Conversation.objects.get(code=customer_writes(ch, "Altro", sender_id="x")["conversation"])
    assert other.assignee_id is None
    do_assign(marco, other, marco)
    assert Notification.objects.filter(user=marco).count() == 1
    # 90 % of the hour: the assignee and the supervisors hear of it.
    c.refresh_from_db()
    do_check_sla(c.created_at + dt.timedelta(minutes=55))
    warned = set(Notification.objects.filter(kind="sla_warning", conversation=c).values_list("user__name", flat=True))
    assert {"Marco", "Capo"} <= warned
    assert "Giulia" not in warned
    # The bell, the page, the API.
    client.force_login(marco)
    page = client.get("/").content.decode()
    assert 'class="bell-count"' in page
    listing = client.get("/notifications").content.decode()
    assert "Ci pensi tu al reso?" in listing
    api = AgentApi(marco)
    body = api.get("/notifications", unread="true").json()
    assert body["unread"] >= 2 and {i["kind"] for i in body["items"]} >= {"transferred", "sla_warning"}
    first = body["items"][-1]["id"]
    r = client.post(f"/notifications/{first}/read")
    assert r.status_code == 302 and r["Location"] == f"/c/{c.code}/"
    assert api.post("/notifications/read", {}).json()["marked"] == body["unread"] - 1
    assert api.get("/notifications", unread="true").json()["unread"] == 0
    # Someone else's notification is not yours to read.
    giulias = Notification.objects.filter(user=giulia).first()
    assert client.post(f"/notifications/{giulias.pk}/read").status_code == 404
