"""One HTTP request to a receiver, to the address the SSRF guard checked.

``http.client`` rather than a client library: it follows no redirect, reads no proxy from
the environment, and lets the connection go to the checked address while the Host header
and TLS (SNI and certificate) use the URL's name. The whole exchange has one deadline
(``WEBHOOK_TIMEOUT_SECONDS``); only the start of the answer is read.
"""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from .ssrf import url_resolve

READ_LIMIT = 64 * 1024


@dataclass
class Result:
    status: int | None = None
    body: bytes = b""
    error: str = ""
    duration_ms: int = 0


def _timeout():
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 5))


class _Pinned:
    def __init__(self, *args, address, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def _connect_socket(self):
        return socket.create_connection((self._address, self.port), self.timeout)


class PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    def connect(self):
        self.sock = self._connect_socket()


class PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    def connect(self):
        sock = self._connect_socket()
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def send(*, url, method, body, headers) -> Result:
    """Send ``body`` (bytes) to ``url``; never raises. A refused URL is an error without a
    connection."""
    started = time.monotonic()
    deadline = started + _timeout()
    result = Result()
    try:
        scheme, host, port, addresses = url_resolve(url)
    except Exception as exc:  # noqa: BLE001 (ValidationError: the guard's sentence)
        result.error = "Refused: " + " ".join(getattr(exc, "messages", [str(exc)]))
        return result
    parts = urlsplit(url.strip())
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    if method == "get" and body:
        target += ("&" if parts.query else "?") + body.decode()
        body = None
    cls = PinnedHTTPSConnection if scheme == "https" else PinnedHTTPConnection
    extra = {"context": ssl.create_default_context()} if scheme == "https" else {}
    connection = cls(host, port, address=addresses[0], timeout=_timeout(), **extra)
    try:
        connection.request(method.upper(), target, body=body, headers=headers)
        response = connection.getresponse()
        result.status = response.status
        chunks, size = [], 0
        while size < READ_LIMIT:
            if time.monotonic() > deadline:
                break
            chunk = response.read1(min(8192, READ_LIMIT - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        result.body = b"".join(chunks)
    except TimeoutError:
        result.error = f"Timed out after {_timeout():g} s."
    except ssl.SSLError as exc:
        result.error = f"TLS error: {exc.reason or exc}"[:500]
    except (OSError, http.client.HTTPException) as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        connection.close()
        result.duration_ms = int((time.monotonic() - started) * 1000)
    return result
