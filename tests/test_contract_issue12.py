"""Issue 12's contract as an outside acceptance checker uses it.

Found by the contract audit of session 6: an empty text's sentiment was "negative"
(the encoder read "." for it), and the survey question an api channel's webhook
receives did not say it was automatic nor carry its scale, so the client system could
neither tell it from an agent's reply nor show buttons.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from adesso.accounts.models import Role
from adesso.channels.actions import do_create_channel
from adesso.channels.pipeline import do_process_events
from tests.builders import AgentApi, ApiChannel, inbound_payload, make_agent, make_org, post_inbound

pytestmark = pytest.mark.django_db


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.server.hits.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))  # type: ignore[attr-defined]
        body = b'{"id": "crm-1"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def crm():
    """The company's system behind an api channel: records what Adesso posts to it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.daemon_threads = True
    server.hits = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_sentiment_answers_in_order_and_an_empty_text_is_neutral():
    giulia = AgentApi(make_agent(make_org(), "Giulia"))
    texts = [
        "",
        "Servizio eccellente, torta buonissima!",
        "   ",
        "https://example.com/ordine/42 @pasticceria",
        "Terrible service, the cake arrived broken.",
    ]

    r = giulia.post("/insights/sentiment", {"texts": texts})

    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["label"] for x in results] == ["neutral", "positive", "neutral", "neutral", "negative"]
    assert [results[i]["score"] for i in (0, 2, 3)] == [0.0, 0.0, 0.0]
    assert results[1]["score"] > 0 > results[4]["score"]

    assert giulia.post("/insights/sentiment", {"texts": ["ok"] * 1001}).status_code == 422
    assert giulia.post("/insights/sentiment", {"texts": []}).status_code == 422
    assert giulia.post("/insights/sentiment", {"texts": "ciao"}).status_code == 422
    assert giulia.post("/insights/sentiment", {"texts": ["ciao"], "language": "de"}).status_code == 422


def test_the_survey_reaches_the_api_channels_webhook_as_an_automatic_question_with_its_scale(
    crm, django_capture_on_commit_callbacks
):
    org = make_org(surveys=True)
    giulia = AgentApi(make_agent(org, "Giulia", role=Role.ADMIN))
    url = f"http://127.0.0.1:{crm.server_port}/hooks/adesso"
    channel, token = do_create_channel(org, "api", "CRM", {"webhook_url": url})
    ch = ApiChannel(channel, token)
    client = Client()

    def customer(text: str) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            r = post_inbound(
                client, ch, inbound_payload(sender_id="elena", text=text, sender={"name": "Elena Fontana"})
            )
            assert r.status_code == 202, r.content
            do_process_events()
        state = client.get(f"{ch.url}/events/{r.json()['event']}", headers={"Authorization": f"Bearer {token}"})
        return str(state.json()["conversation"])

    code = customer("Buongiorno, posso ordinare una torta per domenica?")
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            giulia.post(f"/conversations/{code}/messages", {"text": "Certo, per domenica va benissimo."}).status_code
            == 201
        )
    with django_capture_on_commit_callbacks(execute=True):
        resolved = giulia.post(f"/conversations/{code}/status", {"status": "resolved"})
    assert resolved.json()["survey"] == {"kind": "csat", "score": None, "reason": None, "state": "sent"}

    reply, question = crm.hits[-2:]
    assert "auto" not in reply and "survey" not in reply
    assert question["auto"] is True
    assert question["survey"] == {"kind": "csat", "low": 1, "high": 5}
    assert "Rispondi con un numero da 1 a 5" in question["text"]

    customer("2")
    follow_up = crm.hits[-1]
    assert follow_up["auto"] is True and "survey" not in follow_up
    customer("Ho dovuto chiamare tre volte per avere una risposta")
    detail = giulia.get(f"/conversations/{code}").json()
    assert detail["survey"] == {
        "kind": "csat",
        "score": 2,
        "reason": "Ho dovuto chiamare tre volte per avere una risposta",
        "state": "reasoned",
    }
    assert [e["kind"] for e in detail["events"] if e["kind"].startswith("survey_")] == [
        "survey_sent",
        "survey_answered",
        "survey_reason",
    ]
