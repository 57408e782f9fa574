"""The web chat's later features (issue 11): the page and language shown to the agent,
attachments both ways, the transcript by email, feedback buttons, a phone number."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from adesso.channels.webchat.models import VisitorPage
from adesso.conversations.models import Conversation
from tests.builders import make_agent, make_org
from tests.test_webchat import ELSEWHERE, SHOP, Visitor, connect

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run what the code leaves for after commit (the pipeline's task, deliveries)."""

    def run(action: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def post(visitor: Visitor, path: str, body: dict[str, Any]) -> Any:
    return visitor.client.post(
        f"/chat/{visitor.channel.code}/{path}",
        json.dumps(body),
        content_type="application/json",
        headers=visitor._headers(),
    )


def test_the_agent_sees_the_page_the_visitor_is_on_and_their_language(run):
    org = make_org()
    channel, _secret = connect(org)
    giulia = make_agent(org, "Giulia")
    mario = Visitor(channel)
    mario.start()
    first = post(mario, "page", {"url": SHOP + "/torte", "title": "Torte", "language": "it-IT"})
    run(mario.write, "Avete la torta senza glutine?", "e1")
    moved = post(mario, "page", {"url": SHOP + "/torte/sacher?x=1", "title": "Sacher  torte", "language": "it-IT"})

    assert first.status_code == 200 and moved.status_code == 200
    page = VisitorPage.objects.get()  # one row per visitor, updated in place
    assert (page.url, page.title, page.language) == (SHOP + "/torte/sacher?x=1", "Sacher torte", "it-IT")
    agent = Client()
    agent.force_login(giulia)
    html = agent.get(f"/c/{Conversation.objects.get().code}/").content.decode()
    assert f'href="{SHOP}/torte/sacher?x=1"' in html and ">Sacher torte</a>" in html
    assert "it-IT" in html


def test_a_page_of_another_site_or_without_a_token_is_refused_and_nothing_stored():
    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()

    other_site = post(mario, "page", {"url": ELSEWHERE + "/phish", "title": "Login"})
    script = post(mario, "page", {"url": "javascript:alert(1)"})
    mario.token = "forged"
    no_token = post(mario, "page", {"url": SHOP + "/torte"})
    mario.origin = ELSEWHERE
    foreign = post(mario, "page", {"url": ELSEWHERE + "/"})

    assert [r.status_code for r in (other_site, script, no_token, foreign)] == [422, 422, 401, 403]
    assert not VisitorPage.objects.exists()


def test_a_visitor_who_never_said_where_they_are_shows_no_page(run):
    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()
    run(mario.write, "Ciao", "e1")  # never said where it is: no fact, no error

    from adesso.channels.registry import get_kind

    assert get_kind("webchat").customer_facts(channel, Conversation.objects.get()) == []
