"""One number's page (fields, audit log, actions) and the global audit log."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import DID
from inventory.services import dids_add, dids_transition, holds_release_expired
from tests.factories import UserFactory, platform
from tests.inventory.factories import ClientPackageFactory, PackageFactory

pytestmark = pytest.mark.django_db

AUDIT = reverse("inventory:audit_log")


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client


def detail(did):
    return reverse("inventory:did_detail", args=[did.pk])


def test_detail_shows_fields_owner_block_and_history(admin_client, block, platform_admin):
    dids_add(block=block, spec_text="5550000", actor=platform_admin, tag="t1")
    did = DID.objects.get()
    dids_transition(
        dids_queryset_or_ids=[did.pk], to_status="reserved", reason="tender", actor=platform_admin
    )
    response = admin_client.get(detail(did))
    html = response.content.decode()
    assert did.number in html and "Amsterdam" in html and block.operator.name in html
    [changed, added] = response.context["history"]
    assert changed.changes == [("status", "In stock", "Reserved")]
    assert changed.record.history_change_reason == "tender"
    assert added.record.history_type == "+"
    assert ("tag", "", "t1") in added.changes
    assert "In stock &rarr; <strong>Reserved</strong>" in html
    assert platform_admin.email in html


def test_detail_names_the_system_job(admin_client, make_did):
    did = make_did(status="hold", hold_started_at=timezone.now() - dt.timedelta(days=400))
    holds_release_expired()
    html = admin_client.get(detail(did)).content.decode()
    assert "system job</span> release_holds" in html
    assert "release_holds: hold expired" in html


def test_detail_offers_only_allowed_moves(admin_client, make_did):
    active = make_did(status="active")
    choices = admin_client.get(detail(active)).context["status_form"].fields["to_status"].choices
    assert [value for value, _ in choices] == ["in_stock", "hold"]
    stock = make_did()
    choices = admin_client.get(detail(stock)).context["status_form"].fields["to_status"].choices
    assert [value for value, _ in choices] == ["reserved", "archive"]  # active: by assigning


def test_change_status(admin_client, make_did, platform_admin):
    did = make_did()
    url = reverse("inventory:did_change_status", args=[did.pk])
    response = admin_client.post(url, {"to_status": "archive", "reason": "faulty"})
    assert response.status_code == 302
    did.refresh_from_db()
    assert did.status == "archive"
    assert did.history.latest().history_user == platform_admin


def test_change_status_refuses_a_move_not_offered(admin_client, make_did):
    did = make_did(status="active")
    url = reverse("inventory:did_change_status", args=[did.pk])
    response = admin_client.post(url, {"to_status": "archive", "reason": "x"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    did.refresh_from_db()
    assert did.status == "active"


def test_assign_within_the_package_allowance(admin_client, make_did, customer):
    client_package = ClientPackageFactory(account=customer, package=PackageFactory(max_dids=1))
    first, second = make_did(), make_did()
    url = reverse("inventory:did_assign", args=[first.pk])
    assert admin_client.post(url, {"client_package": client_package.pk}).status_code == 302
    first.refresh_from_db()
    assert (first.status, first.owner, first.client_package) == ("active", customer, client_package)

    response = admin_client.post(
        reverse("inventory:did_assign", args=[second.pk]), {"client_package": client_package.pk}
    )
    assert response.status_code == 200
    assert "allows 1 numbers" in response.content.decode()
    second.refresh_from_db()
    assert second.status == "in_stock"


def test_assign_offers_active_client_packages_only(admin_client, make_did, customer):
    active = ClientPackageFactory(account=customer)
    ClientPackageFactory(account=customer, active=False)
    form = admin_client.get(detail(make_did())).context["assign_form"]
    assert list(form.fields["client_package"].queryset) == [active]


def test_edit_details(admin_client, make_did):
    did = make_did(status="active")
    url = reverse("inventory:did_edit_details", args=[did.pk])
    response = admin_client.post(
        url, {"tag": "vip", "notes": "call first", "destination": "sip:desk@example.com"}
    )
    assert response.status_code == 302
    did.refresh_from_db()
    assert (did.tag, did.notes, did.destination) == ("vip", "call first", "sip:desk@example.com")
    assert did.history.latest().history_change_reason == "details edited"


def test_edit_details_refuses_a_destination_on_a_stock_number(admin_client, make_did):
    did = make_did()
    url = reverse("inventory:did_edit_details", args=[did.pk])
    response = admin_client.post(url, {"tag": "", "notes": "", "destination": "+31201234567"})
    assert "Only a number a customer holds" in response.content.decode()
    bad = admin_client.post(url, {"tag": "", "notes": "", "destination": "not a number"})
    assert "Enter an E.164 number" in bad.content.decode()
    did.refresh_from_db()
    assert did.destination == ""


def test_unknown_number_is_404(admin_client):
    assert admin_client.get(reverse("inventory:did_detail", args=[999999])).status_code == 404


# --- the global audit log -------------------------------------------------------------------


def test_audit_log_filters(admin_client, block, platform_admin):
    other_admin = UserFactory(account=platform(), role="platform_admin", email="ops@carrier.test")
    dids_add(block=block, spec_text="5550000-5550004", actor=platform_admin)
    dids_add(block=block, spec_text="5551000", actor=other_admin)
    dids_transition(
        dids_queryset_or_ids=DID.objects.filter(number="+31205550000"),
        to_status="archive",
        reason="x",
        actor=platform_admin,
    )

    def numbers(**params):
        entries = admin_client.get(AUDIT, params).context["entries"]
        return [entry.record.number for entry in entries]

    assert numbers(number="+3120555100") == ["+31205551000"]
    assert numbers(user="ops@") == ["+31205551000"]
    assert numbers(change_type="~") == ["+31205550000"]
    assert len(numbers()) == 7
    today = timezone.localdate()
    assert len(numbers(date_from=today, date_to=today)) == 7
    assert numbers(date_to=today - dt.timedelta(days=1)) == []


def test_audit_log_is_newest_first_with_keyset_pages(admin_client, block, platform_admin):
    dids_add(block=block, spec_text="5550000-5550059", actor=platform_admin)
    dids_transition(
        dids_queryset_or_ids=DID.objects.filter(number="+31205550007"),
        to_status="reserved",
        reason="latest",
        actor=platform_admin,
    )
    first = admin_client.get(AUDIT)
    entries = first.context["entries"]
    assert len(entries) == 50
    assert entries[0].record.history_change_reason == "latest"
    assert entries[0].changes == [("status", "In stock", "Reserved")]
    cursor = first.context["page"].next_cursor
    second = admin_client.get(AUDIT, {"after": cursor})
    assert len(second.context["entries"]) == 11
    assert second.context["page"].next_cursor is None
    back = admin_client.get(AUDIT, {"before": second.context["page"].previous_cursor})
    assert [e.record.pk for e in back.context["entries"]] == [e.record.pk for e in entries]


def test_audit_log_query_count_does_not_grow(
    admin_client, block, platform_admin, django_assert_max_num_queries
):
    dids_add(block=block, spec_text="5550000-5550099", actor=platform_admin)
    dids_transition(
        dids_queryset_or_ids=DID.objects.all(),
        to_status="reserved",
        reason="x",
        actor=platform_admin,
    )
    with django_assert_max_num_queries(7):
        response = admin_client.get(AUDIT)
    assert len(response.context["entries"]) == 50
    assert all(
        e.changes == [("status", "In stock", "Reserved")] for e in response.context["entries"]
    )


def test_audit_log_lists_deleted_numbers(admin_client, make_did, platform_admin):
    from inventory.services import dids_delete_unsold

    did = make_did()
    dids_delete_unsold(dids_queryset_or_ids=[did.pk], actor=platform_admin, reason="typo")
    response = admin_client.get(AUDIT, {"change_type": "-"})
    [entry] = response.context["entries"]
    assert entry.record.number == did.number
    assert "Deleted" in response.content.decode()


def test_finance_reads_number_pages_without_actions(client, finance_user, make_did):
    did = make_did()
    client.force_login(finance_user)
    html = client.get(detail(did)).content.decode()
    assert "Audit log" in html and "Change status" not in html
    assert client.get(AUDIT).status_code == 200
    url = reverse("inventory:did_change_status", args=[did.pk])
    assert client.post(url, {"to_status": "archive", "reason": "x"}).status_code == 403
