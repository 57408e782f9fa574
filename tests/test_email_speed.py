"""Issue 10, acceptance 2: mail that once froze the site. A 1 MB mail and a 12 KB one with
8,000 line breaks posted to a provider's webhook on the real server (granian with the
Procfile's web options: one worker, one thread), with a GET sent while the webhook is
in flight: the webhook answers in under 100 ms, the GET in under 200 ms; the worker
then makes a message of each in under 2 s. The best of three tries is held to the
figures, since the machine is shared; every try must stay far from being held.

Before the pipeline, the 12 KB mail held the only web thread for 17.3 s (quote
stripping in the request, quadratic) and the GET waited 16.8 s.
"""

from __future__ import annotations

import os
import threading
import time

import httpx
import pytest

from adesso.channels.actions import do_create_channel
from adesso.channels.models import InboundEvent
from adesso.conversations.models import Message
from tests.builders import make_org
from tests.support.mailintake import process_mail, receive_mail
from tests.support.mailservers import compose
from tests.support.servers import database_url, web_server
from tests.test_email_webhooks import SIGNING_KEY, mailgun_form

# The best of three tries is held to the figures (this machine is shared by several
# jobs: a try may wait for a core); none may come near being held by parsing.
TRIES = 3
LINE = "Buongiorno, vorrei sapere dove si trova il mio ordine 1234: non è ancora arrivato, grazie.\n"
MAILS = {
    "1 MB": compose(message_id="<grande@example.net>", text=LINE * 11_000),
    "12 KB, 8,000 line breaks": compose(message_id="<righe@example.net>", text="ok\n" * 4_000 + "\n" * 4_000),
}


@pytest.fixture
def web(transactional_db, tmp_path, settings):
    """The Procfile's `web` process on the test database; yields its URL."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "ADESSO_TESTING": "1",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_SETTINGS_MODULE": "adesso.settings",
    }
    with web_server(env, tmp_path / "web.log") as port:
        yield f"http://127.0.0.1:{port}"


def timed(results: dict[str, float], name: str, send) -> None:
    start = time.perf_counter()
    response = send()
    results[name] = time.perf_counter() - start
    results[f"{name} status"] = response.status_code


@pytest.mark.parametrize("name", list(MAILS))
def test_a_heavy_mail_answers_at_once_and_a_get_meanwhile_is_not_held(web, name):
    channel, _ = do_create_channel(
        make_org(), "email", "Assistenza", {"address": "help@shop.example", "mailgun_signing_key": SIGNING_KEY}
    )
    receive_mail(channel, compose(message_id="<caldo@example.net>"))  # a worker already running is warm
    webhook = f"{web}/channels/email/{channel.code}/inbound/mailgun"
    with httpx.Client() as warm:
        # A server that has been running has taken webhooks before (the first request of
        # a process loads what Django imports lazily).
        small = mailgun_form(compose(message_id="<primo@example.net>"))
        warm.post(webhook, content=small["data"], headers={"Content-Type": small["content_type"]})
        warm.get(f"{web}/login/")
    process_mail()
    tries = []
    for n in range(TRIES):
        raw = MAILS[name].replace(b"@example.net>", f"-{n}@example.net>".encode(), 1)  # a new Message-ID
        before = Message.objects.count()
        tries.append(post_with_a_get_meanwhile(webhook, f"{web}/login/", mailgun_form(raw)))
        assert Message.objects.count() == before  # stored raw: the worker has not run yet
        start = time.perf_counter()
        process_mail()
        tries[-1]["worker"] = time.perf_counter() - start
        event = InboundEvent.objects.filter(channel=channel).latest("pk")
        assert event.state == "processed", event.error
        assert Message.objects.get(code=event.message_code).text

    for t in tries:
        print(
            f"{name}: webhook {t['webhook'] * 1000:.0f} ms, GET meanwhile {t['get'] * 1000:.0f} ms, "
            f"worker {t['worker'] * 1000:.0f} ms"
        )
    assert all((t["webhook status"], t["get status"]) == (200, 200) for t in tries)
    best = min(tries, key=lambda t: t["webhook"])
    assert best["webhook"] < 0.100
    assert best["get"] < 0.200
    # Not one try was held by the mail's parsing (17 s before the pipeline).
    assert max(t["webhook"] for t in tries) < 0.5 and max(t["get"] for t in tries) < 0.5
    assert max(t["worker"] for t in tries) < 2.0


def post_with_a_get_meanwhile(webhook: str, page: str, form: dict) -> dict[str, float]:
    results: dict[str, float] = {}
    with httpx.Client(timeout=30) as poster, httpx.Client(timeout=30) as reader:
        post = threading.Thread(
            target=timed,
            args=(
                results,
                "webhook",
                lambda: poster.post(webhook, content=form["data"], headers={"Content-Type": form["content_type"]}),
            ),
        )
        get = threading.Thread(target=timed, args=(results, "get", lambda: reader.get(page)))
        post.start()
        time.sleep(0.005)  # the GET is sent while the webhook is in flight
        get.start()
        post.join()
        get.join()
    return results
