"""Bulk status offers only the statuses every selected number can move to, and the service
refuses the others saying why (issue 10, item 23: Active/Hold without an owner)."""

import pytest
from django.urls import reverse

from inventory.models import DID
from inventory.services import InvalidTransition, dids_transition

pytestmark = pytest.mark.django_db

BULK = reverse("inventory:did_bulk")


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client


def offered(admin_client, dids):
    response = admin_client.post(BULK, {"action": "status", "ids": [d.pk for d in dids]})
    assert response.status_code == 200
    return response, [value for value, _ in response.context["form"].fields["to_status"].choices]


def test_in_stock_numbers_are_not_offered_active_or_hold(admin_client, make_did):
    _, choices = offered(admin_client, [make_did(), make_did()])
    assert choices == ["reserved", "archive"]


def test_each_selection_gets_the_moves_all_of_its_numbers_allow(admin_client, make_did):
    assert offered(admin_client, [make_did("active")])[1] == ["in_stock", "hold"]
    assert offered(admin_client, [make_did("hold")])[1] == [
        "in_stock",
        "reserved",
        "active",
        "archive",
    ]
    assert offered(admin_client, [make_did("hold"), make_did("reserved")])[1] == [
        "in_stock",
        "archive",
    ]


def test_a_selection_without_a_common_move_says_so(admin_client, make_did):
    response, choices = offered(admin_client, [make_did(), make_did("active")])
    assert choices == []
    page = response.content.decode()
    assert "No status change fits every selected number: they are in stock, active." in page
    assert "Change status: 2 numbers</button>" not in page


def test_the_service_refuses_active_and_hold_without_an_owner_saying_why(make_did, platform_admin):
    stock = [make_did(), make_did()]
    with pytest.raises(InvalidTransition) as refused:
        dids_transition(
            dids_queryset_or_ids=[d.pk for d in stock],
            to_status="active",
            actor=platform_admin,
            reason="x",
        )
    assert refused.value.messages == [
        f"Nothing was changed: 2 numbers are in stock ({stock[0].number}, {stock[1].number}); "
        "a number becomes active only when it is assigned to a customer (Assign, on the "
        "number's page)."
    ]
    with pytest.raises(InvalidTransition, match="only a customer's active number can go on hold"):
        dids_transition(
            dids_queryset_or_ids=[stock[0].pk], to_status="hold", actor=platform_admin, reason="x"
        )
    assert set(DID.objects.values_list("status", flat=True)) == {"in_stock"}


def test_a_posted_active_for_stock_is_refused_by_the_form(admin_client, make_did):
    did = make_did()
    response = admin_client.post(
        BULK, {"action": "status", "ids": [did.pk], "to_status": "active", "confirm": "1"}
    )
    assert "Select a valid choice" in response.content.decode()
    assert DID.objects.get(pk=did.pk).status == "in_stock"
