"""The API keeps its contract: Schemathesis against every operation of the OpenAPI document.

Schemathesis (the real tool, pinned) reads /api/v1/openapi.json from the app in process
(WSGI) and, for every operation it lists, whoever added it, sends schema-valid and
schema-invalid requests with Alice's admin token (the channel's token for the inbound
endpoint), with every check on: no server error, every status documented, the content
type and the body as documented, invalid data refused, valid data accepted.

Path parameters are now real codes of one organisation (tests/api_world.py), now
anything, so requests reach the endpoints' logic and their 404s. Each request runs in
a transaction rolled back after its checks: a DELETE or an erasure does not starve
the next example.

Two choices, both about what the document can say:
- Text is generated without NUL and as valid UTF-8: the API refuses the others with a
  documented 400 `invalid_text` before anything is read (tests/test_api_fuzz.py sends
  them), so they would only stop requests at the door.
- Schema-valid data may be refused with 400: the API's convention is 422 for what
  the schema says and 400 for a rule it cannot (an unknown channel kind, an address
  that is not one, the last admin), each with its `error` code.
ADESSO_SCHEMATHESIS_EXAMPLES raises the examples per operation (default 12).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from tests.api_world import World, build_world, headers_for

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("ADESSO_SCHEMATHESIS_EXAMPLES", "12"))

REFUSALS = ["2xx", "400", "401", "403", "404", "409"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"allow-x00": False, "codec": "utf-8"},
        "checks": {"positive_data_acceptance": {"expected-statuses": REFUSALS}},
        "operations": [
            # Rules across fields that no schema states, refused as 422: a report's period is
            # two dates in order, at most 366 days apart, in a time zone that exists (the reports,
            # the process and topic reports); an
            # inbound message has text, html or attachments.
            {
                "include-path-regex": "/reports|/inbound/|/insights/processes|/insights/topics$",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*REFUSALS, "422"]}},
            }
        ],
    }
)
APP = WSGIHandler()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP, config=CONFIG)


@pytest.fixture
def world(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # three agents each time
    built = build_world()
    # Django's test client keeps the test's connection across requests (and connects
    # this receiver again after each of its own); the WSGI handler would close the
    # connection around each request, inside the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield built
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _with_real_codes(case: Any, world: World, use_real: bool) -> None:
    """Where the path is schema-valid, replace its codes by the world's (when drawn so)."""
    if not use_real or case.meta is None or case.meta.is_negative_at(ParameterLocation.PATH):
        return
    for name in list(case.path_parameters or {}):
        real = world.value_for(case.operation.path, name)
        if real is not None:
            case.path_parameters[name] = real


@schema.parametrize()
@schema.given(use_real=st.booleans())
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(case, use_real, world):
    _with_real_codes(case, world, use_real)
    # A case whose headers are the invalid part tests a missing or malformed token: sent as is.
    negative_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    headers = {} if negative_headers else headers_for(world, case.operation.definition.raw)
    with transaction.atomic():
        response = case.call(headers=headers)
        try:
            case.validate_response(response, headers=headers)
        finally:
            transaction.set_rollback(True)
