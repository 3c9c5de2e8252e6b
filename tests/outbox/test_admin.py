import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from outbox.models import OutgoingEmail
from outbox.services import email_queue, outbox_flush

S = OutgoingEmail.Status


@pytest.fixture
def ops_client(client, db):
    ops = User.objects.create_superuser(email="ops@example.test", password="x")
    client.force_login(ops)
    return client


def test_changelist_filters_by_status(ops_client):
    email_queue(to="a@example.test", subject="Still queued", text="t")
    failed = email_queue(to="a@example.test", subject="Gave up", text="t")
    OutgoingEmail.objects.filter(pk=failed.pk).update(status=S.FAILED, next_attempt_at=None)
    url = reverse("admin:outbox_outgoingemail_changelist")
    page = ops_client.get(url, {"status__exact": "failed"}).content.decode()
    assert "Gave up" in page and "Still queued" not in page
    assert "Retry now" in page


def test_the_detail_page_is_read_only_and_hides_a_pending_secret(ops_client):
    plain = email_queue(to="a@example.test", subject="Plain", text="Visible body")
    secret = email_queue(to="a@example.test", subject="Code", text="Code 424242", sensitive=True)
    page = ops_client.get(reverse("admin:outbox_outgoingemail_change", args=[plain.pk]))
    assert "Visible body" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    page = ops_client.get(reverse("admin:outbox_outgoingemail_change", args=[secret.pk]))
    assert page.status_code == 200 and "424242" not in page.content.decode()
    assert ops_client.get(reverse("admin:outbox_outgoingemail_add")).status_code == 403


def test_retry_now_action_sends_a_given_up_email(ops_client):
    email = email_queue(to="a@example.test", subject="Gave up", text="t")
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=S.FAILED, attempts=8, next_attempt_at=None, last_error="SMTPException: nope"
    )
    sent = email_queue(to="a@example.test", subject="Sent", text="t")
    outbox_flush()
    mail.outbox.clear()
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=S.FAILED, attempts=8, next_attempt_at=None
    )

    response = ops_client.post(
        reverse("admin:outbox_outgoingemail_changelist"),
        {"action": "retry_now", "_selected_action": [email.pk, sent.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 e-mail(s) will be sent now." in page and "1 skipped" in page
    email.refresh_from_db()
    assert email.status == S.QUEUED
    outbox_flush()
    assert [m.subject for m in mail.outbox] == ["Gave up"]
