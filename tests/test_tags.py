"""Tags on conversations: the actions, the API (tags on the object, POST/DELETE
/conversations/{code}/tags, ?tag= on the list, GET /tags), the conversation page, the
inbox filter and the count by tag in reports; organisations never see each other's."""

import pytest
from django.test import Client
from django.utils import timezone

from adesso.conversations.models import Conversation, ConversationEvent, Tag
from adesso.conversations.tagging import do_tag, do_untag
from adesso.lib.errors import ActionError
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def conversation(ch, sender_id="cust-1", text="Buongiorno, il mio ordine?"):
    return Conversation.objects.get(code=customer_writes(ch, text, sender_id=sender_id)["conversation"])


def events(c, kind):
    return list(ConversationEvent.objects.filter(conversation=c, kind=kind).values_list("data", flat=True))


def logged_in(agent):
    client = Client()
    client.force_login(agent)
    return client


def test_tagging_normalises_creates_the_tag_once_and_records_each_change():
    org = make_org()
    giulia = make_agent(org, "Giulia")
    ch = make_api_channel(org)
    first, second = conversation(ch, "a"), conversation(ch, "b")

    tag = do_tag(giulia, first, "  Rimborso   Urgente ")
    do_tag(giulia, second, "rimborso urgente")
    do_tag(giulia, first, "RIMBORSO URGENTE")  # already there: nothing recorded

    assert tag.name == "rimborso urgente"
    assert Tag.objects.filter(organization=org).count() == 1
    first.refresh_from_db()
    assert first.tag_names == ["rimborso urgente"]
    assert events(first, "tagged") == [{"tag": "rimborso urgente"}]

    do_tag(giulia, first, "vip")
    assert Conversation.objects.get(pk=first.pk).tag_names == ["rimborso urgente", "vip"]
    assert do_untag(giulia, first, "Rimborso Urgente") is True
    assert do_untag(giulia, first, "rimborso urgente") is False
    assert Conversation.objects.get(pk=first.pk).tag_names == ["vip"]
    assert events(first, "untagged") == [{"tag": "rimborso urgente"}]
    assert list(second.tags.values_list("name", flat=True)) == ["rimborso urgente"]


@pytest.mark.parametrize("bad", ["", "   ", "a,b", "<b>x</b>", "x" * 41])
def test_a_tag_that_cannot_be_a_tag_is_refused(bad):
    org = make_org()
    giulia = make_agent(org, "Giulia")
    c = conversation(make_api_channel(org))
    with pytest.raises(ActionError) as refused:
        do_tag(giulia, c, bad)
    assert refused.value.code == "invalid_tag"
    assert not Tag.objects.exists()


def test_api_adds_and_removes_tags_and_lists_them_on_the_conversation():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    ch = make_api_channel(org)
    code = customer_writes(ch)["conversation"]

    r = giulia.post(f"/conversations/{code}/tags", {"tag": "Reso"})
    assert r.status_code == 200, r.content
    assert r.json()["tags"] == ["reso"]
    giulia.post(f"/conversations/{code}/tags", {"tag": "vip"})
    assert giulia.get(f"/conversations/{code}").json()["tags"] == ["reso", "vip"]
    assert giulia.get("/tags").json() == [{"name": "reso"}, {"name": "vip"}]

    r = giulia.send("delete", f"/conversations/{code}/tags", '{"tag": "reso"}')
    assert r.status_code == 200, r.content
    assert r.json()["tags"] == ["vip"]
    assert [e["kind"] for e in giulia.get(f"/conversations/{code}").json()["events"]][-3:] == [
        "tagged",
        "tagged",
        "untagged",
    ]

    r = giulia.post(f"/conversations/{code}/tags", {"tag": "a,b"})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_tag"
    assert giulia.post(f"/conversations/{code}/tags", {}).status_code == 422


def test_api_list_filters_by_tag():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    ch = make_api_channel(org)
    tagged = customer_writes(ch, sender_id="a")["conversation"]
    customer_writes(ch, sender_id="b")
    giulia.post(f"/conversations/{tagged}/tags", {"tag": "reso"})

    listed = giulia.get("/conversations", tag="Reso").json()
    assert [c["code"] for c in listed["items"]] == [tagged]
    assert listed["items"][0]["tags"] == ["reso"]
    assert giulia.get("/conversations", tag="nessuno").json()["count"] == 0
    assert giulia.get("/conversations").json()["count"] == 2


def test_another_organisations_conversations_and_tags_stay_out_of_reach():
    ours, theirs = make_org(), make_org("Ferramenta Verdi")
    giulia = AgentApi(make_agent(ours, "Giulia"))
    luca = AgentApi(make_agent(theirs, "Luca"))
    their_code = customer_writes(make_api_channel(theirs))["conversation"]
    luca.post(f"/conversations/{their_code}/tags", {"tag": "segreto"})

    assert giulia.post(f"/conversations/{their_code}/tags", {"tag": "mio"}).status_code == 404
    assert giulia.send("delete", f"/conversations/{their_code}/tags", '{"tag": "segreto"}').status_code == 404
    assert giulia.get("/tags").json() == []
    assert giulia.get("/conversations", tag="segreto").json()["count"] == 0
    assert Conversation.objects.get(code=their_code).tag_names == ["segreto"]
    assert logged_in(giulia.agent).post(f"/c/{their_code}/tags", {"tag": "mio"}).status_code == 404


def test_conversation_page_adds_and_removes_a_tag_and_the_timeline_says_so():
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    c = conversation(make_api_channel(org))
    client = logged_in(giulia)

    r = client.post(f"/c/{c.code}/tags", {"tag": "Reso"})
    assert r.status_code == 302
    page = client.get(f"/c/{c.code}/").content.decode()
    assert '<li class="tag">reso' in page
    assert "Giulia added the tag reso" in page

    client.post(f"/c/{c.code}/tags/remove", {"tag": "reso"})
    page = client.get(f"/c/{c.code}/").content.decode()
    assert '<li class="tag">reso' not in page
    assert "Giulia removed the tag reso" in page
    assert "No tags yet." in page

    r = client.post(f"/c/{c.code}/tags", {"tag": "<b>"}, follow=True)
    assert "A tag is up to 40 letters" in r.content.decode()


def test_inbox_filters_by_tag_and_shows_the_tags():
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    ch = make_api_channel(org)
    tagged, other = conversation(ch, "a", "Reso del frullatore"), conversation(ch, "b", "Fattura")
    do_tag(giulia, tagged, "reso")
    client = logged_in(giulia)

    html = client.get("/", {"tag": "reso"}).content.decode()
    assert tagged.code in html and other.code not in html
    assert '<span class="tag">reso</span>' in html
    assert '<option value="reso" selected>reso</option>' in html
    both = client.get("/").content.decode()
    assert tagged.code in both and other.code in both
    partial = client.get("/inbox/list", {"tag": "reso"}).content.decode()
    assert tagged.code in partial and other.code not in partial
    tabs = client.get("/inbox/tabs", {"tag": "reso"}).content.decode()
    assert '<span class="count">1</span>' in tabs


def test_reports_count_conversations_by_tag():
    org = make_org()
    sara = make_agent(org, "Sara", role="supervisor", language="en")
    ch = make_api_channel(org)
    a, b, c = conversation(ch, "a"), conversation(ch, "b"), conversation(ch, "c")
    for conv in (a, b):
        do_tag(sara, conv, "reso")
    do_tag(sara, c, "fattura")
    do_tag(sara, a, "vip")
    Conversation.objects.filter(pk=b.pk).update(status="resolved")
    today = timezone.localdate().isoformat()

    data = AgentApi(sara).get("/reports", **{"from": today, "to": today}).json()
    assert data["tags"] == [
        {"tag": "reso", "conversations": 2, "unresolved": 1},
        {"tag": "fattura", "conversations": 1, "unresolved": 1},
        {"tag": "vip", "conversations": 1, "unresolved": 1},
    ]
    page = logged_in(sara).get("/reports/").content.decode()
    assert "Conversations by tag" in page
    assert 'href="/?status=all&amp;tag=reso"' in page
