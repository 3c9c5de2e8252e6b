"""Throttles: how often one address or one IP may sign up, ask for a password-reset
e-mail, resend a verification e-mail or guess passwords.

E-mail addresses are compared as sign-in compares them (``normalized_email``: surrounding
spaces dropped, case folded), so ``Victim@X``, `` victim@x`` and ``victim@x`` share one
counter. Counters live in the database (``ThrottleHit``), one row per key and fixed
window, incremented by one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: concurrent
requests each get their own count, so exactly ``limit`` of them pass.
"""

import hashlib
from datetime import timedelta

from axes.attempts import get_cool_off_threshold
from axes.conf import settings as axes_settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from .models import ThrottleHit

HOUR = 3600


class Throttled(Exception):
    """Refused: too many of these lately. The message says what and when to try again."""


def normalized_email(value) -> str:
    """An e-mail address as sign-in matches it (``email__iexact``): trimmed, lower case."""
    return str(value or "").strip().lower()


def client_ip(request) -> str:
    """The client's IP address, as django-axes sees it."""
    return get_client_ip_address(request) or ""


def _key(scope, value) -> str:
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()[:40]
    return f"{scope[:50]}:{digest}"


def throttle_hit(*, scope, value, limit, window_seconds, now=None) -> bool:
    """Count one hit of ``value`` (an address, an IP) in ``scope``; True while at most
    ``limit`` hits fell in the current window, False once over it."""
    now = now or timezone.now()
    epoch = int(now.timestamp())
    window_start = now - timedelta(seconds=epoch % window_seconds, microseconds=now.microsecond)
    table = connection.ops.quote_name(ThrottleHit._meta.db_table)
    key = connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE expires_at < %s", [now])  # noqa: S608
        cursor.execute(
            f"INSERT INTO {table} ({key}, window_start, hits, expires_at) "  # noqa: S608
            f"VALUES (%s, %s, 1, %s) ON CONFLICT ({key}, window_start) "
            f"DO UPDATE SET hits = {table}.hits + 1 RETURNING hits",
            [
                _key(scope, value),
                window_start,
                window_start + timedelta(seconds=window_seconds),
            ],
        )
        (hits,) = cursor.fetchone()
    return hits <= limit


def _check(scope, checks, message):
    """Count a hit for every (what, value, limit) and refuse when any is over its limit.
    Every counter is hit, so spreading over IPs or addresses does not stop the count."""
    over = [
        what
        for what, value, limit in checks
        if value
        and not throttle_hit(scope=f"{scope}:{what}", value=value, limit=limit, window_seconds=HOUR)
    ]
    if over:
        raise Throttled(message)


def signup_allow(*, email, ip_address) -> None:
    """Raise ``Throttled`` when this address or IP signed up too often in the last hour."""
    _check(
        "signup",
        [
            ("address", normalized_email(email), settings.SIGNUPS_PER_HOUR_PER_ADDRESS),
            ("ip", ip_address, settings.SIGNUPS_PER_HOUR_PER_IP),
        ],
        "Too many sign-ups from here in the last hour. Please try again later.",
    )


def password_reset_allow(*, email, ip_address) -> None:
    """Raise ``Throttled`` when reset e-mails to this address, or asked for from this IP,
    were too many in the last hour (counted whether or not the address has an account, so
    the answer tells nothing about who has one)."""
    _check(
        "password-reset",
        [
            ("address", normalized_email(email), settings.PASSWORD_RESETS_PER_HOUR_PER_ADDRESS),
            ("ip", ip_address, settings.PASSWORD_RESETS_PER_HOUR_PER_IP),
        ],
        "Too many password-reset e-mails were asked for in the last hour. "
        "Please check your inbox (and spam folder), or try again later.",
    )


# --- Sign-in (django-axes) -------------------------------------------------------------------


def axes_username(request, credentials):
    """The name axes counts failures under: the address as sign-in matches it."""
    field = axes_settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        return normalized_email(credentials.get(field))
    return normalized_email(getattr(request, "POST", {}).get(field))


class PortalAxesHandler(AxesDatabaseHandler):
    """axes' database handler, plus a limit per IP across every address it tries.

    Per address and IP, ``AXES_FAILURE_LIMIT`` wrong passwords lock that address out from
    that IP; ``AXES_IP_FAILURE_LIMIT`` wrong passwords from one IP, whatever the addresses,
    lock the IP out. Both for ``AXES_COOLOFF_HOURS``.
    """

    def ip_failures(self, request) -> int:
        ip_address = getattr(request, "axes_ip_address", None) or client_ip(request)
        attempts = AccessAttempt.objects.filter(
            ip_address=ip_address, attempt_time__gte=get_cool_off_threshold(request)
        )
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def ip_locked(self, request) -> bool:
        return self.ip_failures(request) >= settings.AXES_IP_FAILURE_LIMIT

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or self.ip_locked(request)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is not None and not request.axes_locked_out and self.ip_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
