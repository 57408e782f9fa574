"""`make run`'s ports (scripts/run), as a newcomer meets them: taken ports stop it with
a clear message; free ones given by ADESSO_PORT/ADESSO_LIVE_PORT are served and printed."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = str(Path(sys.executable).parent)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "ADESSO", "DATABASE_URL", "REDIS"))}
    return {**clean, "BIN": BIN, "ADESSO_VAR_DIR": str(tmp_path / "var"), **extra}


def test_a_taken_port_stops_make_run_with_a_clear_message(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        run = subprocess.run(
            ["bash", "scripts/run"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env=env_for(tmp_path, ADESSO_PORT=str(taken), ADESSO_LIVE_PORT=str(free_port())),
        )
    assert run.returncode == 1
    assert f"port {taken} on 127.0.0.1 is already taken" in run.stderr
    assert "ADESSO_PORT=" in run.stderr
    assert "Adesso is starting" not in run.stdout


def test_the_same_port_twice_is_refused(tmp_path):
    port = str(free_port())
    run = subprocess.run(
        ["bash", "scripts/run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env_for(tmp_path, ADESSO_PORT=port, ADESSO_LIVE_PORT=port),
    )
    assert run.returncode == 2
    assert "different ports" in run.stderr


def test_make_run_serves_on_the_ports_given_and_prints_them(tmp_path):
    web, live = free_port(), free_port()
    env = env_for(tmp_path, ADESSO_PORT=str(web), ADESSO_LIVE_PORT=str(live))
    subprocess.run([f"{BIN}/adesso", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300)
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "scripts/run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{web}/login/", timeout=2).status_code
                live_answers = httpx.get(f"http://127.0.0.1:{live}/", timeout=2).status_code
                break
            except httpx.TransportError:
                time.sleep(0.3)
        printed = log.read_text()
        assert status == 200, printed
        assert live_answers < 500
        assert f"http://127.0.0.1:{web}" in printed
        assert f"ws://127.0.0.1:{live}/ws/agent/" in printed
        logins = re.findall(r"^\s*(\S+@dolcevita\.example) (\S+)$", printed, re.MULTILINE)
        assert len(logins) == 4, printed  # every demo agent, as `email password`
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
