"""Real mail servers on loopback for the email channel's tests.

- Dovecot (Debian's dovecot-imapd), started on a free 127.0.0.1 port with a
  throw-away configuration: plain-text login over loopback, one passwd-file
  user, mail in a temporary directory, no system service. Missing dovecot is a
  failure, never a skip (`.ci/run` installs it).
- aiosmtpd, an SMTP server in a thread that keeps every mail it is sent.
"""

from __future__ import annotations

import email
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"


class TokenInfo:
    """An OAuth2 token-info endpoint on loopback (what Google or Microsoft run): a GET
    with the token answers who it belongs to, or 401."""

    def __init__(self, tokens: dict[str, str]) -> None:
        import http.server
        import json
        import threading
        from urllib.parse import parse_qs, urlparse

        known = tokens

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                token = parse_qs(urlparse(self.path).query).get("access_token", [""])[0]
                email_address = known.get(token)
                body = json.dumps({"email": email_address} if email_address else {"error": "invalid_token"}).encode()
                self.send_response(200 if email_address else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tokeninfo?access_token="
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Dovecot:
    port: int
    user: str
    password: str
    root: Path
    process: subprocess.Popen[bytes] | None = None

    def imap_config(self, **extra: object) -> dict[str, object]:
        return {"host": "127.0.0.1", "port": self.port, "ssl": False, "user": self.user,
                "password": self.password, **extra}

    def client(self):  # -> IMAPClient
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, *raws: bytes, folder: str = "INBOX") -> list[int]:
        """APPEND mails as a mail client or an MTA would; returns their UIDs."""
        client = self.client()
        try:
            uids = []
            for raw in raws:
                answer = client.append(folder, raw)
                # b"[APPENDUID <uidvalidity> <uid>] Append completed"
                uids.append(int(answer.split(b"]")[0].split()[-1]))
            return uids
        finally:
            client.logout()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), 15)
            except (ProcessLookupError, ValueError):
                pass
        if self.process is not None:
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot(
    user: str = "support@example.com", password: str = "correct-horse", tokeninfo_url: str = ""
) -> Dovecot:
    """Start Dovecot in a fresh directory; `stop()` ends it and removes the directory.
    With `tokeninfo_url`, XOAUTH2 logins are checked there (an OAuth2 token endpoint)."""
    if not Path(DOVECOT).exists():
        pytest.fail("The email tests need Debian's dovecot-imapd: apt-get install dovecot-imapd "
                    "(.ci/run installs it)")
    # Its own directory under /tmp: Dovecot's unprivileged processes must be able to
    # reach it, which pytest's private tmp_path (mode 0700) does not allow.
    root = Path(tempfile.mkdtemp(prefix="adesso-dovecot-"))
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(exist_ok=True)
    me = pwd.getpwuid(os.getuid())
    if os.getuid() == 0:
        # Dovecot never reads mail as root: the mail belongs to its own unprivileged user.
        mail_user, login_user = pwd.getpwnam("dovecot"), "dovenull"
        os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        internal = "dovecot"
    else:
        mail_user, login_user, internal = me, me.pw_name, me.pw_name
    internal_group = grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name
    os.chmod(root, 0o755)
    port = free_port()
    oauth2 = ""
    if tokeninfo_url:
        (root / "oauth2.conf").write_text(f"tokeninfo_url = {tokeninfo_url}\nusername_attribute = email\n")
        oauth2 = (f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                  f"  args = {root / 'oauth2.conf'}\n}}\n")
    (root / "passwd").write_text(
        f"{user}:{{PLAIN}}{password}:{mail_user.pw_uid}:{mail_user.pw_gid}::{root / 'mail' / 'support'}\n"
    )
    (root / "dovecot.conf").write_text(f"""
base_dir = {root / 'run'}
state_dir = {root / 'state'}
log_path = {root / 'dovecot.log'}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if tokeninfo_url else ""}
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
{oauth2}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root / 'passwd'}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root / 'passwd'}
}}
""")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Dovecot(port, user, password, root, process)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            err = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"dovecot did not start: {err}\n{server.log()}")
        time.sleep(0.05)


@dataclass
class Smtp:
    """An SMTP server (aiosmtpd) on loopback; `messages` are the mails it accepted."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    # An SMTP code to answer the next RCPT with ("450 ..." or "550 ..."), then normal again.
    refuse_next: list[str] = field(default_factory=list)
    controller: object = None

    def config(self) -> dict[str, object]:
        return {"host": "127.0.0.1", "port": self.port, "security": "none", "timeout": 10}

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


class _Handler:
    def __init__(self, server: Smtp) -> None:
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if self.server.refuse_next:
            return self.server.refuse_next.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.server.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def start_smtp() -> Smtp:
    from aiosmtpd.controller import Controller

    server = Smtp(port=free_port())
    controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port)
    controller.start()
    server.controller = controller
    return server


def stop_smtp(server: Smtp) -> None:
    server.controller.stop()  # type: ignore[attr-defined]


def compose(
    subject: str = "Ordine 1234 non arrivato",
    text: str = "Buongiorno, il mio ordine non è ancora arrivato. Potete aiutarmi?",
    sender: str = "Mario Bianchi <mario.bianchi@example.net>",
    to: str = "assistenza@rossi.example",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A customer's mail as a mail client writes it."""
    import email.utils

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain="example.net")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    return bytes(msg.as_bytes(policy=policy.SMTP))
