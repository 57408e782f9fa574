"""Issue 14, finding 9: a customer's remote images (tracking pixels) are not fetched
when an agent opens the conversation, only when the agent asks; the page runs under
the Content Security Policy with no violation."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.browser.test_agent_ui import inbound, log_in
from tests.builders import make_agent, make_api_channel, make_org

pytestmark = pytest.mark.browser

PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


class _Tracker(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.send_header("Content-Length", str(len(PIXEL)))
        self.end_headers()
        self.wfile.write(PIXEL)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def tracker():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tracker)
    server.daemon_threads = True
    server.hits = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_remote_images_wait_for_the_agent(live_server_url, page, tracker):
    url = live_server_url
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    ch = make_api_channel(org)
    pixel = f"http://127.0.0.1:{tracker.server_port}/open.gif?who=mario"
    code = inbound(
        url,
        ch,
        sender_id="mario",
        text="Ecco la foto",
        html=f'<p>Ecco la foto</p><img src="{pixel}" alt="foto" width="1" height="1">',
    )
    csp = []
    page.on(
        "response", lambda r: r.url.endswith(f"/c/{code}/") and csp.append(r.headers.get("content-security-policy"))
    )
    log_in(page, url, giulia)
    page.goto(f"{url}/c/{code}/")
    expect(page.locator("article.msg").first).to_contain_text("Ecco la foto")
    page.wait_for_timeout(1000)
    assert tracker.hits == []  # opened, read, nothing left for the tracker
    assert "script-src 'self'" in csp[0] and "unsafe-inline" not in csp[0].split("script-src")[1].split(";")[0]

    page.get_by_role("button", name="Show images").click()
    expect(page.locator("img[alt=foto]")).to_have_attribute("src", pixel)
    page.wait_for_timeout(500)
    assert tracker.hits == ["/open.gif?who=mario"]
    assert [p for p in page.problems if "Content Security Policy" in p or "Refused" in p] == []
