"""Events come from the services where the change happens, once per change, in its
transaction: checkout, number moves, renewals, the balance, registration decisions."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from billing.services.renewals import subscriptions_renew_due
from cart.orders import order_place
from cart.services import cart_add_any, cart_add_numbers
from compliance.services.registrations import (
    submission_approve,
    submission_get_or_create,
    submission_reject,
    submission_submit,
)
from inventory.choices import DIDStatus
from inventory.models import DID
from inventory.services import did_release, did_transition, dids_transition
from tests.billing.factories import fund, spend
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.compliance.conftest import buy
from tests.compliance.test_deadlines import paris_profile
from tests.inventory.factories import DIDFactory
from webhooks.models import Delivery

from .conftest import make_endpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_private")]
HOOK = "http://127.0.0.1:9/hook"  # nothing is sent here: these tests read the queued rows
BOUGHT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def events(account):
    """``[(event, data), …]`` queued for ``account``, oldest first."""
    rows = Delivery.objects.filter(account=account).order_by("pk")
    return [(row.event, json.loads(row.body)["data"]) for row in rows]


def names(account):
    return [event for event, _ in events(account)]


@pytest.fixture
def hooked(customer_admin):
    make_endpoint(customer_admin, HOOK)
    return customer_admin


def test_a_completed_order_and_its_numbers_activated(hooked):
    account = hooked.account
    fund(account, "100.00")
    did = DIDFactory()
    cart_add_any(user=hooked, block=did.block, quantity=1)
    order = order_place(user=hooked, token=uuid.uuid4().hex)
    assert names(account) == ["number.activated", "order.completed"]
    (_, activated), (_, completed) = events(account)
    assert activated["did"] == {"id": did.pk, "number": did.number, "status": "active"}
    assert activated["from"] == "in_stock"
    assert completed["order"]["id"] == order.pk and completed["order"]["status"] == "completed"
    assert completed["order"]["gross"] == str(order.gross) and order.gross > 0
    assert completed["order"]["items"] == [
        {"position": 1, "status": "completed", "number": did.number, "failure_reason": ""}
    ]


def test_a_failed_order(hooked, platform_admin):
    account = hooked.account
    fund(account, "100.00")
    did = DIDFactory()
    cart_add_numbers(user=hooked, numbers=[did.number])
    did_transition(did=did, to_status=DIDStatus.RESERVED, reason="kept", actor=platform_admin)
    order_place(user=hooked, token=uuid.uuid4().hex)
    assert names(account) == ["order.failed"]
    ((_, data),) = events(account)
    assert data["order"]["status"] == "failed" and data["order"]["gross"] == "0.00"
    assert "no longer available" in data["order"]["items"][0]["failure_reason"]


def test_a_refused_checkout_emits_nothing(hooked):
    cart_add_any(user=hooked, block=DIDFactory().block, quantity=1)
    with pytest.raises(Exception, match="balance"):
        order_place(user=hooked, token=uuid.uuid4().hex)
    assert names(hooked.account) == []


def test_a_release_is_one_event_not_a_hold_then_a_release(hooked):
    did = held_did(hooked.account)
    Delivery.objects.all().delete()
    did_release(did=did, reason="cancelled", job="tests")
    assert names(hooked.account) == ["number.released"]
    ((_, data),) = events(hooked.account)
    assert data["did"]["number"] == did.number and data["from"] == "hold"


def test_a_number_on_hold_then_back(hooked, platform_admin):
    did = held_did(hooked.account)
    dids_transition(
        dids_queryset_or_ids=[did.pk], to_status=DIDStatus.HOLD, reason="x", actor=platform_admin
    )
    dids_transition(
        dids_queryset_or_ids=[did.pk], to_status=DIDStatus.ACTIVE, reason="y", actor=platform_admin
    )
    assert names(hooked.account) == ["number.activated", "number.on_hold", "number.activated"]


def test_another_accounts_number_moves_reach_only_that_account(hooked, stranger):
    held_did(stranger.account)
    assert names(hooked.account) == []


def test_renewed_then_renewal_failed(hooked):
    account = hooked.account
    fund(account, "5.00")
    with time_machine.travel(BOUGHT, tick=False):
        subscription = start(account, price="2.00")
    Delivery.objects.all().delete()
    with time_machine.travel(subscription.next_renewal_at + timedelta(minutes=1), tick=False):
        assert subscriptions_renew_due()["renewed"] == 1
    assert names(account) == ["number.renewed"]
    ((_, renewed),) = events(account)
    assert renewed["did"]["id"] == subscription.did_id and renewed["recurring_price"] == "2.00"
    subscription.refresh_from_db()
    Delivery.objects.all().delete()  # what is left (0.24) does not pay the next period
    with time_machine.travel(subscription.next_renewal_at + timedelta(minutes=1), tick=False):
        assert subscriptions_renew_due()["hold"] == 1
        assert subscriptions_renew_due()["hold"] == 0  # a second run changes nothing
    assert sorted(names(account)) == ["number.on_hold", "number.renewal_failed"]


def test_balance_low_once_per_crossing(hooked):
    account = hooked.account
    fund(account, "20.00")  # threshold 10.00
    spend(account, "5.00")
    assert names(account) == []
    spend(account, "6.00")
    spend(account, "1.00")
    assert names(account) == ["balance.low"]
    assert events(account)[0][1] == {"balance": "9.00", "threshold": "10.00"}
    fund(account, "50.00")
    spend(account, "55.00")
    assert names(account) == ["balance.low", "balance.low"]


@pytest.mark.postgres
def test_approval_twice_is_one_event_rejection_one_event(customer_admin, compliance_officer, paris):
    make_endpoint(customer_admin, HOOK)
    account = customer_admin.account
    fund(account, "100.00")
    buy(customer_admin, "+33155500000")
    assert names(account) == ["order.completed"]  # awaiting registration: not active yet
    submission = submission_get_or_create(
        account=account, requirement=paris.requirement, actor=customer_admin
    )
    parts = paris_profile(account)
    submission_submit(submission=submission, actor=customer_admin, **parts)
    submission_reject(
        submission=submission, actor=compliance_officer, reasons=["other"], comment="Blurry."
    )
    submission.refresh_from_db()
    submission_submit(submission=submission, actor=customer_admin, **parts)
    submission_approve(submission=submission, actor=compliance_officer)
    submission_approve(submission=submission, actor=compliance_officer)
    assert names(account) == [
        "order.completed",
        "registration.rejected",
        "number.activated",
        "registration.approved",
    ]
    data = dict(events(account))
    assert data["registration.rejected"]["reasons"] == ["other"]
    assert data["registration.rejected"]["comment"] == "Blurry."
    assert data["registration.approved"]["numbers"] == ["+33155500000"]
    assert data["registration.approved"]["registration"]["status"] == "approved"
    assert DID.objects.get(number="+33155500000").status == DIDStatus.ACTIVE


def test_an_event_is_data_only_decimal_as_strings(hooked):
    from webhooks.services import event_emit

    (delivery,) = event_emit(
        account=hooked.account, event="balance.low", data={"balance": Decimal("1.50")}
    )
    assert json.loads(delivery.body)["data"] == {"balance": "1.50"}
