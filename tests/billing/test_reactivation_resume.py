"""A suspended customer reactivated through the console gets its held numbers back: the
status change enqueues the resume task after commit, and the task (as a worker runs it,
twice) charges both sides and brings the subscription back."""

import pytest
import time_machine
from django.urls import reverse

from billing.models import Subscription
from billing.services.renewals import subscriptions_renew_due
from billing.tasks import resume_subscriptions_after_reactivation
from tests.billing.factories import fund
from tests.billing.test_reseller_money import (
    AFTER_FIRST,
    T0,
    balance,
    charges,
    customer_of,
    no_mismatch,
    rent,
    reseller_account,
)
from tests.billing.test_subscription_lifecycle import published

pytestmark = pytest.mark.django_db

S = Subscription.Status
Cause = Subscription.HoldCause
TASK = "billing.tasks.resume_subscriptions_after_reactivation"


def suspended_and_held():
    with time_machine.travel(T0, tick=False):
        reseller = reseller_account()
        customer = customer_of(reseller)
        fund(customer, "50.00")
        fund(reseller, "50.00")
        sub = rent(customer)
        customer.status = "suspended"
        customer.save(update_fields=["status"])
    with time_machine.travel(AFTER_FIRST, tick=False):
        assert subscriptions_renew_due()["hold"] == 1
    sub.refresh_from_db()
    assert (sub.status, sub.hold_cause) == (S.HOLD, Cause.ACCOUNT_SUSPENDED)
    return reseller, customer, sub


def set_status(client, actor, customer, status, capture):
    client.force_login(actor)
    with capture(execute=True):
        response = client.post(
            reverse("accounts:customer_set_status", args=[customer.pk]), {"status": status}
        )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.status == status


def test_reactivation_by_the_reseller_enqueues_the_resume_and_the_task_resumes(
    client, django_capture_on_commit_callbacks
):
    reseller, customer, sub = suspended_and_held()
    before = (balance(customer), balance(reseller))
    published()  # whatever earlier work left in the broker
    with time_machine.travel(AFTER_FIRST, tick=False):
        set_status(
            client, reseller.users.get(), customer, "active", django_capture_on_commit_callbacks
        )
        sub.refresh_from_db()
        assert sub.status == S.HOLD  # nothing resumed or charged inside the request
        assert (balance(customer), balance(reseller)) == before
        assert (TASK, [customer.pk]) in published()

        assert resume_subscriptions_after_reactivation.apply(args=[customer.pk]).get() == 1
        assert resume_subscriptions_after_reactivation.apply(args=[customer.pk]).get() == 0
    sub.refresh_from_db()
    assert (sub.status, sub.hold_cause) == (S.ACTIVE, "")
    assert sorted(c.side for c in charges(sub) if c.period_index == 1) == ["sale", "wholesale"]
    assert balance(customer) < before[0] and balance(reseller) < before[1]
    no_mismatch()


def test_suspending_enqueues_nothing_and_the_task_resumes_nothing_while_suspended(
    client, django_capture_on_commit_callbacks
):
    reseller, customer, sub = suspended_and_held()
    published()
    customer.status = "active"
    customer.save(update_fields=["status"])
    set_status(
        client, reseller.users.get(), customer, "suspended", django_capture_on_commit_callbacks
    )
    assert TASK not in [name for name, _ in published()]
    assert resume_subscriptions_after_reactivation.apply(args=[customer.pk]).get() == 0
    sub.refresh_from_db()
    assert (sub.status, sub.hold_cause) == (S.HOLD, Cause.ACCOUNT_SUSPENDED)


def test_the_platform_reactivating_a_reseller_enqueues_its_resume(
    client, platform_admin, django_capture_on_commit_callbacks
):
    from accounts.services import reseller_status_set

    reseller = reseller_account()
    reseller_status_set(actor=platform_admin, reseller=reseller, status="suspended")
    published()
    with django_capture_on_commit_callbacks(execute=True):
        reseller_status_set(actor=platform_admin, reseller=reseller, status="active")
    assert (TASK, [reseller.pk]) in published()
