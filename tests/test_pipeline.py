"""The inbound pipeline, whatever the kind: accept once, claim, order, retry, quarantine,
replay, the timer's safety net.

A `scripted` kind stands in for a provider (like test_outbox.py's): its events are JSON
`{"id", "sender", "pos", "text"}`, and `parse` fails as the test tells it to. Telegram
over real HTTP is in test_telegram.py.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar

import pytest
from django.utils import timezone
from pydantic import BaseModel

from adesso.channels import registry
from adesso.channels.actions import do_replay_event
from adesso.channels.base import ChannelKind, EventIdentity, Ignored, InboundError, InboundMessage, InboundSender
from adesso.channels.models import Channel, InboundEvent
from adesso.channels.pipeline import DEFER, MAX_ATTEMPTS, RETRY_DELAYS, accept, claim, do_process_events, process
from adesso.conversations.models import Conversation, ConversationEvent, Message
from adesso.lib.errors import ActionError
from adesso.ops.timers import tick
from tests.builders import make_org

pytestmark = pytest.mark.django_db


class ScriptedKind(ChannelKind):
    kind = "scripted"
    label = "Scripted"
    identity_kind = "scripted"
    config_schema = BaseModel
    # event id -> how many more times parsing it fails
    failures: ClassVar[dict[str, int]] = {}

    def identify(self, channel: Channel, body: bytes) -> EventIdentity:
        data = json.loads(body)
        return EventIdentity(data["id"], data["sender"], data["pos"])

    def parse(self, channel: Channel, body: bytes) -> list[Any]:
        data = json.loads(body)
        if data.get("broken"):
            raise InboundError("not an event of this provider")
        if self.failures.get(data["id"], 0) > 0:
            self.failures[data["id"]] -= 1
            raise RuntimeError("the provider's file server timed out")
        if data.get("typing"):
            return [Ignored("a typing notification")]
        if data.get("boom"):
            return [InboundMessage(external_id=data["id"], sender=InboundSender(data["sender"]), text="\x00boom")]
        message_id = data.get("message", data["id"])  # a provider may deliver one message in two events
        return [InboundMessage(external_id=message_id, sender=InboundSender(data["sender"]), text=data["text"])]


@pytest.fixture(autouse=True)
def scripted(monkeypatch):
    monkeypatch.setitem(registry.KINDS, "scripted", "tests.test_pipeline.ScriptedKind")
    monkeypatch.setattr(ScriptedKind, "failures", {})
    registry.get_kind.cache_clear()
    yield ScriptedKind
    registry.get_kind.cache_clear()


@pytest.fixture
def channel():
    return Channel.objects.create(organization=make_org(), kind="scripted", name="Scripted")


def receive(
    channel: Channel, event_id: str, pos: int = 1, sender: str = "mario", text: str = "", **extra: Any
) -> tuple[InboundEvent, bool]:
    body = json.dumps({"id": event_id, "sender": sender, "pos": pos, "text": text or f"testo {event_id}", **extra})
    return accept(channel, registry.get_kind("scripted").identify(channel, body.encode()), body.encode())


def texts() -> list[str]:
    return list(Message.objects.order_by("created_at", "pk").values_list("text", flat=True))


def test_the_same_event_five_times_is_stored_once_and_makes_one_message(channel):
    received = [receive(channel, "e1") for _ in range(5)]

    assert {event.pk for event, _created in received} == {received[0][0].pk}
    assert [created for _event, created in received] == [True, False, False, False, False]
    assert do_process_events() == 1
    assert texts() == ["testo e1"]
    event = InboundEvent.objects.get()
    assert (event.state, event.outcome, event.message_code) == ("processed", "message", Message.objects.get().code)


def test_one_senders_events_out_of_order_are_processed_in_the_providers_order(channel):
    for pos in (3, 1, 4, 2):
        receive(channel, f"e{pos}", pos=pos)
    receive(channel, "other", pos=0, sender="lucia")

    do_process_events()

    mario = list(
        Message.objects.exclude(external_id="other").order_by("created_at", "pk").values_list("external_id", flat=True)
    )
    assert mario == ["e1", "e2", "e3", "e4"]
    assert Message.objects.count() == 5


def test_an_event_waits_while_an_earlier_one_of_its_sender_is_in_another_workers_hands(channel):
    receive(channel, "e1", pos=1)
    worker_a = claim(limit=1)
    receive(channel, "e2", pos=2)
    worker_b = claim()

    assert [e.external_id for e in worker_b.events] == ["e2"]
    assert process(worker_b.events[0], worker_b.lease) == "deferred"
    assert process(worker_a.events[0], worker_a.lease) == "processed"
    do_process_events(timezone.now() + DEFER)

    assert texts() == ["testo e1", "testo e2"]
    assert InboundEvent.objects.get(external_id="e2").attempts == 1  # waiting is no attempt


def test_failures_are_retried_with_backoff_then_quarantined_with_the_reason(channel, scripted):
    event, _ = receive(channel, "e1")
    scripted.failures["e1"] = MAX_ATTEMPTS
    now = timezone.now()
    waits = []
    for _ in range(MAX_ATTEMPTS):
        do_process_events(now)
        event.refresh_from_db()
        if event.next_attempt_at:
            waits.append(round((event.next_attempt_at - event.processed_at).total_seconds()))
            now = event.next_attempt_at

    assert waits == list(RETRY_DELAYS)
    assert (event.state, event.attempts) == ("quarantined", MAX_ATTEMPTS)
    assert "timed out" in event.error
    assert f"gave up after {MAX_ATTEMPTS} attempts" in event.error
    assert not Message.objects.exists()


def test_a_quarantined_event_is_replayed_from_its_raw_body(channel, scripted, django_capture_on_commit_callbacks):
    event, _ = receive(channel, "e1")
    scripted.failures["e1"] = MAX_ATTEMPTS
    now = timezone.now()
    for _ in range(MAX_ATTEMPTS):
        do_process_events(now)
        now += dt.timedelta(days=1)
    scripted.failures["e1"] = 0  # the provider is back

    with django_capture_on_commit_callbacks(execute=True):
        replayed = do_replay_event(InboundEvent.objects.get(pk=event.pk))

    assert replayed.state == "accepted"
    event.refresh_from_db()
    assert (event.state, event.attempts, event.error) == ("processed", 1, "")
    assert texts() == ["testo e1"]
    with pytest.raises(ActionError):
        do_replay_event(event)


def test_an_event_that_can_never_be_parsed_is_quarantined_at_once(channel):
    receive(channel, "e1", broken=True)

    do_process_events()

    event = InboundEvent.objects.get()
    assert (event.state, event.attempts, event.next_attempt_at) == ("quarantined", 1, None)
    assert event.error == "Cannot be processed: not an event of this provider"


def test_an_event_with_nothing_for_adesso_is_ignored_and_says_why(channel):
    receive(channel, "e1", typing=True)

    do_process_events()

    event = InboundEvent.objects.get()
    assert (event.state, event.note) == ("ignored", "a typing notification")
    assert not Message.objects.exists()


def test_a_burst_of_accepted_events_asks_for_one_processing_task_until_it_starts(
    channel, django_capture_on_commit_callbacks
):
    from adesso.channels.models import ProcessingWanted
    from adesso.channels.pipeline import started_processing

    with django_capture_on_commit_callbacks() as asked:
        receive(channel, "e1")
        receive(channel, "e2", sender="giulia")
        receive(channel, "e1")  # a repeat asks for nothing
        receive(channel, "e3", sender="luca")
    assert len(asked) == 1
    assert ProcessingWanted.objects.count() == 1

    started_processing()  # the task has started: events from now on ask again
    with django_capture_on_commit_callbacks() as asked_again:
        receive(channel, "e4")
    assert len(asked_again) == 1


@pytest.mark.django_db(transaction=True)
def test_an_event_accepted_in_autocommit_is_stored_with_its_wish_in_one_statement(channel):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from adesso.channels.models import ProcessingWanted

    with CaptureQueriesContext(connection) as queries:
        _event, created = receive(channel, "e1")
    # One statement stores the event and the wish (SQLite: by a trigger; PostgreSQL:
    # WITH ... INSERT); the wish was new, so the task was asked for, and (tasks run at
    # once in the tests) it started by taking the wish away and processed the event.
    statements = [q["sql"] for q in queries.captured_queries]
    started = next(i for i, sql in enumerate(statements) if sql.startswith('DELETE FROM "channels_processingwanted"'))
    assert not [sql for sql in statements[:started] if "INSERT INTO channels_processingwanted" in sql]
    assert created
    assert InboundEvent.objects.get().state == "processed"
    assert not ProcessingWanted.objects.exists()


def test_a_batch_with_a_repeated_message_is_applied_again_one_event_at_a_time(channel):
    receive(channel, "e1", sender="mario", text="Buongiorno")
    receive(channel, "e2", sender="giulia", text="Salve")
    # The same message delivered again in another event (a provider's retry with a new id).
    receive(channel, "e3", sender="mario", pos=2, message="e1", text="Buongiorno")
    receive(channel, "e4", sender="luca", text="Ciao")

    assert do_process_events() == 4

    assert sorted(texts()) == ["Buongiorno", "Ciao", "Salve"]
    states = dict(InboundEvent.objects.values_list("external_id", "state"))
    assert states == {"e1": "processed", "e2": "processed", "e3": "processed", "e4": "processed"}
    assert "had been received before" in InboundEvent.objects.get(external_id="e3").note
    assert Conversation.objects.count() == 3


def test_an_event_that_fails_in_a_batch_fails_alone_and_nothing_is_written_twice(channel, monkeypatch, caplog):
    from adesso.intake import actions as intake

    real = intake._receive_rows

    def failing(channel, inbound):
        if inbound.text.endswith("boom"):
            raise RuntimeError("the disk is full")
        return real(channel, inbound)

    monkeypatch.setattr(intake, "_receive_rows", failing)
    for n, sender in enumerate(["mario", "giulia", "luca", "anna"]):
        receive(channel, f"e{n}", sender=sender, text=f"testo {sender}")
    receive(channel, "bad", sender="sara", boom=True)
    receive(channel, "e9", sender="paolo", text="testo paolo")

    with caplog.at_level("INFO", logger="adesso.channels.pipeline"):
        assert do_process_events() == 6

    # Applied without savepoints first; the failure rolled that back and the batch was
    # applied again with one savepoint per event (not one event per transaction).
    assert "an event failed; applying them one by one" in caplog.text
    assert "processing them one at a time" not in caplog.text
    assert sorted(texts()) == sorted(f"testo {s}" for s in ["mario", "giulia", "luca", "anna", "paolo"])
    bad = InboundEvent.objects.get(external_id="bad")
    assert bad.state == "failed" and "the disk is full" in bad.error
    assert InboundEvent.objects.filter(state="processed").count() == 5
    assert Conversation.objects.count() == 5  # the first, optimistic pass left nothing behind
    assert ConversationEvent.objects.filter(kind="message_received").count() == 5


def test_the_timer_tick_enqueues_processing_of_waiting_events(channel, django_capture_on_commit_callbacks):
    receive(channel, "e1")  # its task was lost: the on-commit callbacks never ran

    with django_capture_on_commit_callbacks(execute=True):
        done = tick()

    assert done["inbound"] == 1
    assert InboundEvent.objects.get().state == "processed"
    assert tick()["inbound"] == 0


def test_an_admin_lists_quarantined_events_and_replays_one_through_the_api(channel, scripted):
    from adesso.accounts.models import Role
    from tests.builders import AgentApi, make_agent

    event, _ = receive(channel, "e1")
    receive(channel, "e2")
    scripted.failures["e1"] = 1
    do_process_events()
    InboundEvent.objects.filter(pk=event.pk).update(state="quarantined", next_attempt_at=None)
    anna = AgentApi(make_agent(channel.organization, "Anna", role=Role.ADMIN))
    giulia = AgentApi(make_agent(channel.organization))

    listed = anna.get(f"/channels/{channel.code}/events", state="quarantined")
    replayed = anna.post(f"/channels/{channel.code}/events/{event.code}/replay")

    assert listed.status_code == 200
    assert [(e["code"], e["state"], e["attempts"]) for e in listed.json()] == [(event.code, "quarantined", 1)]
    assert "timed out" in listed.json()[0]["error"]
    assert replayed.status_code == 200, replayed.content
    assert (replayed.json()["state"], replayed.json()["attempts"]) == ("accepted", 0)
    assert anna.post(f"/channels/{channel.code}/events/{event.code}/replay").status_code == 400
    assert giulia.get(f"/channels/{channel.code}/events").status_code == 403
    assert anna.get(f"/channels/{make_org().pk}/events").status_code == 404


def test_a_burst_of_events_asks_for_one_processing_task(channel, settings, django_capture_on_commit_callbacks):
    from django_tasks import default_task_backend

    from adesso.channels.tasks import process_inbound

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    for n in (1, 2, 3):
        with django_capture_on_commit_callbacks(execute=True):
            receive(channel, f"e{n}", pos=n)
    asked_during_the_burst = len(default_task_backend.results)

    assert process_inbound.call() == 3  # the task the burst asked for
    with django_capture_on_commit_callbacks(execute=True):
        receive(channel, "e4", pos=4)

    assert asked_during_the_burst == 1
    assert len(default_task_backend.results) == 2  # after it started, a new event asks again
    assert texts() == ["testo e1", "testo e2", "testo e3"]


# --- one transaction per batch (docs/performance.md, "Inbound pipeline (session 4)") -----


@pytest.fixture
def acknowledging():
    org = make_org(ack=True, auto_assign=True)
    return Channel.objects.create(organization=org, kind="scripted", name="Scripted")


def test_an_event_that_fails_in_a_batch_rolls_back_alone_and_the_others_are_acknowledged(
    acknowledging, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from django_tasks import default_task_backend

    from adesso.conversations.models import ConversationEvent
    from adesso.intake import actions as intake
    from adesso.outbox.models import Delivery

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    real = intake.do_receive_message

    def breaks_on_boom(channel, inbound):
        received = real(channel, inbound)  # everything is written, then it breaks
        if inbound.text == "boom":
            raise RuntimeError("the database said no")
        return received

    monkeypatch.setattr(intake, "do_receive_message", breaks_on_boom)
    receive(acknowledging, "e1", sender="mario")
    receive(acknowledging, "e2", sender="lucia", text="boom")
    receive(acknowledging, "e3", sender="anna")

    with django_capture_on_commit_callbacks(execute=True):
        assert do_process_events() == 3

    states = dict(InboundEvent.objects.values_list("external_id", "state"))
    assert states == {"e1": "processed", "e2": "failed", "e3": "processed"}
    assert "RuntimeError: the database said no" in InboundEvent.objects.get(external_id="e2").error
    assert set(Message.objects.filter(auto=False).values_list("text", flat=True)) == {"testo e1", "testo e3"}
    assert Message.objects.filter(auto=True).count() == 2
    assert not Message.objects.filter(text="boom").exists()
    assert ConversationEvent.objects.filter(kind="message_received").count() == 2
    deliveries = set(Delivery.objects.values_list("pk", flat=True))
    sends = [r for r in default_task_backend.results if r.task.name == "deliver_many"]
    assert len(deliveries) == 2
    assert [set(r.args[0]) for r in sends] == [deliveries]  # one task sends the batch's acknowledgements


def test_a_worker_killed_in_the_middle_of_a_batch_loses_and_repeats_nothing(channel, monkeypatch):
    from adesso.channels.pipeline import LEASE, process_batch
    from adesso.conversations.models import ConversationEvent
    from adesso.intake import actions as intake

    real = intake.do_receive_message

    def killed_at_the_second(channel, inbound):
        if inbound.external_id == "e2":
            raise SystemExit("SIGTERM")  # not an error the batch handles: the process goes
        return real(channel, inbound)

    for pos in (1, 2, 3):
        receive(channel, f"e{pos}", pos=pos)
    batch = claim()
    monkeypatch.setattr(intake, "do_receive_message", killed_at_the_second)

    with pytest.raises(SystemExit):
        process_batch(batch.events, batch.lease)

    assert not Message.objects.exists()  # e1 was applied, then rolled back with the batch
    assert not ConversationEvent.objects.exists()
    assert set(InboundEvent.objects.values_list("state", "lease")) == {("accepted", batch.lease)}
    monkeypatch.setattr(intake, "do_receive_message", real)
    assert do_process_events() == 0  # still leased to the dead worker
    assert do_process_events(timezone.now() + LEASE + dt.timedelta(seconds=1)) == 3
    assert texts() == ["testo e1", "testo e2", "testo e3"]
    assert set(InboundEvent.objects.values_list("state", "attempts")) == {("processed", 2)}


def test_a_new_senders_messages_in_one_batch_make_one_contact_one_conversation_one_acknowledgement(acknowledging):
    from adesso.contacts.models import Contact
    from adesso.conversations.models import Conversation

    for pos in (1, 2, 3):
        receive(acknowledging, f"e{pos}", pos=pos, sender="nuovo")
    receive(acknowledging, "x1", sender="altro")

    assert do_process_events() == 4

    conversation = Message.objects.get(text="testo e1").conversation
    assert Conversation.objects.count() == 2
    assert Contact.objects.count() == 2
    assert list(conversation.messages.filter(auto=False).order_by("pk").values_list("text", flat=True)) == [
        "testo e1",
        "testo e2",
        "testo e3",
    ]
    assert conversation.messages.filter(auto=True).count() == 1
    assert conversation.promise_at is not None


def test_a_batch_of_messages_costs_a_few_statements_each(acknowledging):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(20):
        receive(acknowledging, f"old{n}", sender=f"s{n}")
    do_process_events()
    for n in range(40):  # half of them from the senders above, half new
        receive(acknowledging, f"m{n}", pos=2, sender=f"s{n}")

    with CaptureQueriesContext(connection) as ctx:
        assert do_process_events() == 40

    statements = [
        q for q in ctx.captured_queries if q["sql"].split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE")
    ]
    # New senders' contacts, identities, conversations and messages, and the returning
    # senders' conversation updates, are written with one statement per table for the
    # whole batch (adesso.lib.batch.deferring); their open conversations (and on
    # PostgreSQL their locks) are read with one statement. The rest is once per batch.
    assert len(statements) <= 20, [q["sql"][:80] for q in statements]


def test_a_backlog_asks_for_another_task_that_another_worker_can_take(
    channel, settings, django_capture_on_commit_callbacks
):
    from django_tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from adesso.channels.pipeline import started_processing

    for n in range(5):
        receive(channel, f"e{n}", sender=f"s{n}")
    started_processing()  # the task that runs now
    with django_capture_on_commit_callbacks(execute=True):
        assert do_process_events(limit=2, max_batches=1) == 2

    asked = [r for r in default_task_backend.results if r.task.name == "process_inbound"]
    assert len(asked) == 1


def test_codes_drawn_at_once_keep_their_alphabet_length_and_spread():
    from collections import Counter

    from adesso.lib.codes import _ALPHABET, new_code

    codes = [new_code() for _ in range(3000)] + [new_code(16) for _ in range(100)]
    seen = Counter("".join(codes))

    assert {len(c) for c in codes} == {12, 16}
    assert len(set(codes)) == len(codes)
    assert set(seen) == set(_ALPHABET)
    assert max(seen.values()) < 1.25 * min(seen.values())  # about 1,200 each


def test_events_deferred_behind_another_worker_are_looked_at_again_a_moment_later(
    channel, settings, django_capture_on_commit_callbacks
):
    from django_tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    receive(channel, "e1", pos=1)
    held = claim(limit=1)  # another worker has e1
    receive(channel, "e2", pos=2)
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert do_process_events() == 0  # e2 waits for e1

    again = [r for r in default_task_backend.results if r.task.name == "process_inbound" and r.task.run_after]
    assert len(again) == 1
    assert again[0].task.run_after >= before + DEFER
    assert process(held.events[0], held.lease) == "processed"
    assert do_process_events(timezone.now() + DEFER) == 1
    assert texts() == ["testo e1", "testo e2"]


def test_a_batch_holds_at_most_its_bytes_of_raw_bodies_and_the_rest_follows(channel, monkeypatch):
    from adesso.channels import pipeline

    # Three 40 KB events and a small one, with room for 100 KB a batch: the worker parses
    # a batch whole before applying it, so big bodies are not all held at once.
    monkeypatch.setattr(pipeline, "BATCH_BYTES", 100_000)
    padding = "x" * 40_000
    for i in range(3):
        receive(channel, f"big{i}", 1, f"mario{i}", f"Allegato lungo {i} {padding}")
    receive(channel, "small", 1, "luigi", "Una riga sola")

    first = claim()
    assert len(first.events) == 2 and first.more  # 80 KB taken, the third would pass 100 KB
    second = claim()
    assert len(second.events) == 2 and not second.more  # 40 KB + the small one
    assert pipeline._within_bytes([(1, 5_000_000), (2, 10)]) == [1]  # larger than the cap: taken, alone
    for taken in (first, second):
        assert pipeline.process_batch(taken.events, taken.lease) == ["processed", "processed"]
    assert len(texts()) == 4


def test_a_large_raw_body_is_kept_byte_for_byte_and_stored_uncompressed_on_postgresql(channel):
    from django.db import connection

    body = json.dumps({"id": "pdf", "sender": "mario", "pos": 1, "text": "JVBERi0xLjcK" * 90_000}).encode()
    event, created = accept(channel, registry.get_kind("scripted").identify(channel, body), body)
    assert created and bytes(InboundEvent.objects.get(pk=event.pk).body) == body
    if connection.vendor == "postgresql":
        # Mostly compressed already (base64 of files): PostgreSQL does not compress it again.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attstorage FROM pg_attribute WHERE attrelid = 'channels_inboundevent'::regclass"
                " AND attname = 'body'"
            )
            assert cursor.fetchone()[0] == "e"
