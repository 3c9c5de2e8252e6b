"""Workers racing for deliveries against real PostgreSQL row locks: each is sent once."""

import pytest

from tests.concurrency import run_in_threads
from webhooks import services
from webhooks.models import Delivery, Endpoint

from .conftest import make_endpoint

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("allow_private"),
]


def test_tasks_and_flushes_racing_for_one_delivery_send_it_once(customer_admin, receiver):
    receiver.delay = 0.2  # the first sender is still waiting for the answer
    make_endpoint(customer_admin, receiver.url)
    (delivery,) = services.event_emit(
        account=customer_admin.account, event="order.completed", data={}
    )

    def work(i):
        if i % 2:
            return services.delivery_send(delivery_id=delivery.pk)
        return services.webhooks_flush()["delivered"]

    results = run_in_threads(work, count=6)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_concurrent_flushes_share_the_work_and_send_each_once(customer_admin, receiver):
    receiver.delay = 0.02
    make_endpoint(customer_admin, receiver.url)
    for i in range(20):
        services.event_emit(account=customer_admin.account, event="order.completed", data={"n": i})

    results = run_in_threads(lambda i: services.webhooks_flush(), count=4)

    assert sum(r["delivered"] for r in results) == 20
    assert sorted(r["headers"]["x-didportal-delivery"] for r in receiver.requests) == sorted(
        str(u) for u in Delivery.objects.values_list("uuid", flat=True)
    )


def test_deliveries_given_up_at_once_disable_the_endpoint_and_email_once(
    customer_admin, receiver, settings
):
    from outbox.models import OutgoingEmail

    settings.WEBHOOK_RETRY_DELAYS = ()
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    receiver.status = 500
    endpoint, _ = make_endpoint(customer_admin, receiver.url)
    for i in range(6):
        services.event_emit(account=customer_admin.account, event="order.completed", data={"n": i})

    run_in_threads(lambda i: services.webhooks_flush(), count=4)

    endpoint = Endpoint.objects.get(pk=endpoint.pk)
    assert not endpoint.enabled
    assert (
        OutgoingEmail.objects.filter(key__startswith=f"webhook-disabled:{endpoint.pk}:").count()
        == 1
    )
