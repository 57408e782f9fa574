"""Finding 9 of issue 14 (the parts not about secrets): a Content Security Policy on
every page, https-only cookies, redirects and HSTS when SITE_URL is https, `adesso
check` saying when they are off, and customers' remote images held."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from adesso.accounts.models import Role
from adesso.lib.remoteimages import hold_remote_images
from tests.builders import customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize(
    "path",
    [
        "/login/",
        "/",
        "/contacts/",
        "/settings/agents",
        "/settings/teams",
        "/settings/autoreplies",
        "/reports/",
        "/planner/",
        "/team",
        "/notifications",
        "/search?q=ordine",
        "/coach/",
        "/settings/canned",
        "/api/v1/docs",
    ],
)
def test_every_page_has_a_strict_policy(path):
    admin = make_agent(make_org(), "Anna", role=Role.ADMIN)
    client = Client()
    if path != "/login/":
        client.force_login(admin)
    page = client.get(path)
    assert page.status_code == 200, path
    policy = _policy(page)
    assert policy["script-src"] == "script-src 'self'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["default-src"] == "default-src 'self'"
    assert "frame-ancestors" in policy and "base-uri" in policy and "form-action" in policy
    assert "http:" not in policy["img-src"]  # remote images only where messages are shown


def test_a_conversation_page_allows_remote_images_but_holds_them():
    org = make_org()
    agent = make_agent(org)
    body = customer_writes(
        make_api_channel(org),
        "Foto",
        html='<p>Foto</p><img src="https://tracker.example/p.gif?id=7" alt="x">'
        '<img src="//tracker.example/q.gif"><img src="data:image/gif;base64,R0lGODlh" alt="inline">',
    )
    client = Client()
    client.force_login(agent)
    page = client.get(f"/c/{body['conversation']}/")
    html = page.content.decode()
    assert not re.search(r'\ssrc="(https:)?//tracker', html)
    assert 'data-remote-src="https://tracker.example/p.gif?id=7"' in html
    assert "Mostra immagini" in html  # the agent speaks Italian
    assert "https:" in _policy(page)["img-src"]


def test_holding_images():
    html, count = hold_remote_images('<img alt="a" src="http://x.example/a.png" width="1"><img src="/attachments/abc">')
    assert count == 1
    assert html.startswith('<img alt="a" data-remote-src="http://x.example/a.png" class="remote-image" width="1">')
    assert html.endswith('<img src="/attachments/abc">')


def test_no_template_has_inline_script_or_handlers():
    """The policy allows no inline script: nothing may rely on one."""
    offenders = []
    for path in (ROOT / "adesso").rglob("templates/**/*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)[^>]*>", text):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{path}: inline handler")
        if "javascript:" in text:
            offenders.append(f"{path}: javascript: URL")
    assert offenders == []


def _settings_for(env: dict[str, str], *names: str) -> list[str]:
    code = "import django; django.setup(); from django.conf import settings as s; " + "; ".join(
        f"print(repr(getattr(s, {n!r}, None)))" for n in names
    )
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "adesso.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split("\n")[:-1]


NAMES = (
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
)


def test_an_https_site_gets_secure_cookies_redirects_and_hsts(tmp_path):
    env = {"ADESSO_VAR_DIR": str(tmp_path), "SITE_URL": "https://help.rossi.example"}
    assert _settings_for(env, *NAMES) == ["True", "True", "True", "31536000", "None"]
    behind = _settings_for({**env, "ADESSO_PROXY_COUNT": "1"}, "SECURE_PROXY_SSL_HEADER")
    assert behind == ["('HTTP_X_FORWARDED_PROTO', 'https')"]
    assert _settings_for({**env, "SITE_URL": "http://127.0.0.1:8000"}, *NAMES) == [
        "False",
        "False",
        "False",
        "0",
        "None",
    ]


def test_adesso_check_reports_an_https_site_without_them(tmp_path):
    env = {
        **os.environ,
        "ADESSO_VAR_DIR": str(tmp_path),
        "SITE_URL": "https://help.rossi.example",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "help.rossi.example",
        "EMAIL_HOST": "smtp.rossi.example",
        "ADESSO_SECRETS_KEY": "",
        "SESSION_COOKIE_SECURE": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
    }
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-m", "adesso", "check"], env=env, capture_output=True, text=True, cwd=ROOT)
    text = out.stdout + out.stderr
    for check in ("adesso.W011", "adesso.W012", "adesso.W013", "adesso.W014"):
        assert check in text, text
    env.update({"SESSION_COOKIE_SECURE": "1", "SECURE_SSL_REDIRECT": "1", "SECURE_HSTS_SECONDS": "3600"})
    again = subprocess.run([sys.executable, "-m", "adesso", "check"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert not re.search(r"adesso\.W01[1-4]", again.stdout + again.stderr)


def test_on_https_plain_http_is_redirected_and_hsts_sent(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.ALLOWED_HOSTS = ["help.rossi.example"]
    plain = Client().get("/login/", HTTP_HOST="help.rossi.example")
    assert plain.status_code == 301
    assert plain["Location"] == "https://help.rossi.example/login/"
    secure = Client().get("/login/", HTTP_HOST="help.rossi.example", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
