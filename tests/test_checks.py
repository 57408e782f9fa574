"""System checks refuse bad configuration with a clear message."""

import os
import subprocess
import sys

import pytest

ADESSO = os.path.join(os.path.dirname(sys.executable), "adesso")


def check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run([ADESSO, "check"], capture_output=True, text=True, timeout=60,
                          env={**clean, **env})


def test_default_configuration_passes():
    result = check()
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_public_site_with_a_mail_server_passes():
    result = check(SITE_URL="https://help.example.com", ALLOWED_HOSTS="help.example.com",
                   SECRET_KEY="x" * 50, EMAIL_HOST="smtp.example.com")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SITE_URL": "ftp://example.com"}, "adesso.E002"),
        ({"SITE_URL": "https://help.example.com", "ALLOWED_HOSTS": "help.example.com"}, "adesso.E001"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL must be a redis://"),
        ({"ADESSO_MAX_BODY_BYTES": "0"}, "adesso.E005"),
        ({"ADESSO_MAX_BODY_BYTES": "ten"}, "ADESSO_MAX_BODY_BYTES must be a whole number"),
        ({"DATABASE_URL": "mysql://root@127.0.0.1/x"}, "Adesso does not support"),
        ({"SITE_URL": "https://help.example.com", "ALLOWED_HOSTS": "help.example.com",
          "SECRET_KEY": "x" * 50}, "adesso.E006"),
    ],
)
def test_bad_configuration_is_refused(env, message):
    result = check(**env)
    assert result.returncode != 0
    assert message in result.stderr
