import itertools
import re

import pytest

from inventory.choices import DIDStatus
from inventory.services import (
    ALLOWED_TRANSITIONS,
    InvalidTransition,
    did_transition,
    dids_transition,
)

pytestmark = pytest.mark.django_db

STATUSES = DIDStatus.values
ALLOWED = [(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in sorted(targets)]
# Compliance alone moves a number awaiting registration (approval, or cancellation with a
# refund, through ``transition_locked``); ``did_transition`` refuses to.
BY_COMPLIANCE = [(a, b) for a, b in ALLOWED if a == "awaiting_registration"]
ILLEGAL = [
    (a, b) for a, b in itertools.product(STATUSES, STATUSES) if b not in ALLOWED_TRANSITIONS[a]
]


def test_table_covers_every_status():
    assert set(ALLOWED_TRANSITIONS) == set(STATUSES)
    assert ("archive", "active") in ILLEGAL
    assert ("active", "archive") in ILLEGAL
    assert all(a != b for a, b in ALLOWED)


@pytest.mark.parametrize(
    ("from_status", "to_status"), [move for move in ALLOWED if move not in BY_COMPLIANCE]
)
def test_allowed_move(make_did, customer, from_status, to_status):
    did = make_did(
        from_status,
        destination="sip:100@pbx.example.com"
        if from_status
        in (
            "active",
            "hold",
        )
        else "",
    )
    owner = customer if to_status in ("active", "awaiting_registration") else None

    did_transition(did=did, to_status=to_status, owner=owner, job="test", reason="testing")

    did.refresh_from_db()
    assert did.status == to_status
    if to_status in ("active", "hold", "awaiting_registration"):
        assert did.owner == customer
        assert did.ever_sold
    else:
        assert did.owner is None
        assert did.client_package is None
        assert did.destination == ""
    assert (did.hold_started_at is not None) == (to_status == "hold")
    if from_status in ("active", "hold") and to_status in ("active", "hold"):
        assert did.destination == "sip:100@pbx.example.com"  # hold keeps the routing


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL)
def test_illegal_move_names_both_states(make_did, customer, from_status, to_status):
    did = make_did(from_status)
    with pytest.raises(InvalidTransition) as exc_info:
        did_transition(did=did, to_status=to_status, owner=customer, job="test", reason="testing")
    assert exc_info.value.messages == [
        f"Cannot move {did.number} from {from_status} to {to_status}."
    ]
    did.refresh_from_db()
    assert did.status == from_status


@pytest.mark.parametrize(("from_status", "to_status"), BY_COMPLIANCE)
def test_a_number_awaiting_registration_is_moved_by_compliance_only(
    make_did, platform_admin, from_status, to_status
):
    did = make_did(from_status)
    with pytest.raises(InvalidTransition, match="approved or cancelled by compliance review"):
        did_transition(did=did, to_status=to_status, actor=platform_admin, reason="x")
    did.refresh_from_db()
    assert did.status == from_status


def test_invalid_transition_is_a_validation_error():
    from django.core.exceptions import ValidationError

    assert issubclass(InvalidTransition, ValidationError)


def test_activation_needs_an_owner(make_did, platform_admin):
    with pytest.raises(InvalidTransition, match="needs an owner"):
        did_transition(did=make_did(), to_status="active", actor=platform_admin, reason="x")


def test_reactivation_cannot_switch_owner(make_did, stranger, platform_admin):
    did = make_did("hold")
    with pytest.raises(InvalidTransition, match="on hold for another account"):
        did_transition(
            did=did,
            to_status="active",
            owner=stranger.account,
            actor=platform_admin,
            reason="x",
        )


def test_a_change_needs_an_actor_or_a_job(make_did):
    with pytest.raises(ValueError, match="actor"):
        did_transition(did=make_did(), to_status="archive", reason="x")


def test_history_records_who_and_why(make_did, platform_admin):
    did = make_did()
    did_transition(did=did, to_status="reserved", actor=platform_admin, reason="kept for Acme")
    record = did.history.latest()
    assert record.status == "reserved"
    assert record.history_user == platform_admin
    assert record.history_change_reason == "kept for Acme"


def test_history_records_the_job_name(make_did):
    did = make_did()
    did_transition(did=did, to_status="archive", job="cleanup", reason="operator returned range")
    record = did.history.latest()
    assert record.history_user is None
    assert record.history_change_reason == "cleanup: operator returned range"


def test_bulk_move_is_all_or_nothing(make_did, platform_admin):
    free = [make_did() for _ in range(3)]
    archived = make_did("archive")
    with pytest.raises(
        InvalidTransition,
        match=re.escape(f"({archived.number}); archived numbers cannot move to reserved"),
    ):
        dids_transition(
            dids_queryset_or_ids=[d.pk for d in [*free, archived]],
            to_status="reserved",
            actor=platform_admin,
            reason="x",
        )
    assert all(
        d.status == "in_stock" for d in type(archived).objects.filter(pk__in=[d.pk for d in free])
    )


def test_bulk_move_writes_history_per_number(make_did, platform_admin, block):
    dids = [make_did() for _ in range(3)]
    moved = dids_transition(
        dids_queryset_or_ids=block.dids.all(),
        to_status="archive",
        actor=platform_admin,
        reason="range withdrawn",
    )
    assert moved == 3
    for did in dids:
        record = did.history.latest()
        assert (record.status, record.history_user, record.history_change_reason) == (
            "archive",
            platform_admin,
            "range withdrawn",
        )


def test_package_must_belong_to_the_new_owner(make_did, stranger, platform_admin):
    from tests.inventory.factories import ClientPackageFactory

    with pytest.raises(InvalidTransition, match="belongs to another account"):
        did_transition(
            did=make_did(),
            to_status="active",
            owner=stranger.account,
            client_package=ClientPackageFactory(),
            actor=platform_admin,
            reason="x",
        )
