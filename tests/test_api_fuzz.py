"""Random input against the inbound endpoint and the agent API: never a 500.

Hypothesis builds payloads from the documented shapes with every field now
right, now of a wrong type, now hostile (NUL, lone surrogates, huge numbers,
odd dates), and raw bytes. Each example runs in a savepoint rolled back after
it, so one cannot spoil the next. ADESSO_FUZZ_EXAMPLES=2000 explores more.
"""

import base64
import datetime as dt
import json
import os
from urllib.parse import quote

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adesso.accounts.models import Role
from adesso.channels.models import InboundEvent
from adesso.channels.pipeline import do_process_events
from adesso.conversations.models import Message
from tests.builders import (
    AgentApi,
    customer_writes,
    make_agent,
    make_api_channel,
    make_org,
    make_team,
    post_inbound,
)

pytestmark = pytest.mark.django_db

fuzz = settings(
    max_examples=int(os.environ.get("ADESSO_FUZZ_EXAMPLES", "80")),
    deadline=None,
    database=None,
    derandomize=not os.environ.get("ADESSO_FUZZ_EXAMPLES"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "x\udfffy",
        "\u202e",
        "<script>alert(1)</script>",
        "9" * 40,
        "-1",
        "1e309",
        "NaN",
        "null",
        "open",
        "api",
        "vip",
        "me",
        "none",
        "all",
        "2026-11-24T10:00:00",
        "2026-11-24T10:00:00+01:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "mario@example.com",
        "+39 333 1234567",
        "x" * 300,
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    HOSTILE,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
TEXT = st.one_of(st.text(max_size=60), HOSTILE)
WORDS = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=60)
AWARE_TIMES = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes))).isoformat(),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.integers(min_value=-23 * 60, max_value=23 * 60),
)
TIMES = st.one_of(AWARE_TIMES, st.datetimes().map(dt.datetime.isoformat), TEXT, SCALARS)


def maybe(right):
    """The right kind of value most of the time; otherwise hostile text or any JSON."""
    return st.one_of(right, right, right, TEXT, JSON)


ATTACHMENT = st.fixed_dictionaries(
    {
        "filename": maybe(WORDS),
        "content_base64": maybe(st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode())),
    },
    optional={"content_type": maybe(WORDS)},
)
SENDER = st.fixed_dictionaries(
    {"external_id": maybe(WORDS)},
    optional={"name": maybe(WORDS), "email": maybe(st.emails()), "phone": maybe(WORDS)},
)
# Mostly well-formed, so that one odd field at a time reaches deep into intake.
INBOUND = st.fixed_dictionaries(
    {"external_id": maybe(WORDS), "sender": maybe(SENDER), "text": maybe(WORDS)},
    optional={
        "html": maybe(WORDS),
        "sent_at": TIMES,
        "attachments": maybe(st.lists(maybe(ATTACHMENT), max_size=3)),
    },
)


def rolled_back(request):
    """Run `request()` in a savepoint that is always rolled back."""
    with transaction.atomic():
        response = request()
        transaction.set_rollback(True)
    return response


def filed(client, ch, body):
    """Post; what is accepted (202) must then become a message: the worker processes it
    and the event ends processed, never failed or quarantined."""
    r = post_inbound(client, ch, body)
    if r.status_code == 202:
        do_process_events()
        event = InboundEvent.objects.get(code=r.json()["event"])
        assert (event.state, event.error) == ("processed", ""), body
        assert Message.objects.filter(code=r.json()["message"]).exists()
    return r


def assert_clean_answer(r, allowed):
    assert r.status_code in allowed, (r.status_code, r.content[:500])
    if r.status_code >= 400:
        body = r.json()
        assert isinstance(body["error"], str) and body["error"]
        assert isinstance(body["message"], str) and body["message"]


def test_inbound_never_fails_on_any_json():
    ch = make_api_channel(make_org())
    client = Client()

    @fuzz
    @given(payload=st.one_of(INBOUND, INBOUND, JSON))
    # Found by this test: a time with no UTC equivalent crashed the storing of sent_at.
    @example(
        payload={
            "external_id": "1",
            "sender": {"external_id": "c"},
            "text": "hi",
            "sent_at": "9999-12-31T23:59:59-14:00",
        }
    )
    @example(
        payload={
            "external_id": "2",
            "sender": {"external_id": "c"},
            "text": "hi",
            "sent_at": "0001-01-01T00:00:00+14:00",
        }
    )
    # ...and a file name storage refuses ("..", only symbols) did too.
    @example(
        payload={
            "external_id": "3",
            "sender": {"external_id": "c"},
            "text": "hi",
            "attachments": [{"filename": "..", "content_base64": ""}, {"filename": "\U00018cd6", "content_base64": ""}],
        }
    )
    def check(payload):
        r = rolled_back(lambda: filed(client, ch, json.dumps(payload)))
        assert_clean_answer(r, {202, 400, 413, 415, 422})

    check()


def test_inbound_never_fails_on_any_bytes():
    ch = make_api_channel(make_org())
    client = Client()

    @fuzz
    @given(body=st.one_of(st.binary(max_size=300), INBOUND.map(lambda p: json.dumps(p).encode()[:-1])))
    def check(body):
        r = rolled_back(lambda: filed(client, ch, body))
        assert_clean_answer(r, {202, 400, 413, 415, 422})

    check()


# Placeholders the test replaces with codes that exist, so actions run for real.
AGENTS = st.sampled_from(["@agent", "@other_agent", None])
CONTACTS = st.sampled_from(["@contact", "@other_contact"])
BODIES = {
    "/conversations/{conversation}/messages": st.fixed_dictionaries(
        {"text": maybe(WORDS)}, optional={"internal": maybe(st.booleans())}
    ),
    "/conversations/{conversation}/assign": st.fixed_dictionaries(
        {}, optional={"assignee": maybe(AGENTS), "team": maybe(st.sampled_from(["@team", None])), "note": maybe(WORDS)}
    ),
    "/conversations/{conversation}/status": st.fixed_dictionaries(
        {"status": maybe(st.sampled_from(["open", "pending", "resolved"]))}, optional={"reason": maybe(WORDS)}
    ),
    "/conversations/{conversation}/snooze": st.fixed_dictionaries({"until": TIMES}),
    "/conversations/{conversation}/priority": st.fixed_dictionaries(
        {"priority": maybe(st.integers(min_value=0, max_value=3))}
    ),
    "/contacts/{contact}": st.fixed_dictionaries(
        {},
        optional={
            "name": maybe(WORDS),
            "email": maybe(st.emails()),
            "phone": maybe(WORDS),
            "language": maybe(st.sampled_from(["it", "en"])),
            "notes": maybe(WORDS),
            "tier": maybe(st.sampled_from(["standard", "loyal", "vip"])),
        },
    ),
    "/contacts/{contact}/merge": st.fixed_dictionaries({"into": maybe(CONTACTS)}),
    "/contacts/merges/{merge}/undo": st.just({}),
    "/channels": st.fixed_dictionaries(
        {"kind": maybe(st.just("api")), "name": maybe(WORDS)},
        optional={
            "config": maybe(
                st.fixed_dictionaries({}, optional={"webhook_url": maybe(st.just("https://example.com/hook"))})
            )
        },
    ),
}
WRITES = [("patch" if path == "/contacts/{contact}" else "post", path) for path in BODIES]
CODES = st.one_of(st.sampled_from(["@conversation", "@contact", "@merge"]), st.text(min_size=1, max_size=20))


def agent_world():
    org = make_org()
    anna = make_agent(org, "Anna", role=Role.ADMIN)
    api = AgentApi(anna)
    marco = make_agent(org, "Marco")
    ch = make_api_channel(org)
    first = customer_writes(ch, sender_id="a", sender={"email": "mario@example.com"})["conversation"]
    second = customer_writes(ch, sender_id="b")["conversation"]
    contact = api.get(f"/conversations/{first}").json()["contact"]["code"]
    other = api.get(f"/conversations/{second}").json()["contact"]["code"]
    third = customer_writes(ch, sender_id="c")["conversation"]
    merged = api.get(f"/conversations/{third}").json()["contact"]["code"]
    merge = api.post(f"/contacts/{merged}/merge", {"into": other}).json()["merge"]
    real = {
        "@agent": anna.code,
        "@other_agent": marco.code,
        "@team": make_team(org, "Cassa", [marco]).code,
        "@contact": contact,
        "@other_contact": other,
        "@conversation": first,
        "@merge": str(merge),
    }
    return api, real


def fill(value, real):
    if isinstance(value, str):
        return real.get(value, value)
    if isinstance(value, dict):
        return {k: fill(v, real) for k, v in value.items()}
    return value


def test_agent_api_never_fails_on_any_body():
    api, real = agent_world()
    codes = {"conversation": real["@conversation"], "contact": real["@contact"], "merge": real["@merge"]}

    @fuzz
    @given(data=st.data())
    def check(data):
        method, path = data.draw(st.sampled_from(WRITES))
        body = data.draw(st.one_of(BODIES[path], BODIES[path], JSON))
        data = json.dumps(fill(body, real))
        r = rolled_back(lambda: api.send(method, path.format(**codes), data))
        assert_clean_answer(r, {200, 201, 400, 403, 404, 409, 422})

    check()


def test_agent_api_never_fails_on_any_path_or_query():
    api, real = agent_world()
    reads = [
        "/conversations/{}",
        "/contacts/{}",
        "/conversations/{}/messages",
        "/contacts/{}/merge",
        "/contacts/merges/{}/undo",
    ]
    params = st.dictionaries(
        st.sampled_from(["status", "assignee", "team", "channel", "ordering", "limit", "offset", "q"]),
        st.one_of(
            st.text(max_size=30), st.sampled_from(["@agent", "@team", "all", "mine", "waiting"]), st.integers().map(str)
        ),
        max_size=5,
    )

    @fuzz
    @given(
        template=st.sampled_from(reads),
        code=CODES,
        list_path=st.sampled_from(["/conversations", "/contacts", "/search"]),
        query=params,
    )
    def check(template, code, list_path, query):
        path = template.format(quote(real.get(code, code), safe=""))
        method = "get" if template.count("/") == 2 else "post"
        r = rolled_back(lambda: api.send(method, path, "{}"))
        assert_clean_answer(r, {200, 201, 400, 404, 409, 422})
        r = rolled_back(lambda: api.get(list_path, **{k: fill(v, real) for k, v in query.items()}))
        assert_clean_answer(r, {200, 400, 422})

    check()
