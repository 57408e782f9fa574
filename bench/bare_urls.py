"""Adesso's URLs and, for the benchmark only, the bare one-INSERT view (bench/bare_settings.py)."""

import json
import time

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from adesso import urls as adesso_urls
from adesso.lib.codes import new_code

# The same statement as the pipeline's accept (adesso/channels/pipeline.py), on the
# bench's own channel: one INSERT of the raw body, nothing else.
_SQL = (
    "INSERT INTO channels_inboundevent (organization_id, channel_id, code, external_id, sender_key,"
    " position, headers, body, received_at, state, attempts, next_attempt_at, lease, outcome,"
    " message_code, note, error) VALUES (%s, %s, %s, %s, %s, 0, '{}', %s, %s, 'ignored', 0, NULL, '', '', '', '', '')"
    " RETURNING id"
)


@csrf_exempt
def bare(request: HttpRequest, organization: int, channel: int) -> HttpResponse:
    """Read the body, INSERT it, answer JSON: what any Django view storing a webhook does."""
    body = request.body
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    code = new_code()
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [organization, channel, code, f"bare-{code}-{time.monotonic_ns()}", "", body, now])
        pk = cursor.fetchone()[0]
    return HttpResponse(json.dumps({"event": pk}), status=200, content_type="application/json")


# Adesso's own list after the bare view's (not include()d: that would put every Adesso
# route one resolver deeper than it is when served with adesso.urls as the root).
urlpatterns = [
    path("bench/bare/<int:organization>/<int:channel>", bare),
    *adesso_urls.urlpatterns,
]
