"""`adesso simulate`: known answers on small traces, bad input, the shipped trace.

The command runs the simulation in a subprocess on a throw-away SQLite
database; these tests never grant the test database to it, so a command that
touched the configured database would fail here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from adesso.channels.models import Channel
from adesso.contacts.models import Contact
from adesso.conversations.models import Conversation, Message
from adesso.simulation import measures
from adesso.simulation.trace import SHIPPED, build_twcs_trace, read
from tests.builders import make_agent, make_api_channel, make_org

KEYS = {"within_target_share", "first_response_p50_s", "first_response_p90_s", "first_response_max_s", "max_silence_s"}
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday


def write_trace(path: Path, rows: list[tuple[dt.datetime, str, str]], text: str = "Hello, my order is late") -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "channel", "contact", "text"])
        writer.writerows([at.isoformat(), channel, contact, text] for at, channel, contact in rows)
    return path


def simulate(*args: str) -> dict:
    out = io.StringIO()
    call_command("simulate", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_one_agent_with_room_answers_every_customer_in_the_handling_time(tmp_path):
    trace = write_trace(tmp_path / "t.csv", [(T0 + dt.timedelta(hours=i), "x", f"c{i}") for i in range(5)])

    result = simulate("--trace", str(trace), "--agents", "1", "--handle-minutes", "6", "--handle-spread", "0")

    assert KEYS | {"per_channel"} <= set(result)
    assert set(result["per_channel"]) == {"x"}
    assert set(result["per_channel"]["x"]) == KEYS
    assert result["turns"] == 5
    assert result["within_target_share"] == 1.0
    assert result["first_response_p50_s"] == result["first_response_p90_s"] == result["first_response_max_s"] == 360
    # Acknowledged at once: nobody is left in silence; the longest quiet is after the acknowledgement.
    assert result["acknowledgements"] == 5
    assert result["max_silence_s"] == 0
    assert 0 < result["longest_quiet_s"] <= 360
    assert result["drained"] is True
    assert result["utilisation"] == pytest.approx(5 * 360 / (4 * 3600 + 360), abs=0.001)


def test_overload_answers_in_arrival_order_and_the_share_within_target_drops(tmp_path):
    # 30 customers a minute apart, one agent taking exactly 6 minutes each: customer k
    # (from 0) is answered at (k + 1) * 6 minutes, after waiting 5k + 6 minutes.
    trace = write_trace(tmp_path / "t.csv", [(T0 + dt.timedelta(minutes=i), "x", f"c{i}") for i in range(30)])

    result = simulate("--trace", str(trace), "--agents", "1", "--handle-spread", "0")

    waits = sorted((5 * k + 6) * 60 for k in range(30))
    assert result["within_target_share"] == round(11 / 30, 4)  # k <= 10 wait at most 56 minutes
    assert result["first_response_p50_s"] == waits[14]
    assert result["first_response_p90_s"] == waits[26]
    assert result["first_response_max_s"] == waits[-1]
    assert result["offered_load"] > 1
    assert result["unanswered_at_end"] == 0


def test_figures_per_channel_side_by_side(tmp_path):
    rows = [(T0 + dt.timedelta(minutes=20 * i), "web" if i % 2 else "x", f"c{i}") for i in range(6)]
    trace = write_trace(tmp_path / "t.csv", rows)

    result = simulate("--trace", str(trace), "--agents", "2", "--handle-spread", "0", "--handle-minutes", "3")

    assert set(result["per_channel"]) == {"web", "x"}
    assert result["turns_per_channel"] == {"web": 3, "x": 3}
    for figures in result["per_channel"].values():
        assert figures["first_response_max_s"] == 180


def test_a_customer_writing_again_while_waiting_is_one_turn(tmp_path):
    rows = [(T0, "x", "same"), (T0 + dt.timedelta(minutes=1), "x", "same")]
    trace = write_trace(tmp_path / "t.csv", rows)

    result = simulate("--trace", str(trace), "--agents", "1", "--handle-spread", "0")

    assert result["turns"] == 1
    assert result["first_response_max_s"] == 360
    assert result["acknowledgements"] == 1  # never more than one per turn


def test_a_lower_target_from_the_command_line(tmp_path):
    trace = write_trace(tmp_path / "t.csv", [(T0 + dt.timedelta(minutes=i), "x", f"c{i}") for i in range(4)])

    result = simulate("--trace", str(trace), "--agents", "1", "--handle-spread", "0", "--target-minutes", "10")

    # Waits 6, 11, 16, 21 minutes: one within 10.
    assert result["target_s"] == 600
    assert result["within_target_share"] == 0.25


def test_staffing_by_the_hour_brings_agents_online_when_the_schedule_says(tmp_path):
    trace = write_trace(tmp_path / "t.csv", [(T0 + dt.timedelta(minutes=10), "x", "c1")])
    monday = T0.weekday()
    staffing = tmp_path / "plan.json"
    staffing.write_text(
        json.dumps(
            {
                "timezone": "UTC",
                "hours": [
                    {"weekday": monday, "hour": 9, "agents": 0},
                    {"weekday": monday, "hour": 10, "agents": 1},
                ],
            }
        )
    )

    result = simulate("--trace", str(trace), "--staffing", str(staffing), "--handle-spread", "0")

    # Nobody online until 10:00, then 6 minutes of work: answered at 10:06.
    assert result["first_response_max_s"] == 56 * 60
    assert result["staffing"] is True
    assert result["agents"] == 1


def test_the_table_for_people(tmp_path):
    trace = write_trace(tmp_path / "t.csv", [(T0, "x", "c1")])
    out = io.StringIO()

    call_command("simulate", "--trace", str(trace), "--agents", "1", "--handle-spread", "0", stdout=out)

    text = out.getvalue()
    assert "within target" in text
    assert "100.0%" in text
    assert "6 min 00 s" in text


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["--agents", "1"], "no such file"),
        ("when,where,who,what\n", ["--agents", "1"], "first line must be timestamp,channel,contact,text"),
        ("timestamp,channel,contact,text\nyesterday,x,c1,hi\n", ["--agents", "1"], "line 2"),
        ("timestamp,channel,contact,text\n2026-03-02T09:00:00,x,c1,hi\n", ["--agents", "1"], "no time zone"),
        ("timestamp,channel,contact,text\n2026-03-02T09:00:00Z,X Y,c1,hi\n", ["--agents", "1"], "channel"),
        ("timestamp,channel,contact,text\n", ["--agents", "1"], "no arrivals"),
        ("timestamp,channel,contact,text\n2026-03-02T09:00:00Z,x,c1,hi\n", ["--agents", "0"], "at least 1"),
        ("timestamp,channel,contact,text\n2026-03-02T09:00:00Z,x,c1,hi\n", [], "--agents N"),
        (
            "timestamp,channel,contact,text\n2026-03-02T09:00:00Z,x,c1,hi\n",
            ["--agents", "1", "--limit", "0"],
            "--limit",
        ),
        (
            "timestamp,channel,contact,text\n2026-03-02T09:00:00Z,x,c1,hi\n",
            ["--agents", "1", "--from", "2027-01-01T00:00:00Z"],
            "No arrivals",
        ),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path, content, args, message):
    path = tmp_path / "trace.csv"
    if content is not None:
        path.write_text(content)

    with pytest.raises(CommandError, match=message):
        call_command("simulate", "--trace", str(path), *args, stdout=io.StringIO())


def test_bad_staffing_is_a_clear_error(tmp_path):
    trace = write_trace(tmp_path / "t.csv", [(T0, "x", "c1")])
    staffing = tmp_path / "plan.json"
    staffing.write_text(json.dumps({"hours": [{"weekday": 9, "hour": 0, "agents": 1}]}))

    with pytest.raises(CommandError, match="weekday 0-6"):
        call_command("simulate", "--trace", str(trace), "--staffing", str(staffing), stdout=io.StringIO())


def test_the_command_line_exits_non_zero_with_the_reason(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "adesso", "simulate", "--trace", str(tmp_path / "missing.csv"), "--agents", "2"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode != 0
    assert "no such file" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_subprocess_mode_refuses_a_real_database(tmp_path):
    trace = write_trace(tmp_path / "t.csv", [(T0, "x", "c1")])

    with pytest.raises(CommandError, match="throw-away"):
        call_command("simulate", "--trace", str(trace), "--agents", "1", "--run-here", str(tmp_path / "r.json"))


def test_the_shipped_trace_is_built_from_twcs_and_reproducible(tmp_path):
    # The workplace's evaluation data: beside the checkout, or where the workplace keeps it.
    candidates = [Path(__file__).resolve().parents[2] / "shared", Path("/work/shared")]
    source = next((c for c in candidates if c.is_dir()), candidates[0]) / "data" / "twcs" / "twcs_head_sample.csv"
    count = build_twcs_trace(source, tmp_path / "again.csv")

    assert (tmp_path / "again.csv").read_bytes() == SHIPPED["twcs"].read_bytes()
    arrivals = read(SHIPPED["twcs"])
    assert len(arrivals) == count > 1000
    assert {a.channel for a in arrivals} == {"x"}
    # Anonymised: no handles, no URLs, no tweet text.
    assert not any("@" in a.text or "http" in a.text or a.contact.isdigit() for a in arrivals)
    assert len({a.contact for a in arrivals}) > 500


def test_the_shipped_trace_at_seventy_percent_load(tmp_path):
    # 150 real arrivals of a busy afternoon (about 37 an hour), 5 agents, 6 minutes each.
    result = simulate("--trace", "twcs", "--agents", "5", "--from", "2017-10-31T16:00:00+00:00", "--limit", "150")

    assert 0.6 <= result["offered_load"] <= 0.8
    assert result["arrivals"] == 150
    assert result["acknowledged_share"] == 1.0
    assert result["unanswered_at_end"] == 0
    assert result["within_target_share"] >= 0.9
    assert result["first_response_p50_s"] <= result["first_response_p90_s"] <= result["first_response_max_s"]
    # Acceptance 2 of issue 3: the acknowledgement's estimate within a factor of 2 of the wait.
    # With lognormal handling times (sigma 0.5) even the exact mean misses a lone
    # 6-minute answer by more than 2x about 18% of the time (docs/simulate.md).
    assert result["estimates_compared"] == result["turns"]
    assert result["estimate_within_2x_share"] >= 0.7
    assert 0.67 <= result["estimate_ratio_median"] <= 1.5


def _conversation(org, channel: Channel, name: str, messages: list[tuple[int, str]]) -> None:
    """Messages at T0 + seconds: "in" from the customer, "auto", "note" (internal) or "reply"."""
    agent = make_agent(org)
    contact = Contact.objects.create(organization=org, name=name)
    conversation = Conversation.objects.create(organization=org, channel=channel, contact=contact, created_at=T0)
    for seconds, kind in messages:
        Message.objects.create(
            organization=org,
            conversation=conversation,
            channel=channel,
            created_at=T0 + dt.timedelta(seconds=seconds),
            direction="incoming" if kind == "in" else "outgoing",
            auto=kind == "auto",
            internal=kind == "note",
            author=None if kind in ("in", "auto") else agent,
            text=kind,
        )


@pytest.mark.django_db
def test_turns_responses_and_silences_are_read_from_the_stored_messages():
    org = make_org()
    web = make_api_channel(org, "web").channel
    x = make_api_channel(org, "x").channel
    # Acknowledged after 2 s, answered after 10 minutes.
    _conversation(org, web, "acked", [(0, "in"), (2, "auto"), (600, "reply")])
    # Never answered: silent, and waiting, up to the end.
    _conversation(org, x, "forgotten", [(0, "in")])
    # Writes twice in one turn; an internal note is no answer; then a second turn.
    _conversation(
        org, x, "twice", [(0, "in"), (60, "in"), (120, "note"), (300, "reply"), (1200, "in"), (1800, "reply")]
    )
    end = T0 + dt.timedelta(hours=2)

    result = measures.report(org.pk, 3600, end)

    assert result["turns"] == 4
    assert result["turns_per_channel"] == {"web": 1, "x": 3}
    assert result["unanswered_at_end"] == 1
    assert result["within_target_share"] == 0.75  # the unanswered one is not within
    assert result["first_response_max_s"] == 7200  # waiting still: counted up to the end
    assert result["max_silence_s"] == 7200
    assert result["per_channel"]["web"] == {
        "within_target_share": 1.0,
        "first_response_p50_s": 600.0,
        "first_response_p90_s": 600.0,
        "first_response_max_s": 600.0,
        "max_silence_s": 2.0,
    }
    assert result["per_channel"]["x"]["first_response_p50_s"] == 600.0  # of 300, 600, 7200
    assert result["acknowledgements"] == 0  # no acknowledgement events recorded here


SAME = {
    "turns",
    "turns_per_channel",
    "unanswered_at_end",
    "acknowledgements",
    "acknowledged_share",
    "estimates_compared",
    "estimate_within_2x_share",
    "arrivals",
    "agents",
    "offered_load",
    "drained",
    "target_s",
    "simulated_from",
    *KEYS,
}


def test_the_fast_engine_agrees_with_the_full_one(tmp_path):
    """The fast engine (state in memory, the real routing, estimate and SLA decisions) gives
    the full engine's figures (every action on a database) on a bursty day with shifts."""
    rows = [(T0 + dt.timedelta(minutes=9 * i), "x" if i % 3 else "web", f"c{i % 8}") for i in range(14)]
    rows += [(T0 + dt.timedelta(hours=1, seconds=30 * i), "x", f"b{i}") for i in range(26)]  # a burst
    trace = write_trace(tmp_path / "t.csv", rows)
    staffing = tmp_path / "plan.json"
    staffing.write_text(
        json.dumps(
            {
                "timezone": "UTC",
                "hours": [
                    {"weekday": T0.weekday(), "hour": hour, "agents": agents}
                    for hour, agents in ((9, 1), (10, 2), (11, 3), (12, 1), (13, 1))
                ],
            }
        )
    )

    fast = simulate("--trace", str(trace), "--staffing", str(staffing), "--engine", "fast")
    full = simulate("--trace", str(trace), "--staffing", str(staffing), "--engine", "full")

    assert (fast["engine"], full["engine"]) == ("fast", "full")
    assert fast["within_target_share"] < 1 and fast["turns"] > 30  # the burst is felt
    assert {k: fast[k] for k in SAME} == {k: full[k] for k in SAME}
    assert fast["per_channel"] == full["per_channel"]
    assert fast["estimate_ratio_median"] == pytest.approx(full["estimate_ratio_median"], abs=0.02)
    assert fast["utilisation"] == pytest.approx(full["utilisation"], abs=0.001)
