"""Deliveries end to end: a real local receiver, real Celery tasks (eager), signatures checked
with an independent HMAC, retries on the clock, auto-disable and its e-mail, order callbacks."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from outbox.models import OutgoingEmail
from tests.factories import UserFactory
from webhooks import services, tasks
from webhooks.models import Attempt, Delivery, Endpoint

from .conftest import make_endpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_private")]
S = Delivery.Status
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def independent_signature(secret, header, body):
    """What a receiver computes, written from the documentation, not from our code."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    mac = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return parts, mac.hexdigest()


def emit(user, event="order.completed", data=None):
    return services.event_emit(account=user.account, event=event, data=data or {"order": 1})


def test_an_event_is_posted_signed_after_commit_by_the_task(
    customer_admin, receiver, eager, django_capture_on_commit_callbacks
):
    endpoint, secret = make_endpoint(customer_admin, receiver.url, events=["order.completed"])
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            (delivery,) = emit(customer_admin, data={"order": {"id": 7, "gross": "1.50"}})
            assert receiver.requests == []  # nothing before the commit
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["method"] == "POST" and request["path"] == "/hook"
    headers = request["headers"]
    assert headers["content-type"] == "application/json"
    assert headers["x-didportal-event"] == "order.completed"
    assert headers["x-didportal-delivery"] == str(delivery.uuid)
    parts, expected = independent_signature(
        secret, headers["x-didportal-signature"], request["body"]
    )
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - time.time()) < 30
    payload = json.loads(request["body"])
    assert payload["event"] == "order.completed" and payload["id"] == str(delivery.event_id)
    assert payload["data"] == {"order": {"id": 7, "gross": "1.50"}}
    assert payload["created_at"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (S.DELIVERED, 1, 200)
    attempt = Attempt.objects.get(delivery=delivery)
    assert attempt.succeeded and attempt.response_body == "ok" and attempt.duration_ms >= 0


def test_a_wrong_secret_does_not_verify(customer_admin, receiver, eager):
    endpoint, secret = make_endpoint(customer_admin, receiver.url)
    emit(customer_admin)  # inside the test's transaction: the task is run by hand
    tasks.deliver_webhook.delay(Delivery.objects.get().pk)
    request = receiver.requests[0]
    parts, expected = independent_signature(
        "whsec_wrong", request["headers"]["x-didportal-signature"], request["body"]
    )
    assert parts["v1"] != expected
    assert services.signature_verify(
        secret=secret, header=request["headers"]["x-didportal-signature"], body=request["body"]
    )
    assert not services.signature_verify(
        secret=secret,
        header=request["headers"]["x-didportal-signature"],
        body=request["body"] + b" ",
    )


def test_signature_verify_refuses_an_old_timestamp():
    body = b'{"id":"1"}'
    header = services.signature_header(secret="s", body=body, timestamp=1_000_000)
    assert services.signature_verify(secret="s", header=header, body=body, now=1_000_299)
    assert not services.signature_verify(secret="s", header=header, body=body, now=1_000_301)
    assert not services.signature_verify(secret="s", header="garbage", body=body)


def test_nothing_is_stored_or_sent_when_the_transaction_rolls_back(
    customer_admin, receiver, eager, django_capture_on_commit_callbacks
):
    make_endpoint(customer_admin, receiver.url)

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        with transaction.atomic():
            emit(customer_admin)
            raise Boom
    assert not Delivery.objects.exists()
    assert receiver.requests == []


def test_only_enabled_endpoints_subscribed_to_the_event_of_that_account_get_it(
    customer_admin, stranger, receiver
):
    wanted, _ = make_endpoint(customer_admin, receiver.url, events=["order.completed"])
    make_endpoint(customer_admin, receiver.url, events=["balance.low"])
    make_endpoint(customer_admin, receiver.url, enabled=False)
    make_endpoint(stranger, receiver.url)
    deliveries = emit(customer_admin)
    assert [d.endpoint_id for d in deliveries] == [wanted.pk]
    with pytest.raises(ValueError, match="Unknown webhook events"):
        emit(customer_admin, event="order.exploded")


def test_one_event_to_two_endpoints_has_one_event_id_and_two_delivery_ids(customer_admin, receiver):
    make_endpoint(customer_admin, receiver.url)
    make_endpoint(customer_admin, receiver.url + "2")
    first, second = emit(customer_admin)
    assert first.event_id == second.event_id and first.uuid != second.uuid
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"] == str(first.event_id)


def test_a_redis_outage_loses_nothing_the_sweep_sends_it(
    customer_admin, receiver, broker, django_capture_on_commit_callbacks
):
    make_endpoint(customer_admin, receiver.url)
    broker("redis://127.0.0.1:1/0", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5})
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit(customer_admin)  # the enqueue fails, logged, the commit stands
    assert Delivery.objects.get(pk=delivery.pk).status == S.PENDING
    assert receiver.requests == []
    broker("memory://")
    from didportal.celery import conf_override

    saved = conf_override(task_always_eager=True)
    try:
        assert tasks.sweep_webhooks.apply().get() == 1  # as beat runs it
    finally:
        conf_override(**saved)
    assert len(receiver.requests) == 1
    assert Delivery.objects.get(pk=delivery.pk).status == S.DELIVERED


def test_the_sweep_runs_on_beat():
    from didportal.celery import app

    schedule = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}
    assert schedule["webhooks.tasks.sweep_webhooks"]["schedule"] == 60.0


def test_many_deliveries_from_one_commit_go_to_one_sweep_task(
    customer_admin, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    make_endpoint(customer_admin, receiver.url)
    handed = []
    monkeypatch.setattr(tasks.deliver_webhook, "apply_async", lambda **kw: handed.append("one"))
    monkeypatch.setattr(tasks.sweep_webhooks, "apply_async", lambda **kw: handed.append("sweep"))
    with django_capture_on_commit_callbacks(execute=True):
        services.events_emit(
            [(customer_admin.account, "order.completed", {"n": n}) for n in range(3)]
        )
    assert handed == ["one", "one", "one"]
    handed.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.events_emit(
            [(customer_admin.account, "order.completed", {"n": n}) for n in range(25)]
        )
    assert handed == ["sweep"]


def test_failures_are_retried_on_the_schedule_then_given_up(customer_admin, receiver):
    receiver.status = 500
    receiver.body = b"x" * 10_000
    with time_machine.travel(NOW, tick=False):
        make_endpoint(customer_admin, receiver.url)
        (delivery,) = emit(customer_admin)
    expected = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600]
    moment = NOW
    for attempt, delay in enumerate(expected, start=1):
        with time_machine.travel(moment, tick=False):
            assert services.delivery_send(delivery_id=delivery.pk) == "retry"
            delivery.refresh_from_db()
            assert delivery.attempts == attempt
            assert delivery.next_attempt_at == moment + timedelta(seconds=delay)
            # Not due a second earlier.
        with time_machine.travel(moment + timedelta(seconds=delay - 1), tick=False):
            assert services.delivery_send(delivery_id=delivery.pk) == "skipped"
        moment += timedelta(seconds=delay)
    assert moment - NOW == timedelta(hours=22, minutes=21)  # about a day
    with time_machine.travel(moment, tick=False):
        assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (S.FAILED, 8, None)
    assert delivery.error == "The receiver answered 500."
    assert len(receiver.requests) == 8
    # Every attempt logged, each answer cut to what the log keeps.
    assert Attempt.objects.filter(delivery=delivery).count() == 8
    assert {len(a.response_body) for a in Attempt.objects.all()} == {2000}


def test_redirects_are_not_followed(customer_admin, receiver):
    receiver.status = 302
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    make_endpoint(customer_admin, receiver.url)
    (delivery,) = emit(customer_admin)
    assert services.delivery_send(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert "redirects are not followed" in delivery.error
    assert len(receiver.requests) == 1


def test_a_slow_receiver_times_out(customer_admin, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.delay = 2
    make_endpoint(customer_admin, receiver.url)
    (delivery,) = emit(customer_admin)
    started = time.monotonic()
    assert services.delivery_send(delivery_id=delivery.pk) == "retry"
    assert time.monotonic() - started < 1.9
    assert Delivery.objects.get(pk=delivery.pk).error == "Timed out after 0.5 s."


def test_a_refused_connection_is_a_failed_attempt(customer_admin):
    make_endpoint(customer_admin, "http://127.0.0.1:1/hook")
    (delivery,) = emit(customer_admin)
    assert services.delivery_send(delivery_id=delivery.pk) == "retry"
    attempt = Attempt.objects.get(delivery=delivery)
    assert attempt.response_status is None and "Connection" in attempt.error


def test_the_send_task_is_safe_to_run_twice(customer_admin, receiver, eager):
    make_endpoint(customer_admin, receiver.url)
    (delivery,) = emit(customer_admin)
    tasks.deliver_webhook.delay(delivery.pk)
    tasks.deliver_webhook.delay(delivery.pk)
    assert len(receiver.requests) == 1


def test_the_flush_command_sends_what_is_due(customer_admin, receiver):
    make_endpoint(customer_admin, receiver.url)
    emit(customer_admin)
    emit(customer_admin)
    call_command("flush_webhooks", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(receiver.requests) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {S.DELIVERED}


def test_persistent_failure_disables_the_endpoint_and_emails_the_admins(
    customer_admin, receiver, settings
):
    settings.WEBHOOK_RETRY_DELAYS = (60,)  # two attempts each
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    member = UserFactory(account=customer_admin.account, role="customer_member")
    receiver.status = 503
    endpoint, _ = make_endpoint(customer_admin, receiver.url)
    with time_machine.travel(NOW, tick=False):
        deliveries = [emit(customer_admin)[0] for _ in range(4)]
    for delivery in deliveries[:2]:
        for moment in (NOW, NOW + timedelta(minutes=1)):
            with time_machine.travel(moment, tick=False):
                services.delivery_send(delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.consecutive_failures) == (True, 2)
    for moment in (NOW, NOW + timedelta(minutes=1)):
        with time_machine.travel(moment, tick=False):
            services.delivery_send(delivery_id=deliveries[2].pk)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.consecutive_failures == 3
    assert "3 deliveries in a row failed" in endpoint.disabled_reason
    (email,) = OutgoingEmail.objects.all()
    assert email.to == [customer_admin.email] and member.email not in email.to
    assert endpoint.url in email.subject and "/account/webhooks/endpoints/" in email.text
    # What was still waiting is not sent to a disabled endpoint; nothing new is queued.
    sent = len(receiver.requests)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert services.delivery_send(delivery_id=deliveries[3].pk) == "failed"
    assert len(receiver.requests) == sent
    assert Delivery.objects.get(pk=deliveries[3].pk).error == "Not sent: the endpoint is disabled."
    assert emit(customer_admin) == []


def test_a_success_resets_the_failure_count(customer_admin, receiver, settings):
    settings.WEBHOOK_RETRY_DELAYS = ()
    receiver.statuses = [500]
    endpoint, _ = make_endpoint(customer_admin, receiver.url)
    first, second = emit(customer_admin)[0], emit(customer_admin)[0]
    assert services.delivery_send(delivery_id=first.pk) == "failed"
    assert Endpoint.objects.get(pk=endpoint.pk).consecutive_failures == 1
    assert services.delivery_send(delivery_id=second.pk) == "delivered"
    assert Endpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0


def test_send_again_sends_the_same_delivery_once_more(customer_admin, receiver, settings):
    settings.WEBHOOK_RETRY_DELAYS = ()
    receiver.statuses = [500]
    make_endpoint(customer_admin, receiver.url)
    (delivery,) = emit(customer_admin)
    assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    services.delivery_resend(actor=customer_admin, delivery=delivery)
    assert services.delivery_send(delivery_id=delivery.pk) == "delivered"
    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert first["headers"]["x-didportal-delivery"] == second["headers"]["x-didportal-delivery"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (S.DELIVERED, 2)


def test_a_test_event_goes_whatever_the_subscription(customer_admin, receiver):
    endpoint, _ = make_endpoint(customer_admin, receiver.url, events=["balance.low"])
    delivery = services.endpoint_send_test(actor=customer_admin, endpoint=endpoint)
    assert services.delivery_send(delivery_id=delivery.pk) == "delivered"
    assert receiver.json()["event"] == "test"
    assert receiver.requests[0]["headers"]["x-didportal-event"] == "test"


def test_a_rotated_secret_signs_from_then_on(customer_admin, receiver):
    endpoint, old = make_endpoint(customer_admin, receiver.url)
    (delivery,) = emit(customer_admin)
    new = services.endpoint_rotate_secret(actor=customer_admin, endpoint=endpoint)
    assert new != old and new.startswith("whsec_")
    services.delivery_send(delivery_id=delivery.pk)
    request = receiver.requests[0]
    header = request["headers"]["x-didportal-signature"]
    assert services.signature_verify(secret=new, header=header, body=request["body"])
    assert not services.signature_verify(secret=old, header=header, body=request["body"])


def test_the_secret_is_stored_encrypted(customer_admin, receiver):
    endpoint, secret = make_endpoint(customer_admin, receiver.url)
    endpoint.refresh_from_db()
    assert secret not in endpoint.secret_encrypted and endpoint.secret_hint == secret[:10] + "…"


# --- order callbacks ------------------------------------------------------------------------


class _Order:
    def __init__(self, account, pk=41, status="completed"):
        self.pk, self.account_id, self.status = pk, account.pk, status


@pytest.mark.parametrize(
    ("status", "didww"),
    [("completed", "completed"), ("partial", "completed"), ("failed", "canceled")],
)
def test_an_order_callback_posts_didww_form_fields_signed(customer_admin, receiver, status, didww):
    delivery = services.order_callback_queue(
        order=_Order(customer_admin.account, status=status), url=receiver.url, method="post"
    )
    assert services.delivery_send(delivery_id=delivery.pk) == "delivered"
    request = receiver.requests[0]
    assert request["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request["body"].decode()) == {
        "id": ["41"],
        "type": ["orders"],
        "status": [didww],
    }
    secret = services._callback_secret(customer_admin.account.pk)
    assert services.signature_verify(
        secret=secret, header=request["headers"]["x-didportal-signature"], body=request["body"]
    )


def test_a_get_callback_sends_query_parameters(customer_admin, receiver):
    delivery = services.order_callback_queue(
        order=_Order(customer_admin.account), url=receiver.url + "?mine=1", method="GET"
    )
    services.delivery_send(delivery_id=delivery.pk)
    request = receiver.requests[0]
    assert request["method"] == "GET"
    query = parse_qs(urlsplit(request["path"]).query)
    assert query == {"mine": ["1"], "id": ["41"], "type": ["orders"], "status": ["completed"]}


def test_a_callback_is_queued_once_per_status_and_not_for_a_pending_order(customer_admin, receiver):
    order = _Order(customer_admin.account)
    first = services.order_callback_queue(order=order, url=receiver.url, method="post")
    again = services.order_callback_queue(order=order, url=receiver.url, method="post")
    assert first.pk == again.pk and Delivery.objects.count() == 1
    pending = _Order(customer_admin.account, pk=42, status="pending")
    assert services.order_callback_queue(order=pending, url=receiver.url, method="post") is None


def test_a_callback_method_or_url_we_would_not_call_is_refused(customer_admin, settings):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.order_callback_queue(
            order=_Order(customer_admin.account), url="https://x.example/", method="put"
        )
    assert "callback_method" in error.value.message_dict
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(ValidationError) as error:
        services.order_callback_queue(
            order=_Order(customer_admin.account), url="http://x.example/", method="post"
        )
    assert "callback_url" in error.value.message_dict


def test_a_callback_whose_host_now_resolves_privately_is_refused_at_send(
    customer_admin, settings, resolve_to
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    resolve_to({"cb.example.com": "127.0.0.1"})
    delivery = services.order_callback_queue(
        order=_Order(customer_admin.account), url="https://cb.example.com/x", method="post"
    )
    assert services.delivery_send(delivery_id=delivery.pk) == "retry"
    attempt = Attempt.objects.get(delivery=delivery)
    assert attempt.error.startswith("Refused: ") and "127.0.0.1" in attempt.error
    assert attempt.duration_ms < 1000 and timezone.now()


def test_callback_url_check_for_the_orders_api(settings, resolve_to):
    from django.core.exceptions import ValidationError

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    resolve_to({"cb.example.com": "93.184.215.14", "inside.example.com": "10.0.0.8"})
    assert services.callback_url_check(" https://cb.example.com/x ", "GET") == (
        "https://cb.example.com/x",
        "get",
    )
    for url, method, field in [
        ("https://inside.example.com/x", "post", "callback_url"),
        ("http://cb.example.com/x", "post", "callback_url"),
        ("https://cb.example.com/x", "delete", "callback_method"),
    ]:
        with pytest.raises(ValidationError) as error:
            services.callback_url_check(url, method)
        assert list(error.value.message_dict) == [field]


def test_the_sweep_hands_a_delivery_over_again_only_after_a_while(customer_admin, monkeypatch):
    handed = []
    monkeypatch.setattr(
        tasks.deliver_webhook, "apply_async", lambda args, **kw: handed.extend(args)
    )
    with time_machine.travel(NOW, tick=False):
        make_endpoint(customer_admin, "http://127.0.0.1:9/hook")
        (delivery,) = emit(customer_admin)
        assert services.webhooks_sweep() == 1
    with time_machine.travel(NOW + timedelta(minutes=4), tick=False):
        assert services.webhooks_sweep() == 0  # still with the workers
    with time_machine.travel(NOW + timedelta(minutes=5, seconds=1), tick=False):
        assert services.webhooks_sweep() == 1  # lost: handed over again
    assert handed == [delivery.pk, delivery.pk]


def test_old_finished_deliveries_are_pruned_pending_ones_kept(customer_admin, receiver):
    with time_machine.travel(NOW, tick=False):
        make_endpoint(customer_admin, receiver.url)
        done, waiting = emit(customer_admin)[0], emit(customer_admin)[0]
        services.delivery_send(delivery_id=done.pk)
    with time_machine.travel(NOW + timedelta(days=29), tick=False):
        assert services.deliveries_prune() == 0
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        assert services.deliveries_prune() == 1
    assert list(Delivery.objects.values_list("pk", flat=True)) == [waiting.pk]
    assert not Attempt.objects.exists()
