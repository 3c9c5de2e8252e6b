"""One-time 6-digit confirmation codes, e-mailed to a user to confirm one thing.

First use: checkout's transaction code (``purpose="checkout:<token>"``). A code works once,
for ``CONFIRMATION_CODE_MINUTES``, with ``CONFIRMATION_CODE_MAX_ATTEMPTS`` wrong tries; a
new code for the same purpose replaces the previous one. Only an HMAC of the code (keyed
with ``SECRET_KEY``, bound to the user and purpose) is stored: a six-digit code's plain
hash could be reversed by trying all million of them, the keyed one cannot without the key.
The e-mail that carries the code is a sensitive outbox e-mail: its body is removed once sent.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from outbox.services import email_queue

from .branding import brand_for_account
from .models import ConfirmationCode, User

CODE_DIGITS = 6
HMAC_SALT = "accounts.codes.ConfirmationCode"
# What a purpose's prefix confirms, in the e-mail's words.
PURPOSE_WORDS = {"checkout": "complete your order"}


def _setting(name, default):
    return getattr(settings, name, default)


def _purpose(purpose) -> str:
    purpose = str(purpose or "").strip()
    max_length = ConfirmationCode._meta.get_field("purpose").max_length
    if not purpose or len(purpose) > max_length:
        raise ValidationError(
            f"A confirmation code needs a purpose of 1 to {max_length} characters."
        )
    return purpose


def _hash(*, user_id, purpose, code) -> str:
    return salted_hmac(HMAC_SALT, f"{user_id}:{purpose}:{code}", algorithm="sha256").hexdigest()


def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def confirmation_code_send(*, user, purpose) -> None:
    """E-mail ``user`` a new code for ``purpose``; earlier unused codes for it stop working.

    Raises ``ValidationError`` when a code for this purpose was sent less than
    ``CONFIRMATION_CODE_RESEND_SECONDS`` ago, or the user was sent
    ``CONFIRMATION_CODE_SENDS_PER_HOUR`` codes in the last hour.
    """
    purpose = _purpose(purpose)
    minutes = _setting("CONFIRMATION_CODE_MINUTES", 10)
    with transaction.atomic():
        # One send at a time per user: the rate limits below cannot be raced past.
        user = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        codes = ConfirmationCode.objects.filter(user=user)
        latest = codes.filter(purpose=purpose).order_by("-created_at", "-pk").first()
        resend = timedelta(seconds=_setting("CONFIRMATION_CODE_RESEND_SECONDS", 30))
        if latest is not None and now < latest.created_at + resend:
            wait = max(1, int((latest.created_at + resend - now).total_seconds() + 0.999))
            raise ValidationError(
                f"A code was sent a moment ago. You can ask for a new one in "
                f"{_plural(wait, 'second')}.",
                code="too_soon",
            )
        per_hour = _setting("CONFIRMATION_CODE_SENDS_PER_HOUR", 10)
        if codes.filter(created_at__gt=now - timedelta(hours=1)).count() >= per_hour:
            raise ValidationError(
                "Too many codes were sent to you in the last hour. Try again later.",
                code="too_many_sends",
            )
        codes.filter(purpose=purpose, used_at__isnull=True, replaced_at__isnull=True).update(
            replaced_at=now
        )
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        row = ConfirmationCode.objects.create(
            user=user,
            purpose=purpose,
            code_hash=_hash(user_id=user.pk, purpose=purpose, code=code),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        site = brand_for_account(user.account).name
        what = PURPOSE_WORDS.get(purpose.split(":", 1)[0], "confirm your request")
        until = timezone.localtime(row.expires_at)
        email_queue(
            key=f"confirmation-code:{row.pk}",
            to=[user.email],
            account=user.account,
            subject=f"[{site}] Your confirmation code",
            text=(
                f"Your code to {what} on {site} is:\n\n"
                f"    {code}\n\n"
                f"It works once, for {_plural(minutes, 'minute')} "
                f"(until {until:%H:%M %Z}).\n\n"
                "If you did not ask for it, do not share it with anyone, and change your "
                "password: someone else may be signed in as you.\n"
            ),
            sensitive=True,
        )


def confirmation_code_check(*, user, purpose, code) -> None:
    """Accept ``code`` once for ``user`` and ``purpose``, or raise ``ValidationError``.

    Call it outside the caller's transaction: a wrong attempt is counted in a transaction of
    its own, and a caller's rollback would otherwise undo the count and allow unlimited
    guesses. Two concurrent checks of the right code: one succeeds, the other is told the
    code was already used. A caller that may still refuse after the check (checkout) uses
    ``confirmation_code_verify`` now and ``confirmation_code_spend`` in its own transaction.
    """
    error = _check(user=user, purpose=_purpose(purpose), code=code, spend=True)
    if error is not None:
        raise error


def confirmation_code_verify(*, user, purpose, code) -> None:
    """Check ``code`` without spending it, or raise ``ValidationError``.

    Call it outside the caller's transaction: a wrong attempt is counted and committed on
    its own (a rollback must not hand out more guesses). The code stays usable until
    ``confirmation_code_spend``.
    """
    error = _check(user=user, purpose=_purpose(purpose), code=code, spend=False)
    if error is not None:
        raise error


def confirmation_code_spend(*, user, purpose, code) -> None:
    """Mark the verified ``code`` used inside the caller's transaction, or raise
    ``ValidationError`` (used, replaced or expired meanwhile).

    The code row is locked until the caller commits; if the caller rolls back (it refused
    after all), the code is not spent and works again. Wrong guesses are not counted here:
    call ``confirmation_code_verify`` first, outside the transaction.
    """
    error = _check(user=user, purpose=_purpose(purpose), code=code, spend=True, count=False)
    if error is not None:
        raise error


@transaction.atomic
def _check(*, user, purpose, code, spend, count=True):
    """Returns the error to raise once the attempt is committed, or None on success.
    ``spend`` marks the code used; ``count`` counts a wrong attempt."""
    entered = "".join(str(code or "").split())  # "123 456" is fine
    row = (
        ConfirmationCode.objects.select_for_update()
        .filter(user_id=user.pk, purpose=purpose)
        .order_by("-created_at", "-pk")
        .first()
    )
    if row is None:
        return ValidationError("No code was sent for this yet: ask for a code.", code="missing")
    if row.used_at is not None:
        return ValidationError(
            "This code was already used: ask for a new one.", code="already_used"
        )
    max_attempts = _setting("CONFIRMATION_CODE_MAX_ATTEMPTS", 5)
    if row.attempts >= max_attempts:
        return ValidationError(
            "Too many wrong attempts: this code no longer works. Ask for a new one.",
            code="too_many_attempts",
        )
    now = timezone.now()
    if now >= row.expires_at:
        return ValidationError("This code has expired: ask for a new one.", code="expired")
    if not (entered.isdigit() and len(entered) == CODE_DIGITS):
        return ValidationError(
            f"The code has {CODE_DIGITS} digits: check the e-mail we sent you.", code="format"
        )
    expected = _hash(user_id=user.pk, purpose=purpose, code=entered)
    if not constant_time_compare(expected, row.code_hash):
        if not count:
            return ValidationError("Wrong code.", code="wrong_code")
        row.attempts += 1
        row.save(update_fields=["attempts"])
        left = max_attempts - row.attempts
        if left:
            return ValidationError(
                f"Wrong code, {_plural(left, 'attempt')} left.", code="wrong_code"
            )
        return ValidationError(
            "Wrong code. That was the last attempt: ask for a new code.", code="wrong_code"
        )
    if spend:
        row.used_at = now
        row.save(update_fields=["used_at"])
    return None
