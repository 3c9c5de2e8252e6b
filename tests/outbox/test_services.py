import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from outbox import services, tasks
from outbox.models import OutgoingEmail
from outbox.services import email_queue, email_retry, email_send, outbox_flush

S = OutgoingEmail.Status
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def queue(**overrides):
    fields = dict(to=["alice@example.test"], subject="Hello", text="Body text")
    fields.update(overrides)
    return email_queue(**fields)


@pytest.fixture
def enqueued(monkeypatch):
    """The ids handed to the send_email task, instead of publishing them."""
    ids = []
    monkeypatch.setattr(
        tasks.send_email, "apply_async", lambda args, **options: ids.append(args[0])
    )
    return ids


@pytest.fixture
def smtp_down(monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)


# --- queuing ------------------------------------------------------------------------------


def test_queue_stores_the_email_and_enqueues_it_after_commit(
    db, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            email = queue(to="bob@example.test", html="<p>Hi</p>")
            assert enqueued == []  # not before the commit
    assert enqueued == [email.pk]
    email.refresh_from_db()
    assert email.to == ["bob@example.test"]
    assert (email.status, email.attempts, email.sent_at) == (S.QUEUED, 0, None)
    assert email.next_attempt_at is not None
    assert mail.outbox == []  # the task sends it, not the caller


def test_queue_rolls_back_with_the_business_write(db, enqueued, django_capture_on_commit_callbacks):
    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        with transaction.atomic():
            queue(key="order-confirmation:1")
            raise Boom
    assert not OutgoingEmail.objects.exists()
    assert enqueued == []


def test_the_same_key_stores_one_email(db, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue(key="order-confirmation:17")
        again = queue(key="order-confirmation:17", subject="Something else")
    assert again.pk == first.pk and again.subject == "Hello"
    assert OutgoingEmail.objects.count() == 1
    assert enqueued == [first.pk]


def test_a_new_key_skips_the_look_up_and_a_repeat_still_stores_one_email(
    db, enqueued, django_capture_on_commit_callbacks
):
    """``new_key`` (checkout's confirmation) skips the look-up; the key's constraint still
    keeps one e-mail, and the transaction stays usable after the refused insert."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = queue(key="order-confirmation:18", new_key=True)
        again = queue(key="order-confirmation:18", subject="Something else", new_key=True)
        assert OutgoingEmail.objects.count() == 1
    assert again.pk == first.pk and again.subject == "Hello"
    assert enqueued == [first.pk]


def test_the_database_refuses_a_second_row_with_one_key(db):
    OutgoingEmail.objects.create(key="k", to=["a@example.test"], subject="s", text="t")
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingEmail.objects.create(key="k", to=["a@example.test"], subject="s", text="t")


@pytest.mark.parametrize(
    "fields",
    [
        {"sent_at": NOW},  # queued but sent_at set
        {"status": "sent"},  # sent without sent_at
        {"status": "failed"},  # given up but still due
        {"status": "bounced"},
        {"key": ""},
    ],
)
def test_constraints_keep_status_and_times_consistent(db, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingEmail.objects.create(to=["a@example.test"], subject="s", text="t", **fields)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": []}, "to"),
        ({"to": ["not-an-address"]}, "to"),
        ({"subject": "  "}, "subject"),
        ({"text": ""}, "text"),
        ({"key": ""}, "key"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(db, fields, field):
    with pytest.raises(ValidationError) as error:
        queue(**fields)
    assert field in error.value.message_dict
    assert not OutgoingEmail.objects.exists()


def test_recipients_are_deduplicated_and_a_subject_is_one_line(db):
    email = queue(
        to=["a@example.test", "Bob <b@example.test>", "a@example.test"],
        subject="Line one\r\nBcc: victim@example.test",
    )
    assert email.to == ["a@example.test", "Bob <b@example.test>"]
    assert email.subject == "Line one Bcc: victim@example.test"


# --- sending ------------------------------------------------------------------------------


def test_send_delivers_text_and_html_and_marks_sent(db):
    email = queue(to=["a@example.test", "b@example.test"], html="<p>Body <b>html</b></p>")
    assert email_send(email_id=email.pk) == "sent"
    [message] = mail.outbox
    assert message.to == ["a@example.test", "b@example.test"]
    assert (message.subject, message.body) == ("Hello", "Body text")
    assert message.alternatives[0][0] == "<p>Body <b>html</b></p>"
    assert message.alternatives[0][1] == "text/html"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.extra_headers["Message-ID"].startswith(f"<outbox.{email.pk}.")
    email.refresh_from_db()
    assert (email.status, email.attempts, email.next_attempt_at) == (S.SENT, 1, None)
    assert email.sent_at is not None


def test_a_text_only_email_has_no_html_part(db):
    email_send(email_id=queue().pk)
    assert mail.outbox[0].alternatives == []


def test_the_send_task_is_safe_to_run_twice(db):
    email = queue()
    tasks.send_email.apply(args=[email.pk])
    tasks.send_email.apply(args=[email.pk])
    assert len(mail.outbox) == 1
    assert email_send(email_id=email.pk) == "skipped"
    assert email_send(email_id=10**9) == "skipped"  # gone: nothing to do


def test_a_failure_is_retried_with_backoff_then_given_up(db, monkeypatch, smtp_down):
    with time_machine.travel(NOW, tick=False) as clock:
        email = queue()
        assert email_send(email_id=email.pk) == "retry"
        email.refresh_from_db()
        assert (email.status, email.attempts) == (S.QUEUED, 1)
        assert email.last_error == "ConnectionRefusedError: mail server down"
        assert email.next_attempt_at == NOW + timedelta(minutes=1)

        # Not due yet: neither the task nor the flush touches it.
        assert email_send(email_id=email.pk) == "skipped"
        assert outbox_flush() == {"sent": 0, "retry": 0, "failed": 0}

        waits = []
        while email.status == S.QUEUED:
            waits.append(email.next_attempt_at - timezone.now())
            clock.move_to(email.next_attempt_at)
            outbox_flush()
            email.refresh_from_db()
    assert waits == [timedelta(minutes=2**n) for n in range(7)]  # 1, 2, 4 … 64 minutes
    assert (email.status, email.attempts, email.next_attempt_at) == (S.FAILED, 8, None)
    assert email.text == "Body text"  # kept: an operator can retry it
    assert mail.outbox == []


def test_a_given_up_email_gets_one_more_attempt_on_retry(db, monkeypatch, enqueued):
    email = queue()
    email.status, email.attempts, email.next_attempt_at = S.FAILED, 8, None
    email.save()
    assert email_retry(email=email) is True
    email.refresh_from_db()
    assert (email.status, email.attempts) == (S.QUEUED, 7)
    assert outbox_flush() == {"sent": 1, "retry": 0, "failed": 0}
    assert len(mail.outbox) == 1
    assert email_retry(email=email) is False  # sent: never again


def test_a_retry_that_fails_again_gives_up_again(db, smtp_down):
    email = queue()
    email.status, email.attempts, email.next_attempt_at = S.FAILED, 8, None
    email.save()
    email_retry(email=email)
    assert outbox_flush() == {"sent": 0, "retry": 0, "failed": 1}
    email.refresh_from_db()
    assert (email.status, email.attempts) == (S.FAILED, 8)


def test_a_sensitive_email_loses_its_body_once_sent(db):
    email = queue(text="Your code is 123456", html="<b>123456</b>", sensitive=True)
    email_send(email_id=email.pk)
    assert "123456" in mail.outbox[0].body
    email.refresh_from_db()
    assert "123456" not in email.text + email.html
    assert email.text == services.REDACTED


def test_a_given_up_sensitive_email_loses_its_body_and_is_not_retried(db, settings, smtp_down):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    email = queue(text="Your code is 123456", sensitive=True)
    assert email_send(email_id=email.pk) == "failed"
    email.refresh_from_db()
    assert "123456" not in email.text
    assert email_retry(email=email) is False


def test_flush_sends_every_due_email_oldest_first(db):
    with time_machine.travel(NOW, tick=False) as clock:
        first, second = queue(subject="first"), queue(subject="second")
        later = queue(subject="later")
        OutgoingEmail.objects.filter(pk=later.pk).update(next_attempt_at=NOW + timedelta(hours=1))
        done = queue(subject="done")
        email_send(email_id=done.pk)
        mail.outbox.clear()

        assert outbox_flush() == {"sent": 2, "retry": 0, "failed": 0}
        assert [m.subject for m in mail.outbox] == ["first", "second"]
        assert outbox_flush() == {"sent": 0, "retry": 0, "failed": 0}
        clock.move_to(NOW + timedelta(hours=1))
        tasks.flush_outbox.apply()
    assert [m.subject for m in mail.outbox] == ["first", "second", "later"]
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {S.SENT}
    assert first.pk < second.pk


def test_flush_command(db):
    queue()
    queue()
    call_command("flush_outbox", "--limit", "1", stdout=(out := _Out()))
    assert "Sent 1," in out.text
    call_command("flush_outbox", stdout=(out := _Out()))
    assert "Sent 1," in out.text
    assert len(mail.outbox) == 2


class _Out:
    text = ""

    def write(self, value):
        self.text += value

    def flush(self):
        pass


def test_the_flush_runs_on_beat():
    from didportal.celery import app

    entries = [
        e for e in app.conf.beat_schedule.values() if e["task"] == "outbox.tasks.flush_outbox"
    ]
    assert entries and entries[0]["schedule"] <= 60


# --- Redis down -----------------------------------------------------------------------------


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again once we return: connections are refused


def redis_transport_options():
    return {"visibility_timeout": 3600, **settings.REDIS_BROKER_TIMEOUTS}


def test_redis_down_commits_quickly_and_the_flush_sends_later(
    db, broker, django_capture_on_commit_callbacks
):
    broker(f"redis://127.0.0.1:{closed_port()}/0", redis_transport_options())
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            email = queue(key="order-confirmation:9")
    elapsed = time.monotonic() - started
    assert len(callbacks) == 1  # the enqueue ran, failed, and did not raise
    assert elapsed < 2, elapsed
    email.refresh_from_db()
    assert email.status == S.QUEUED and mail.outbox == []

    assert outbox_flush() == {"sent": 1, "retry": 0, "failed": 0}
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.status == S.SENT


@pytest.fixture
def silent_redis():
    """A server that accepts connections and never answers (a hung Redis, a dead NAT path)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_hung_redis_holds_the_request_no_longer_than_the_socket_timeout(
    db, broker, silent_redis, django_capture_on_commit_callbacks
):
    broker(silent_redis, redis_transport_options())
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        email = queue()
    elapsed = time.monotonic() - started
    timeout = settings.REDIS_BROKER_TIMEOUTS["socket_timeout"]
    assert elapsed < timeout + 1, elapsed
    email.refresh_from_db()
    assert email.status == S.QUEUED
    assert outbox_flush()["sent"] == 1


def test_production_settings_give_the_redis_broker_socket_timeouts():
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))"
    )
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/0"}
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    options = json.loads(result.stdout.strip().splitlines()[-1])
    assert options["socket_timeout"] > 0 and options["socket_connect_timeout"] > 0
    assert options["visibility_timeout"] == 3600
