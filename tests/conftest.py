import os

import pytest

os.environ.setdefault("ADESSO_TESTING", "1")


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # The tests' providers are loopback servers, which tenants' addresses may not reach
    # in production (adesso/lib/netguard.py); tests/test_attacks_ssrf.py empties it.
    settings.ADESSO_OUTBOUND_ALLOW = ["127.0.0.0/8", "::1/128"]
    # Sentiment analysis on every tick would load the encoder in every test that ticks;
    # tests/test_insights_sentiment.py turns it on.
    settings.INSIGHTS_ANALYSE_LIVE = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Per-organisation caches (SLA policies) must not outlive a test's rolled-back rows,
    # whose ids the next test may reuse.
    from django.core.cache import cache, caches

    cache.clear()
    caches["shared"].clear()
    yield
    cache.clear()
    caches["shared"].clear()
