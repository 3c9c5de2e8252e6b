"""The SSRF guard: a webhook or callback URL must reach the public internet, over HTTPS.

``url_check`` runs when an endpoint is saved (and an order's callback URL accepted);
``url_resolve`` runs again right before each send and returns the addresses checked, so the
connection goes to exactly those (``http.PinnedConnection``): a name that resolved to a
public address at save and to 127.0.0.1 at send (DNS rebinding) is refused at send.

Refused: private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback (127/8, ::1), link-local
(169.254/16 — cloud metadata — fe80::/10), multicast, reserved, unspecified and shared
(100.64/10) addresses, IPv4 hidden in IPv6 (``::ffff:127.0.0.1``, 6to4), user names or
passwords in the URL, and any scheme but https. ``WEBHOOK_ALLOW_PRIVATE_URLS`` (development
against a local receiver, and the tests) allows private addresses and plain http.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_URL_LENGTH = 500


def private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))


def _public(address) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # fe80::1%eth0
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return _public(str(embedded))
        if ip.teredo is not None:
            return False
    return ip.is_global and not ip.is_multicast


def url_parts(url):
    """``(scheme, host, port)`` of a URL we may call, or ``ValidationError`` saying why not
    (without looking the host up)."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("Enter a URL.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(f"A URL has at most {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationError("A URL cannot contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError("This is not a valid URL.") from None
    schemes = ("https", "http") if private_allowed() else ("https",)
    if parts.scheme.lower() not in schemes:
        raise ValidationError("The URL must start with https://.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("Put no user name or password in the URL.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValidationError("The URL has no host name.")
    if port == 0:
        raise ValidationError("This is not a valid port.")
    scheme = parts.scheme.lower()
    return scheme, host, port or (443 if scheme == "https" else 80)


def url_resolve(url):
    """The addresses to connect to for ``url``, every one of them public (or any, with
    ``WEBHOOK_ALLOW_PRIVATE_URLS``): ``(scheme, host, port, [addresses])``. Raises
    ``ValidationError`` naming the reason."""
    scheme, host, port = url_parts(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise ValidationError(f"The host name {host} could not be found.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise ValidationError(f"The host name {host} could not be found.")
    if not private_allowed():
        blocked = [a for a in addresses if not _public(a)]
        if blocked:
            raise ValidationError(
                f"{host} points at a private, local or reserved address ({blocked[0]}): "
                "webhooks go to public addresses only."
            )
    return scheme, host, port, addresses


def url_check(url) -> str:
    """Refuse a URL we would not call (see the module's docstring); returns it stripped."""
    url_resolve(url)
    return url.strip()
