"""Settings for `bench/pipeline.py` only: Adesso's own, plus one bench-only URL.

The benchmark serves Adesso exactly as the Procfile's `web` process does, with this
settings module instead of `adesso.settings`, so that the same server, in the same
run, also answers `POST /bench/bare/<n>`: a bare Django view doing one INSERT the
way the pipeline's accept does (the stack's limit on the machine at hand). Never
used by the shipped app.
"""

from adesso.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_urls"
