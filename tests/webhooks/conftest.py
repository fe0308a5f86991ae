"""A real HTTP receiver on 127.0.0.1 (a thread running ``http.server``) that records what it
is sent and answers what the test says: a status per request, or nothing at all (down)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from loyalty.services.integrations import webhooks
from tests import factories


class Receiver:
    """``answers``: statuses for the next requests (then 200). ``stop()``/``start()``: the
    port refuses connections while it is stopped, and the same port serves again after."""

    def __init__(self):
        self.received = []  # (headers dict, body bytes)
        self.answers = []
        self.port = 0
        self.server = None
        self.start()

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                if 300 <= status < 400:  # a redirect back here: followed, it would be seen
                    self.send_header("location", receiver.url + "/moved")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks"

    def events(self):
        return [json.loads(body) for _headers, body in self.received]


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def points_shop(merchant):
    factories.points_program(merchant.merchant)
    return merchant


@pytest.fixture
def hook(points_shop, receiver):
    """An endpoint of the points shop for every event: (endpoint, secret)."""
    return webhooks.create_endpoint(points_shop.id, url=receiver.url,
                                    events=list(webhooks.EVENTS))
