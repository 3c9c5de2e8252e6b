"""A customer's own changes to its numbers: destination and ring timeout, assigned users."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from inventory.choices import DIDStatus
from inventory.customer import assigned_users_of, did_destination_set, did_users_assign
from inventory.models import DID
from inventory.services import did_transition
from tests.factories import UserFactory
from tests.inventory.factories import DIDFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def did(customer):
    return did_transition(
        did=DIDFactory(), to_status=DIDStatus.ACTIVE, owner=customer, job="tests", reason="sold"
    )


def set_destination(did, actor, destination="+31205550100", ring_timeout=None):
    return did_destination_set(
        did=did, actor=actor, destination=destination, ring_timeout=ring_timeout
    )


@pytest.mark.parametrize(
    ("destination", "ring_timeout"),
    [
        ("+31205550100", None),
        ("sip:office@pbx.example.com", 5),
        ("sips:desk@pbx.example.com", 300),
        ("", None),
    ],
)
def test_admin_sets_destination_and_ring_timeout(did, customer_admin, destination, ring_timeout):
    set_destination(did, customer_admin, "+31205550999", 60)
    set_destination(did, customer_admin, destination, ring_timeout)
    did.refresh_from_db()
    assert (did.destination, did.ring_timeout) == (destination, ring_timeout)
    record = did.history.first()
    assert record.history_user == customer_admin
    assert "destination set to" in record.history_change_reason
    assert ("until answered" if ring_timeout is None else f"{ring_timeout} s") in (
        record.history_change_reason
    )


@pytest.mark.parametrize(
    ("destination", "ring_timeout", "field"),
    [
        ("0205550100", None, "destination"),
        ("http://example.com", None, "destination"),
        ("+31205550100", 4, "ring_timeout"),
        ("+31205550100", 301, "ring_timeout"),
        ("+31205550100", "30", "ring_timeout"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    did, customer_admin, destination, ring_timeout, field
):
    with pytest.raises(ValidationError) as caught:
        set_destination(did, customer_admin, destination, ring_timeout)
    assert list(caught.value.message_dict) == [field]
    did.refresh_from_db()
    assert (did.destination, did.ring_timeout) == ("", None)


def test_the_database_refuses_a_ring_timeout_out_of_range(did):
    with pytest.raises(IntegrityError), transaction.atomic():
        DID.objects.filter(pk=did.pk).update(ring_timeout=301)


def test_an_unchanged_destination_writes_no_history(did, customer_admin):
    set_destination(did, customer_admin, "+31205550100", 30)
    count = did.history.count()
    set_destination(did, customer_admin, "+31205550100", 30)
    assert did.history.count() == count


def test_members_strangers_and_staff_may_not_set_a_destination(
    did, customer_member, stranger, platform_admin
):
    for actor in (customer_member, stranger, platform_admin):
        with pytest.raises(PermissionDenied):
            set_destination(did, actor)
    did.refresh_from_db()
    assert did.destination == ""


def test_a_released_number_is_no_longer_the_customers(did, customer_admin):
    did_transition(did=did, to_status=DIDStatus.HOLD, job="tests", reason="hold")
    set_destination(did, customer_admin)  # on hold: still the customer's
    did_transition(did=did, to_status=DIDStatus.IN_STOCK, job="tests", reason="released")
    with pytest.raises(PermissionDenied):
        set_destination(did, customer_admin, "+31205550111")


# --- Assigned users -------------------------------------------------------------------------


def test_admin_assigns_users_of_the_account(did, customer, customer_admin, customer_member):
    assigned = did_users_assign(did=did, actor=customer_admin, users=[customer_member])
    assert assigned == [customer_member]
    assert list(assigned_users_of(did)) == [customer_member]
    assert did.history.first().history_change_reason == f"assigned to {customer_member}"

    did_users_assign(did=did, actor=customer_admin, users=[])
    assert list(assigned_users_of(did)) == []


def test_another_accounts_user_is_refused_and_nothing_changes(
    did, customer_admin, customer_member, stranger
):
    did_users_assign(did=did, actor=customer_admin, users=[customer_member])
    with pytest.raises(ValidationError) as caught:
        did_users_assign(did=did, actor=customer_admin, users=[customer_member, stranger])
    assert "is not a user of your account" in caught.value.message_dict["users"][0]
    assert list(did.assigned_users.all()) == [customer_member]


def test_a_deactivated_user_is_refused(did, customer, customer_admin):
    gone = UserFactory(account=customer, role="customer_member", is_active=False)
    with pytest.raises(ValidationError, match="deactivated"):
        did_users_assign(did=did, actor=customer_admin, users=[gone])


def test_only_the_accounts_admins_assign(did, customer_admin, customer_member, stranger):
    for actor in (customer_member, stranger):
        with pytest.raises(PermissionDenied):
            did_users_assign(did=did, actor=actor, users=[customer_admin])
    assert not did.assigned_users.exists()


def test_assignments_of_an_earlier_owner_never_show(did, customer_admin, customer_member, stranger):
    did_users_assign(did=did, actor=customer_admin, users=[customer_member])
    did_transition(did=did, to_status=DIDStatus.HOLD, job="tests", reason="hold")
    did_transition(did=did, to_status=DIDStatus.IN_STOCK, job="tests", reason="released")
    did.refresh_from_db()
    assert list(assigned_users_of(did)) == []  # no owner: nobody

    did_transition(
        did=did, to_status=DIDStatus.ACTIVE, owner=stranger.account, job="tests", reason="resold"
    )
    assert list(assigned_users_of(did)) == []  # the old account's member is not shown
    did_users_assign(did=did, actor=stranger, users=[stranger])
    assert list(did.assigned_users.all()) == [stranger]  # the stale row is gone
