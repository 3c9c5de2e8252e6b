"""Webhooks and order callbacks: the interface other apps call, and the sending.

``event_emit`` / ``events_emit`` and ``order_callback_queue`` write delivery rows in the
caller's transaction (the outbox pattern, as e-mails do): if the transaction rolls back,
nothing is sent; once it commits, each delivery's id goes to the ``deliver_webhook`` task,
and if that enqueue fails (Redis down) the periodic sweep sends it later.

Sending (``delivery_send``) claims the row with ``select_for_update(skip_locked=True)`` and
records the attempt in the transaction that sends it, so one delivery is sent by one worker
at a time; a crash between the receiver's answer and the commit sends it again
(at-least-once: receivers deduplicate on ``X-Didportal-Delivery``). Every body is signed:
``X-Didportal-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``. A failure is
retried after 1, 5 and 15 minutes, 1, 3, 6 and 12 hours (about a day), then given up; an
endpoint whose deliveries are given up ``WEBHOOK_DISABLE_AFTER_FAILURES`` times in a row is
disabled and its account's admins are e-mailed.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import timedelta
from urllib.parse import urlencode
from uuid import uuid4

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.branding import brand_for_account
from accounts.models import Role
from accounts.permissions import may_manage_webhooks
from didportal.crypto import DecryptionError, decrypt, encrypt
from didportal.enqueue import enqueue
from outbox.services import email_queue

from . import http
from .models import Attempt, CallbackSecret, Delivery, Endpoint
from .ssrf import url_check, url_parts

logger = logging.getLogger(__name__)

Status = Delivery.Status
Kind = Delivery.Kind

EVENTS = {
    "order.completed": "An order completed",
    "order.failed": "An order failed",
    "number.activated": "A number became active",
    "number.on_hold": "A number went on hold",
    "number.released": "A number was released",
    "number.renewed": "A number was renewed",
    "number.renewal_failed": "A number's renewal failed",
    "balance.low": "The balance fell below its threshold",
    "registration.approved": "A registration was approved",
    "registration.rejected": "A registration was rejected",
}
TEST_EVENT = "test"
CALLBACK_EVENT = "order.callback"

# Seconds to wait after the 1st, 2nd, … failed attempt: about a day in all.
RETRY_DELAYS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
# What the delivery log keeps of a receiver's answer.
RESPONSE_LOGGED_CHARS = 2000
# How old a signature's timestamp may be for a receiver to accept it (documented).
REPLAY_WINDOW_SECONDS = 300
# More deliveries than this from one commit go to the sweep task instead of one task each.
ENQUEUE_EACH_UP_TO = 20
MAX_ENDPOINTS_PER_ACCOUNT = 20
USER_AGENT = "didportal-webhooks/1"
# The sweep hands a due delivery to the workers at most this often.
SWEEP_AGAIN_AFTER = timedelta(minutes=5)

# DIDWW's order statuses for ours: a partly completed order is completed (its failed
# items are on the order), a failed one canceled.
CALLBACK_STATUS = {
    "completed": "completed",
    "partial": "completed",
    "failed": "canceled",
    "canceled": "canceled",
}


def retry_delays():
    return tuple(getattr(settings, "WEBHOOK_RETRY_DELAYS", RETRY_DELAYS))


def max_attempts() -> int:
    return len(retry_delays()) + 1


def disable_after() -> int:
    return int(getattr(settings, "WEBHOOK_DISABLE_AFTER_FAILURES", 5))


# --- signing ---------------------------------------------------------------------------------


def secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _hint(secret):
    return secret[:10] + "…"


def signature(*, secret, timestamp, body) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    body = body if isinstance(body, bytes) else body.encode()
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret, body, timestamp=None) -> str:
    timestamp = int(time.time() if timestamp is None else timestamp)
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(*, secret, header, body, tolerance=REPLAY_WINDOW_SECONDS, now=None) -> bool:
    """What a receiver runs (the README shows it standalone): the header's ``v1`` is the
    HMAC of ``"<t>.<body>"`` and ``t`` is within ``tolerance`` seconds of ``now``."""
    try:
        fields = [item.split("=", 1) for item in (header or "").split(",")]
        timestamp = int(next(v for k, v in fields if k.strip() == "t"))
        candidates = [v.strip() for k, v in fields if k.strip() == "v1"]
    except (ValueError, StopIteration):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


# --- endpoints (the pages call these) --------------------------------------------------------


def _check_manager(actor, account):
    if not may_manage_webhooks(actor) or actor.account_id != account.pk:
        raise PermissionDenied("Only the account's admins manage its webhooks.")


def _clean(*, url, description, events):
    errors = {}
    try:
        url = url_check(url)
    except ValidationError as exc:
        errors["url"] = exc.messages
    events = list(dict.fromkeys(events or ()))
    if not events:
        errors["events"] = "Choose at least one event to send to this endpoint."
    elif any(event not in EVENTS for event in events):
        errors["events"] = "Unknown event."
    description = " ".join((description or "").split())[:200]
    if errors:
        raise ValidationError(errors)
    return url, description, [event for event in EVENTS if event in events]


@transaction.atomic
def endpoint_create(*, actor, account, url, events, description="", enabled=True):
    """A new endpoint of ``account``; returns ``(endpoint, secret)`` — the signing secret
    in clear, to show once."""
    _check_manager(actor, account)
    url, description, events = _clean(url=url, description=description, events=events)
    if Endpoint.objects.filter(account=account).count() >= MAX_ENDPOINTS_PER_ACCOUNT:
        raise ValidationError(
            f"An account has at most {MAX_ENDPOINTS_PER_ACCOUNT} endpoints: delete one first."
        )
    secret = secret_new()
    endpoint = Endpoint.objects.create(
        account=account,
        url=url,
        description=description,
        events=events,
        enabled=enabled,
        secret_encrypted=encrypt(secret),
        secret_hint=_hint(secret),
        created_by=actor,
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, actor, endpoint, url, events, description="", enabled=True):
    """Change an endpoint; enabling it again clears its failure count."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    _check_manager(actor, endpoint.account)
    url, description, events = _clean(url=url, description=description, events=events)
    endpoint.url, endpoint.description, endpoint.events = url, description, events
    if enabled and not endpoint.enabled:
        endpoint.consecutive_failures = 0
        endpoint.disabled_reason, endpoint.disabled_at = "", None
    elif not enabled and endpoint.enabled:
        endpoint.disabled_reason, endpoint.disabled_at = "", timezone.now()
    endpoint.enabled = enabled
    endpoint.updated_at = timezone.now()
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, actor, endpoint) -> str:
    """A new signing secret, in force for every attempt from now on; returns it in clear."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    _check_manager(actor, endpoint.account)
    secret = secret_new()
    endpoint.secret_encrypted, endpoint.secret_hint = encrypt(secret), _hint(secret)
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["secret_encrypted", "secret_hint", "updated_at"])
    return secret


@transaction.atomic
def endpoint_delete(*, actor, endpoint):
    """Delete an endpoint and its delivery log; what was pending is not sent."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    _check_manager(actor, endpoint.account)
    endpoint.delete()


def endpoint_send_test(*, actor, endpoint, now=None) -> Delivery:
    """Queue a ``test`` event to ``endpoint`` (whatever it subscribed to)."""
    _check_manager(actor, endpoint.account)
    if not endpoint.enabled:
        raise ValidationError("Enable the endpoint first: a disabled endpoint is sent nothing.")
    now = now or timezone.now()
    data = {"message": "A test event from your portal: your endpoint is reachable."}
    with transaction.atomic():
        rows = _delivery_rows(
            [(endpoint, Kind.TEST, TEST_EVENT, data)], now=now, account_id=endpoint.account_id
        )
        (delivery,) = _store(rows)
    return delivery


@transaction.atomic
def callback_secret_rotate(*, actor, account) -> str:
    """A new key for the account's order callbacks; returns it in clear, to show once."""
    _check_manager(actor, account)
    secret = secret_new()
    CallbackSecret.objects.update_or_create(
        account=account,
        defaults={
            "secret_encrypted": encrypt(secret),
            "secret_hint": _hint(secret),
            "created_at": timezone.now(),
        },
    )
    return secret


def _callback_secret(account_id) -> str:
    """The account's callback key, made on first use (the page's "rotate" shows a new one)."""
    found = CallbackSecret.objects.filter(account_id=account_id).first()
    if found is None:
        secret = secret_new()
        try:
            with transaction.atomic():
                found = CallbackSecret.objects.create(
                    account_id=account_id,
                    secret_encrypted=encrypt(secret),
                    secret_hint=_hint(secret),
                )
        except IntegrityError:
            found = CallbackSecret.objects.get(account_id=account_id)
    return decrypt(found.secret_encrypted)


# --- queuing (other apps call these inside their transactions) -----------------------------


def _body(event_id, event, now, data) -> str:
    document = {"id": str(event_id), "event": event, "created_at": now.isoformat(), "data": data}
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"))


def _delivery_rows(targets, *, now, account_id):
    """Unsaved deliveries for ``targets`` — ``(endpoint, kind, event, data)`` of one
    event — all with one event id (the payload's ``id``)."""
    event_id = uuid4()
    return [
        Delivery(
            account_id=account_id,
            endpoint=endpoint,
            kind=kind,
            event=event,
            event_id=event_id,
            url=endpoint.url,
            body=_body(event_id, event, now, data),
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint, kind, event, data in targets
    ]


def _store(rows):
    """Write the deliveries with one INSERT; their ids go to the workers after commit."""
    created = Delivery.objects.bulk_create(rows) if rows else []
    _enqueue_after_commit([delivery.pk for delivery in created])
    return created


def events_emit(items, *, now=None) -> list:
    """Queue many events at once: ``items`` are ``(account or account id, event, data)``.
    One query finds the accounts' enabled endpoints; one INSERT writes the deliveries.
    Call it inside the transaction of the changes it reports."""
    now = now or timezone.now()
    items = [(getattr(account, "pk", account), event, data) for account, event, data in items]
    unknown = {event for _, event, _ in items} - set(EVENTS)
    if unknown:
        raise ValueError(f"Unknown webhook events: {sorted(unknown)}")
    account_ids = {account_id for account_id, _, _ in items if account_id is not None}
    if not account_ids:
        return []
    endpoints = {}
    for endpoint in Endpoint.objects.filter(account_id__in=account_ids, enabled=True):
        endpoints.setdefault(endpoint.account_id, []).append(endpoint)
    if not endpoints:
        return []
    rows = []
    for account_id, event, data in items:
        targets = [
            (endpoint, Kind.EVENT, event, data)
            for endpoint in endpoints.get(account_id, ())
            if event in endpoint.events
        ]
        if targets:
            rows += _delivery_rows(targets, now=now, account_id=account_id)
    return _store(rows)


def event_emit(*, account, event, data, now=None) -> list:
    """Queue ``event`` (a key of ``EVENTS``) with ``data`` (JSON-serialisable: Decimals and
    dates become strings) for every enabled endpoint of ``account`` subscribed to it.
    Call inside the transaction that made the change. Returns the deliveries."""
    return events_emit([(account, event, data)], now=now)


def callback_url_check(url, method="post") -> tuple[str, str]:
    """Check an order's ``callback_url`` / ``callback_method`` when the API accepts them
    (the SSRF guard, with a DNS lookup: call it before the order's transaction). Returns
    them cleaned (``method`` lower-case); raises ``ValidationError`` by field."""
    method = (method or "post").lower()
    if method not in Delivery.Method.values:
        raise ValidationError({"callback_method": "The callback method is get or post."})
    try:
        return url_check(url), method
    except ValidationError as exc:
        raise ValidationError({"callback_url": exc.messages}) from None


def order_callback_queue(*, order, url, method) -> Delivery | None:
    """Queue DIDWW's order callback: ``url`` is called (``method`` "post": a form body,
    "get": query parameters) with the order's ``id``, ``type`` ("orders") and ``status``
    ("completed" or "canceled"). Call inside the order's transaction, once it is completed
    or failed (a pending order queues nothing). Queuing twice for one status stores one.
    The URL was checked with ``callback_url_check`` when the order was accepted; here only
    its form is (no DNS lookup inside the transaction); the full guard runs at each send."""
    status = CALLBACK_STATUS.get(str(order.status))
    if status is None or not url:
        return None
    method = (method or "post").lower()
    if method not in Delivery.Method.values:
        raise ValidationError({"callback_method": "The callback method is get or post."})
    try:
        url_parts(url)
    except ValidationError as exc:
        raise ValidationError({"callback_url": exc.messages}) from None
    key = f"order-callback:{order.pk}:{status}"
    body = urlencode({"id": str(order.pk), "type": "orders", "status": status})
    content_type = "application/x-www-form-urlencoded" if method == "post" else ""
    with transaction.atomic():
        existing = Delivery.objects.filter(key=key).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    account_id=order.account_id,
                    kind=Kind.CALLBACK,
                    event=CALLBACK_EVENT,
                    url=url.strip(),
                    method=method,
                    body=body,
                    content_type=content_type,
                    key=key,
                )
        except IntegrityError:
            return Delivery.objects.get(key=key)
        _enqueue_after_commit([delivery.pk])
    return delivery


def _enqueue_after_commit(ids):
    if ids:
        transaction.on_commit(lambda: deliveries_enqueue(ids=ids), robust=True)


def deliveries_enqueue(*, ids) -> bool:
    """Hand deliveries to workers; never raises. Many at once go to one sweep task; the
    first failed enqueue stops (the broker is down: the periodic sweep sends them)."""
    from .tasks import deliver_webhook, sweep_webhooks  # noqa: PLC0415 (tasks import us)

    catch_up = "the periodic webhook sweep"
    if len(ids) > ENQUEUE_EACH_UP_TO:
        return enqueue(sweep_webhooks, catch_up=catch_up)
    return all(enqueue(deliver_webhook, pk, catch_up=catch_up) for pk in ids)


# --- sending --------------------------------------------------------------------------------


def _secret_of(delivery):
    if delivery.endpoint_id is not None:
        return decrypt(delivery.endpoint.secret_encrypted)
    return _callback_secret(delivery.account_id)


def _headers(delivery, secret):
    body = delivery.body.encode()
    headers = {
        "User-Agent": USER_AGENT,
        "X-Didportal-Event": delivery.event,
        "X-Didportal-Delivery": str(delivery.uuid),
        "X-Didportal-Signature": signature_header(secret=secret, body=body),
    }
    if delivery.method == Delivery.Method.POST:
        headers["Content-Type"] = delivery.content_type
    return headers


def _attempt(delivery):
    """One HTTP attempt; returns an unsaved Attempt."""
    url = delivery.endpoint.url if delivery.endpoint_id else delivery.url
    attempt = Attempt(
        delivery=delivery, number=delivery.attempts + 1, started_at=timezone.now(), url=url
    )
    try:
        secret = _secret_of(delivery)
    except DecryptionError:
        attempt.error = "The signing secret cannot be read: rotate it on the endpoint's page."
        return attempt
    result = http.send(
        url=url,
        method=delivery.method,
        body=delivery.body.encode(),
        headers=_headers(delivery, secret),
    )
    attempt.duration_ms = result.duration_ms
    attempt.response_status = result.status
    attempt.response_body = result.body.decode("utf-8", "replace")[:RESPONSE_LOGGED_CHARS]
    attempt.succeeded = result.status is not None and 200 <= result.status < 300
    if result.error:
        attempt.error = result.error[:500]
    elif not attempt.succeeded:
        attempt.error = f"The receiver answered {result.status}"
        if 300 <= result.status < 400:
            attempt.error += " (redirects are not followed: use the final URL)"
        attempt.error += "."
    return attempt


def _deliver(delivery, *, now) -> str:
    """Send one claimed (row-locked) delivery and record the outcome; the caller commits."""
    if delivery.endpoint_id is not None and not delivery.endpoint.enabled:
        delivery.status, delivery.next_attempt_at = Status.FAILED, None
        delivery.error = "Not sent: the endpoint is disabled."
        delivery.save()
        return "failed"
    attempt = _attempt(delivery)
    attempt.save()
    delivery.attempts = attempt.number
    delivery.last_attempt_at = attempt.started_at
    delivery.url = attempt.url
    delivery.response_status = attempt.response_status
    delivery.error = attempt.error
    if attempt.succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            Status.DELIVERED,
            now,
            None,
        )
        outcome = "delivered"
        if delivery.endpoint_id is not None and delivery.endpoint.consecutive_failures:
            Endpoint.objects.filter(pk=delivery.endpoint_id).update(consecutive_failures=0)
    elif delivery.attempts >= max_attempts():
        delivery.status, delivery.next_attempt_at = Status.FAILED, None
        outcome = "failed"
        logger.warning("webhooks: gave up on delivery %s: %s", delivery.pk, delivery.error)
        if delivery.endpoint_id is not None:
            _endpoint_failed(delivery.endpoint, now=now)
    else:
        delays = retry_delays()
        delay = delays[min(delivery.attempts, len(delays)) - 1]
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        outcome = "retry"
    delivery.save()
    return outcome


def _endpoint_failed(endpoint, *, now):
    """One more delivery given up: at the limit the endpoint is disabled (once: a
    conditional UPDATE) and the account's admins are e-mailed."""
    Endpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    limit = disable_after()
    reason = f"{limit} deliveries in a row failed for a day each"
    disabled = Endpoint.objects.filter(
        pk=endpoint.pk, enabled=True, consecutive_failures__gte=limit
    ).update(enabled=False, disabled_at=now, disabled_reason=reason)
    if disabled:
        _disabled_email(endpoint, reason=reason, now=now)


def _disabled_email(endpoint, *, reason, now):
    account = endpoint.account
    admins = account.users.filter(
        role__in=(Role.CUSTOMER_ADMIN, Role.RESELLER_ADMIN), is_active=True
    ).values_list("email", flat=True)
    if not admins:
        return
    brand = brand_for_account(account)
    email_queue(
        to=list(admins),
        account=account,
        subject=f"[{brand.name}] Webhook endpoint disabled: {endpoint.url}",
        text=(
            f"We stopped sending webhooks to {endpoint.url} for {account.name}: {reason}.\n\n"
            "Events that happen while it is disabled are not queued for it. Once the "
            "endpoint answers again, enable it on the Webhooks page, and use “send again” "
            "on the deliveries you need:\n"
            f"{brand.site_url}/account/webhooks/endpoints/{endpoint.pk}/\n"
        ),
        key=f"webhook-disabled:{endpoint.pk}:{now.isoformat()}",
    )


def _claim(queryset):
    return (
        queryset.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint", "endpoint__account")
        .filter(status=Status.PENDING)
        .first()
    )


def delivery_send(*, delivery_id, now=None) -> str:
    """Send one delivery if it is pending and due; safe to run twice or concurrently.
    Returns ``"delivered"``, ``"retry"``, ``"failed"`` or ``"skipped"`` (not due, done,
    gone, or being sent by another worker right now)."""
    with transaction.atomic():
        now = now or timezone.now()
        delivery = _claim(Delivery.objects.filter(pk=delivery_id, next_attempt_at__lte=now))
        if delivery is None:
            return "skipped"
        return _deliver(delivery, now=now)


def deliveries_due_ids(*, now=None, limit=1000) -> list:
    now = now or timezone.now()
    due = Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
    return list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def webhooks_sweep(*, now=None, limit=1000) -> int:
    """Hand every due delivery (first attempts whose enqueue was lost, and retries) to the
    workers; returns how many. Run every minute by beat. One handed over is not handed
    again for ``SWEEP_AGAIN_AFTER`` (the workers may be busy); a delivery queued twice is
    sent once anyway (``delivery_send`` claims it). Also drops old finished deliveries."""
    from .tasks import deliver_webhook  # noqa: PLC0415

    now = now or timezone.now()
    due = Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).exclude(
        swept_at__gt=now - SWEEP_AGAIN_AFTER
    )
    handed = []
    for pk in due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]:
        if not enqueue(deliver_webhook, pk, catch_up="the next sweep"):
            break
        handed.append(pk)
    Delivery.objects.filter(pk__in=handed).update(swept_at=now)
    deliveries_prune(now=now)
    return len(handed)


def deliveries_prune(*, now=None, batch=1000) -> int:
    """Delete up to ``batch`` deliveries (with their attempts) delivered or given up more
    than ``WEBHOOK_LOG_DAYS`` ago; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=int(getattr(settings, "WEBHOOK_LOG_DAYS", 30)))
    old = Delivery.objects.exclude(status=Status.PENDING).filter(created_at__lt=cutoff)
    ids = list(old.order_by("pk").values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    Attempt.objects.filter(delivery_id__in=ids).delete()
    return Delivery.objects.filter(pk__in=ids).delete()[1].get("webhooks.Delivery", 0)


def webhooks_flush(*, now=None, limit=None) -> dict:
    """Send every due delivery here, oldest due first, one transaction each (the
    ``flush_webhooks`` command). Returns counts per outcome."""
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    while limit is None or sum(counts.values()) < limit:
        with transaction.atomic():
            moment = now or timezone.now()
            due = Delivery.objects.filter(next_attempt_at__lte=moment).order_by(
                "next_attempt_at", "pk"
            )
            delivery = _claim(due)
            if delivery is None:
                break
            counts[_deliver(delivery, now=moment)] += 1
    return counts


def delivery_resend(*, actor, delivery) -> Delivery:
    """ "Send again": the same delivery (same id, same body) is due now. A given-up one
    gets one more attempt; a delivered one is sent once more."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("endpoint", "account")
            .get(pk=delivery.pk)
        )
        _check_manager(actor, delivery.account)
        if delivery.endpoint_id is not None and not delivery.endpoint.enabled:
            raise ValidationError("Enable the endpoint first: a disabled endpoint is sent nothing.")
        delivery.status, delivery.delivered_at = Status.PENDING, None
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "delivered_at", "next_attempt_at"])
        _enqueue_after_commit([delivery.pk])
    return delivery
