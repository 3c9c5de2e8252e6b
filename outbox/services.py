"""Queue e-mails with the business write; send them after commit, or later.

``email_queue`` stores the e-mail in the caller's transaction and, once that commits, hands
its id to the ``send_email`` task. If the enqueue fails (Redis down) nothing is lost: the
periodic ``flush_outbox`` job sends every queued e-mail that is due.

Delivery is at-least-once: an e-mail is claimed with ``select_for_update(skip_locked=True)``
and marked sent in the transaction that sends it, so two workers never send it twice; but
if the database goes away between the SMTP server's "accepted" and the commit, the e-mail
is still queued and is sent again by the next attempt. Every attempt carries the same
Message-ID, so most mail clients show such a repeat once.
"""

import logging
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.branding import email_sender
from didportal.enqueue import enqueue

from .models import OutgoingEmail

logger = logging.getLogger(__name__)

Status = OutgoingEmail.Status

REDACTED = "[removed after sending: this e-mail held a one-time secret]"


def _max_attempts():
    return getattr(settings, "OUTBOX_MAX_ATTEMPTS", 8)


def _retry_delay(attempts) -> timedelta:
    """Exponential backoff: 1, 2, 4, … minutes after the 1st, 2nd, 3rd … failure."""
    base = getattr(settings, "OUTBOX_RETRY_BASE_SECONDS", 60)
    cap = getattr(settings, "OUTBOX_RETRY_MAX_SECONDS", 6 * 3600)
    return timedelta(seconds=min(base * 2 ** (attempts - 1), cap))


def _recipients(to) -> list[str]:
    addresses = [to] if isinstance(to, str) else list(to or [])
    cleaned = []
    for address in addresses:
        address = str(address).strip()
        try:
            validate_email(parseaddr(address)[1])
        except ValidationError:
            raise ValidationError({"to": f"“{address}” is not a valid e-mail address."}) from None
        if address not in cleaned:
            cleaned.append(address)
    if not cleaned:
        raise ValidationError({"to": "An e-mail needs at least one recipient."})
    return cleaned


def email_queue(
    *, to, subject, text, html="", key=None, sensitive=False, account=None, new_key=False
) -> OutgoingEmail:
    """Store an e-mail to send; call it inside the transaction of the write it reports on.

    ``account`` is the account whose users receive it: a reseller's customer's e-mail is
    then from the reseller's brand name (on the platform's address) with Reply-To its
    support address (``accounts.branding.email_sender``). Pass it for every e-mail to an
    account's users; write the body with ``accounts.branding.brand_for_account(account)``
    (its ``name`` and ``site_url``), never ``SITE_NAME``.

    The e-mail commits or rolls back with that write. After commit its id goes to the
    ``send_email`` task; whatever happens to that, the periodic flush sends it when due.
    A ``key`` makes it idempotent: queuing the same key again returns the first e-mail.
    ``new_key``: the key names a row made in the caller's transaction (an order), so no
    e-mail can have it yet and the look-up is skipped; a repeat would still return the first
    e-mail (the key's constraint, below), only later.
    ``sensitive`` e-mails (one-time codes) lose their bodies once sent or given up.
    """
    recipients = _recipients(to)
    subject = " ".join(str(subject).split())  # a newline in a header would never send
    if not subject:
        raise ValidationError({"subject": "An e-mail needs a subject."})
    if not text.strip():
        raise ValidationError({"text": "An e-mail needs a text body."})
    if key is not None and not key:
        raise ValidationError({"key": "An idempotency key cannot be empty."})
    from_email, reply_to = email_sender(account) if account is not None else ("", [])
    fields = dict(
        to=recipients,
        subject=subject,
        text=text,
        html=html,
        sensitive=sensitive,
        from_email=from_email,
        reply_to=reply_to,
    )
    # No savepoint of its own: nothing below is caught here (inside a caller's transaction
    # it would cost two statements and buy nothing); the insert's savepoint stays.
    with transaction.atomic(savepoint=False):
        if key is not None:
            existing = None if new_key else OutgoingEmail.objects.filter(key=key).first()
            if existing is not None:
                return existing
            try:
                with transaction.atomic():  # a savepoint: a racing twin leaves us usable
                    email = OutgoingEmail.objects.create(key=key, **fields)
            except IntegrityError:
                return OutgoingEmail.objects.get(key=key)
        else:
            email = OutgoingEmail.objects.create(**fields)
        email_id = email.pk
        transaction.on_commit(lambda: email_enqueue(email_id=email_id), robust=True)
    return email


def email_enqueue(*, email_id) -> bool:
    """Hand a queued e-mail to a worker; never raises, never waits long for the broker."""
    from .tasks import send_email  # noqa: PLC0415 (tasks import this module)

    return enqueue(send_email, email_id, catch_up="the periodic outbox flush")


def _message(email) -> EmailMultiAlternatives:
    stamp = int(email.created_at.timestamp())
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        to=email.to,
        from_email=email.from_email or None,
        reply_to=email.reply_to or None,
        # The same on every attempt, so a repeat (at-least-once) shows as one message.
        headers={"Message-ID": f"<outbox.{email.pk}.{stamp}@{DNS_NAME}>"},
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    return message


def _redact(email):
    if email.sensitive:
        email.text = REDACTED
        email.html = ""


def _deliver(email, *, now) -> str:
    """Send one claimed (row-locked) e-mail and record the outcome; the caller commits."""
    email.attempts += 1
    try:
        _message(email).send()
    except Exception as exc:  # noqa: BLE001 (SMTP, socket, bad header: all are recorded)
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if email.attempts >= _max_attempts():
            email.status = Status.FAILED
            email.next_attempt_at = None
            _redact(email)
            logger.error(
                "outbox: gave up on e-mail %s after %s attempts: %s",
                email.pk,
                email.attempts,
                email.last_error,
            )
            outcome = "failed"
        else:
            email.next_attempt_at = now + _retry_delay(email.attempts)
            logger.warning(
                "outbox: e-mail %s failed (attempt %s), retrying at %s: %s",
                email.pk,
                email.attempts,
                email.next_attempt_at,
                email.last_error,
            )
            outcome = "retry"
    else:
        email.status = Status.SENT
        email.sent_at = now
        email.next_attempt_at = None
        email.last_error = ""
        _redact(email)
        outcome = "sent"
    email.save()
    return outcome


def _claim(queryset):
    return queryset.select_for_update(skip_locked=True).filter(status=Status.QUEUED).first()


def email_send(*, email_id, now=None) -> str:
    """Send one e-mail if it is queued and due; safe to run twice or concurrently.

    Returns ``"sent"``, ``"retry"`` (failed, due again later), ``"failed"`` (gave up), or
    ``"skipped"`` (already sent or given up, not due yet, gone, or being sent right now).
    """
    with transaction.atomic():
        now = now or timezone.now()
        email = _claim(OutgoingEmail.objects.filter(pk=email_id, next_attempt_at__lte=now))
        if email is None:
            return "skipped"
        return _deliver(email, now=now)


def outbox_flush(*, now=None, limit=None) -> dict:
    """Send every queued e-mail that is due, oldest due first, one transaction each.

    Several workers may run it at once: each claims rows the others have not locked.
    Returns counts per outcome.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0}
    while limit is None or sum(counts.values()) < limit:
        with transaction.atomic():
            moment = now or timezone.now()
            due = OutgoingEmail.objects.filter(next_attempt_at__lte=moment)
            email = _claim(due.order_by("next_attempt_at", "pk"))
            if email is None:
                break
            counts[_deliver(email, now=moment)] += 1
    return counts


def email_retry(*, email) -> bool:
    """Send a queued or given-up e-mail now (the admin's "retry now").

    A given-up e-mail gets one more attempt; if that fails it is given up again. Returns
    False for an e-mail already sent, or a given-up sensitive one (its body is gone).
    """
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().get(pk=email.pk)
        if email.status == Status.SENT:
            return False
        if email.status == Status.FAILED and email.sensitive:
            return False  # its body (a one-time secret) was removed when it was given up
        email.status = Status.QUEUED
        email.next_attempt_at = timezone.now()
        if email.attempts >= _max_attempts():
            email.attempts = _max_attempts() - 1
        email.save(update_fields=["status", "next_attempt_at", "attempts"])
        email_id = email.pk
        transaction.on_commit(lambda: email_enqueue(email_id=email_id), robust=True)
    return True
