"""Item 20: the development server (`make run`'s defaults) answers with friendly 404/500
pages, never Django's debug pages; those stay available with DEBUG_PAGES=True."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
UNKNOWN_RESELLER_LINK = "/accounts/signup/r/no-such-reseller/"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own server)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class DevServer:
    """`manage.py runserver` with the embedded defaults (no DEBUG in the environment)."""

    def __init__(self, database_url, **extra_env):
        self.port = _free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DEBUG", "DEBUG_PAGES", "DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
        }
        env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="didportal.settings")
        env.update(extra_env)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def __enter__(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("runserver exited") from None
                time.sleep(0.2)
        raise RuntimeError("runserver did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)

    def get(self, path):
        return _get(f"http://127.0.0.1:{self.port}{path}")


def _test_database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _assert_friendly(status, body, expected_status, title):
    assert status == expected_status
    assert title in body
    assert "URLconf" not in body
    assert "Traceback" not in body
    assert "DEBUG = True" not in body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_unknown_reseller_link_is_a_friendly_404_in_the_default_mode():
    with DevServer(_test_database_url()) as server:
        _assert_friendly(*server.get(UNKNOWN_RESELLER_LINK), 404, "Page not found")
        _assert_friendly(*server.get("/no/such/page/"), 404, "Page not found")
        status, css = server.get("/static/css/portal.css")  # static files still served
        assert status == 200 and "{" in css


def test_a_server_error_is_a_friendly_500_in_the_default_mode(tmp_path):
    # An empty database: the reseller lookup fails, as any unexpected error would.
    with DevServer(f"sqlite:///{tmp_path / 'empty.sqlite3'}") as server:
        _assert_friendly(*server.get(UNKNOWN_RESELLER_LINK), 500, "went wrong")


def test_debug_pages_stay_available_on_request(tmp_path):
    with DevServer(f"sqlite:///{tmp_path / 'empty.sqlite3'}", DEBUG_PAGES="True") as server:
        status, body = server.get("/no/such/page/")
        assert status == 404 and "URLconf" in body
        status, body = server.get(UNKNOWN_RESELLER_LINK)
        assert status == 500 and "Traceback" in body
