"""Several flushes and send tasks at once against real PostgreSQL row locks."""

import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from outbox.models import OutgoingEmail
from outbox.services import email_queue, email_send, outbox_flush
from tests.concurrency import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slow_smtp(monkeypatch):
    """Each send takes a moment, so the workers overlap."""
    send = EmailBackend.send_messages

    def slow(self, messages):
        time.sleep(0.02)
        return send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow)


def test_concurrent_flushes_send_each_email_once(slow_smtp):
    emails = [email_queue(to="a@example.test", subject=f"m{i}", text="t") for i in range(30)]
    mail.outbox.clear()

    results = run_in_threads(lambda i: outbox_flush(), count=4)

    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["sent"] for r in results) == 30
    assert sum(1 for r in results if r["sent"]) > 1  # the work was shared
    assert sorted(m.subject for m in mail.outbox) == sorted(e.subject for e in emails)
    assert not OutgoingEmail.objects.exclude(status="sent").exists()


def test_a_task_and_a_flush_racing_for_one_email_send_it_once(slow_smtp):
    email = email_queue(to="a@example.test", subject="once", text="t")
    mail.outbox.clear()

    def work(i):
        return email_send(email_id=email.pk) if i % 2 else outbox_flush()["sent"]

    run_in_threads(work, count=6)
    assert [m.subject for m in mail.outbox] == ["once"]
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 1)


def test_one_key_queued_concurrently_stores_one_email():
    results = run_in_threads(
        lambda i: email_queue(to="a@example.test", subject="s", text="t", key="race:1"), count=8
    )
    assert all(isinstance(r, OutgoingEmail) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert OutgoingEmail.objects.filter(key="race:1").count() == 1
