"""Webhook fixtures: a real HTTP receiver on 127.0.0.1, Celery eager, endpoints."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.compliance.conftest import (  # noqa: F401 (fixtures for test_events)
    compliance_officer,
    paris,
    paris_requirement,
)
from webhooks import services

PUBLIC_IP = "93.184.215.14"  # a global unicast address (never connected to in tests)


class Receiver:
    """An HTTP server in a thread that records every request and answers ``status``
    (or the next of ``statuses``)."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.statuses = []
        self.body = b"ok"
        self.delay = 0.0
        self.redirect_to = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                self.send_response(status)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            do_POST = do_GET = _answer  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def json(self, index=-1):
        return json.loads(self.requests[index]["body"])


@pytest.fixture
def receiver():
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def allow_private(settings):
    """Local receivers (127.0.0.1, plain http) are allowed, as in development."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def eager():
    """Tasks enqueued with ``.delay()``/``apply_async`` run at once, as a worker would."""
    from didportal.celery import conf_override  # noqa: PLC0415

    saved = conf_override(task_always_eager=True, task_eager_propagates=True)
    yield
    conf_override(**saved)


@pytest.fixture
def resolve_to(monkeypatch):
    """``resolve_to({"hooks.example.com": "127.0.0.1"})``: DNS answers for these names."""
    answers = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers.update


def make_endpoint(user, url, events=None, **fields):
    """An endpoint of ``user``'s account: ``(endpoint, secret)``."""
    return services.endpoint_create(
        actor=user,
        account=user.account,
        url=url,
        events=list(services.EVENTS) if events is None else events,
        **fields,
    )
