"""One-time confirmation codes: sent by e-mail, stored hashed, used once."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.codes import confirmation_code_check, confirmation_code_send
from accounts.models import ConfirmationCode
from outbox.models import OutgoingEmail
from outbox.services import outbox_flush
from tests.factories import UserFactory

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
PURPOSE = "checkout:tok-1"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def send(user, purpose=PURPOSE):
    """Send a code and return it, read from the e-mail as the user would."""
    confirmation_code_send(user=user, purpose=purpose)
    outbox_flush()
    return re.search(r"^\s+(\d{6})$", mail.outbox[-1].body, re.MULTILINE).group(1)


def check(user, code, purpose=PURPOSE):
    confirmation_code_check(user=user, purpose=purpose, code=code)


def wrong(code):
    return f"{(int(code) + 1) % 10**6:06d}"


def error_of(user, code, purpose=PURPOSE):
    with pytest.raises(ValidationError) as error:
        check(user, code, purpose)
    return error.value


def test_the_code_is_emailed_and_works_once(customer_admin, clock):
    code = send(customer_admin)
    [message] = mail.outbox
    assert message.to == [customer_admin.email]
    assert "complete your order" in message.body and "10 minutes" in message.body
    assert code not in message.subject

    check(customer_admin, code)
    row = ConfirmationCode.objects.get()
    assert row.used_at == NOW
    error = error_of(customer_admin, code)
    assert error.code == "already_used" and "already used" in error.messages[0]


def test_only_a_keyed_hash_is_stored_and_the_email_body_is_removed_once_sent(customer_admin, clock):
    code = send(customer_admin)
    row = ConfirmationCode.objects.get()
    assert code not in row.code_hash and len(row.code_hash) == 64
    stored = [str(getattr(row, f.attname)) for f in ConfirmationCode._meta.concrete_fields]
    assert not any(code in value for value in stored)
    email = OutgoingEmail.objects.get()
    assert email.sensitive and code not in email.text + email.html + email.subject
    # The hash is bound to the user and purpose: the same code for others hashes apart.
    other = UserFactory(account=customer_admin.account)
    from accounts.codes import _hash

    assert _hash(user_id=customer_admin.pk, purpose=PURPOSE, code=code) == row.code_hash
    assert _hash(user_id=other.pk, purpose=PURPOSE, code=code) != row.code_hash
    assert _hash(user_id=customer_admin.pk, purpose="checkout:x", code=code) != row.code_hash


def test_codes_are_six_digits_and_vary(customer_admin, clock):
    codes = set()
    for n in range(5):
        clock.shift(timedelta(minutes=1))
        codes.add(send(customer_admin, purpose=f"p{n}"))
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 1


def test_wrong_codes_count_down_then_the_code_is_dead(customer_admin, clock):
    code = send(customer_admin)
    messages = [error_of(customer_admin, wrong(code)).messages[0] for _ in range(5)]
    assert messages[:4] == [
        "Wrong code, 4 attempts left.",
        "Wrong code, 3 attempts left.",
        "Wrong code, 2 attempts left.",
        "Wrong code, 1 attempt left.",
    ]
    assert "last attempt" in messages[4] and "new code" in messages[4]
    error = error_of(customer_admin, code)  # even the right code no longer works
    assert error.code == "too_many_attempts" and "Ask for a new one" in error.messages[0]
    assert ConfirmationCode.objects.get().attempts == 5

    clock.shift(timedelta(seconds=30))
    check(customer_admin, send(customer_admin))  # a new code works


def test_a_malformed_code_is_explained_and_not_counted(customer_admin, clock):
    code = send(customer_admin)
    for bad in ("", "12345", "abcdef", "1234567"):
        assert error_of(customer_admin, bad).code == "format"
    assert ConfirmationCode.objects.get().attempts == 0
    check(customer_admin, f" {code[:3]} {code[3:]} ")  # spaces are fine


def test_a_code_expires_after_ten_minutes(customer_admin, clock):
    code = send(customer_admin)
    clock.shift(timedelta(minutes=10) - timedelta(seconds=1))
    second = UserFactory(account=customer_admin.account)
    second_code = send(second)
    clock.shift(timedelta(seconds=1))
    error = error_of(customer_admin, code)
    assert error.code == "expired" and "expired" in error.messages[0]
    check(second, second_code)  # sent later: still fresh


def test_the_lifetime_is_a_setting(customer_admin, clock, settings):
    settings.CONFIRMATION_CODE_MINUTES = 2
    code = send(customer_admin)
    assert "2 minutes" in mail.outbox[-1].body
    clock.shift(timedelta(minutes=2))
    assert error_of(customer_admin, code).code == "expired"


def test_a_new_code_replaces_the_old_one(customer_admin, clock):
    old = send(customer_admin)
    clock.shift(timedelta(seconds=30))
    new = send(customer_admin)
    if old != new:
        assert error_of(customer_admin, old).code == "wrong_code"
    check(customer_admin, new)
    rows = list(ConfirmationCode.objects.order_by("pk"))
    assert rows[0].replaced_at == NOW + timedelta(seconds=30) and rows[0].used_at is None
    assert rows[1].used_at is not None


def test_resending_is_limited_to_once_per_30_seconds(customer_admin, clock):
    send(customer_admin)
    clock.shift(timedelta(seconds=20))
    with pytest.raises(ValidationError) as error:
        confirmation_code_send(user=customer_admin, purpose=PURPOSE)
    assert error.value.code == "too_soon"
    assert "in 10 seconds" in error.value.messages[0]
    assert ConfirmationCode.objects.count() == 1 and OutgoingEmail.objects.count() == 1
    clock.shift(timedelta(seconds=10))
    send(customer_admin)
    assert ConfirmationCode.objects.count() == 2


def test_at_most_ten_codes_an_hour_whatever_the_purpose(customer_admin, clock):
    for n in range(10):
        confirmation_code_send(user=customer_admin, purpose=f"checkout:{n}")
    with pytest.raises(ValidationError) as error:
        confirmation_code_send(user=customer_admin, purpose="checkout:new")
    assert error.value.code == "too_many_sends"
    clock.shift(timedelta(hours=1))
    confirmation_code_send(user=customer_admin, purpose="checkout:new")


def test_a_code_confirms_only_its_own_user_and_purpose(customer_admin, customer_member, clock):
    code = send(customer_admin)
    assert error_of(customer_admin, code, purpose="checkout:other").code == "missing"
    assert error_of(customer_member, code).code == "missing"
    check(customer_admin, code)


def test_no_code_sent_yet(customer_admin):
    error = error_of(customer_admin, "123456")
    assert error.code == "missing" and "ask for a code" in error.messages[0]


def test_a_wrong_attempt_is_counted_even_though_the_check_raises(customer_admin, clock):
    code = send(customer_admin)
    error_of(customer_admin, wrong(code))
    assert ConfirmationCode.objects.get().attempts == 1


def test_the_database_allows_one_live_code_per_purpose(customer_admin):
    fields = dict(user=customer_admin, purpose=PURPOSE, code_hash="x" * 64, created_at=NOW)
    ConfirmationCode.objects.create(expires_at=NOW + timedelta(minutes=10), **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConfirmationCode.objects.create(expires_at=NOW + timedelta(minutes=10), **fields)


def test_a_bad_purpose_is_refused(customer_admin):
    for purpose in ("", "x" * 129):
        with pytest.raises(ValidationError):
            confirmation_code_send(user=customer_admin, purpose=purpose)
    assert not ConfirmationCode.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_checks_of_the_right_code_succeed_once():
    user = UserFactory()
    code = send(user)
    barrier = threading.Barrier(4)
    results = [None] * 4

    def run(i):
        try:
            barrier.wait()
            check(user, code)
            results[i] = "ok"
        except ValidationError as exc:
            results[i] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["already_used"] * 3 + ["ok"]
    assert ConfirmationCode.objects.get().used_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_leave_one_live_code():
    user = UserFactory()
    barrier = threading.Barrier(4)
    results = [None] * 4

    def run(i):
        try:
            barrier.wait()
            confirmation_code_send(user=user, purpose=PURPOSE)
            results[i] = "sent"
        except ValidationError as exc:
            results[i] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["sent"] + ["too_soon"] * 3
    assert ConfirmationCode.objects.filter(used_at=None, replaced_at=None).count() == 1
