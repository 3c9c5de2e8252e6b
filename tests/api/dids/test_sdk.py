"""DIDWW's official SDK (unmodified) against a live server: numbers bought through the web's
checkout are listed, shown, updated and exported by a script."""

import csv
import io
from decimal import Decimal

import pytest
from didww.exceptions import DidwwApiError
from didww.query_params import QueryParams
from didww.resources.did import Did
from didww.resources.export import Export as SdkExport

from api.models import Export
from api.tasks import export_write
from billing.selectors import balance_for
from billing.services.capacity import number_channels
from inventory.models import DID
from tests.api.conftest import fund, key_for, sdk_for
from tests.api.dids.conftest import buy
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bought(customer_admin, munich):
    fund(customer_admin.account, "100.00")
    return buy(customer_admin, "+4989555000", "+4989555001", token="sdk-order")


def test_list_show_and_update_with_the_sdk(live_server, customer_admin, bought, stranger):
    _key, secret = key_for(customer_admin)
    client = sdk_for(live_server, secret)

    listed = client.dids().list(QueryParams().sort("-number").page(number=1, size=1))
    assert listed.meta["total_records"] == 2
    (first,) = listed.data
    assert first.number == "4989555001"
    assert first.terminated is False and first.blocked is False
    assert first.awaiting_registration is False
    assert first.capacity_limit == 2 and first.channels_included_count == 2
    assert first.billing_cycles_count is None
    assert first.expires_at is not None and first.created_at is not None
    # Linkage only when included, as DIDWW sends it: the SDK reads None, never crashes.
    assert first.order is None and first.did_group is None
    by_order = client.dids().list(QueryParams().filter("order.id", bought.pk)).data
    assert sorted(d.number for d in by_order) == ["4989555000", "4989555001"]
    group = DID.objects.get(number="+4989555001").block_id
    assert len(client.dids().list(QueryParams().filter("did_group.id", group)).data) == 2

    ending = client.dids().list(QueryParams().filter("terminated", True)).data
    assert ending == []

    did = client.dids().find(first.id).data
    did.description = "Hotline"
    did.terminated = True
    updated = client.dids().update(did).data
    assert updated.description == "Hotline" and updated.terminated is True
    assert updated.billing_cycles_count == 0
    shown = client.dids().find(first.id).data
    assert shown.description == "Hotline" and shown.terminated is True
    assert [
        d.number for d in client.dids().list(QueryParams().filter("terminated", True)).data
    ] == ["4989555001"]

    # Built from an id only, as a script that stored it does: only the sent attribute changes.
    kept = client.dids().update(Did.build(first.id, terminated=False)).data
    assert kept.terminated is False and kept.description == "Hotline"

    # Another account's number: 404 for show and update, nothing changed.
    fund(stranger.account, "100.00")
    theirs = buy(stranger, "+4989555002", token="stranger-order").items.get().did
    with pytest.raises(DidwwApiError) as missing:
        client.dids().find(str(theirs.pk))
    assert missing.value.status_code == 404
    with pytest.raises(DidwwApiError) as refused:
        client.dids().update(Did.build(str(theirs.pk), description="mine now"))
    assert refused.value.status_code == 404
    theirs.refresh_from_db()
    assert theirs.description == ""


def test_capacity_with_the_sdk_charges_as_the_page_does(live_server, customer_admin, bought):
    _key, secret = key_for(customer_admin)
    client = sdk_for(live_server, secret)
    did = DID.objects.get(number="+4989555000")
    before = balance_for(customer_admin.account)
    updated = client.dids().update(Did.build(str(did.pk), capacity_limit=3)).data
    assert updated.capacity_limit == 3
    assert updated.dedicated_channels_count == 1
    rental = bought.items.get(did=did).subscription
    assert number_channels(rental).total == 3
    spent = before - balance_for(customer_admin.account)
    assert Decimal("0.00") < spent <= Decimal("1.79")  # 1.50 pro rata + 19 % VAT at most


def test_read_only_key_reads_but_may_not_update(live_server, customer_admin, bought):
    _key, secret = key_for(customer_admin, read_only=True)
    client = sdk_for(live_server, secret)
    did = client.dids().list().data[0]
    with pytest.raises(DidwwApiError) as refused:
        client.dids().update(Did.build(did.id, description="x"))
    assert refused.value.status_code == 403
    assert refused.value.errors[0]["status"] == "403"
    with pytest.raises(DidwwApiError) as bad_filter:
        client.dids().list(QueryParams().filter("colour", "red"))
    assert bad_filter.value.status_code == 400


def test_export_with_the_sdk(live_server, customer_admin, bought, stranger, tmp_path):
    DID.objects.filter(number="+4989555001").update(description="=HYPERLINK(evil)")
    _key, secret = key_for(customer_admin)
    client = sdk_for(live_server, secret)

    created = client.exports().create(SdkExport.build(None, export_type="dids", filters={})).data
    assert created.is_pending and created.url is None
    export_write.apply(args=[int(created.id)])  # as the worker runs it

    done = client.exports().find(created.id).data
    assert done.is_completed
    assert done.url.endswith(f"/v3/exports/{created.id}.csv.gz")
    target = tmp_path / "numbers.csv"
    client.download_and_decompress_export(done.url, str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [row["number"] for row in rows] == ["+4989555000", "+4989555001"]
    assert rows[1]["description"] == "'=HYPERLINK(evil)"  # neutralised, + numbers kept
    assert rows[0]["order_id"] == str(bought.pk)
    assert rows[0]["capacity_limit"] == "2"

    assert [e.id for e in client.exports().list().data] == [created.id]
    with pytest.raises(DidwwApiError) as unknown:
        client.exports().create(SdkExport.build(None, export_type="cdr_in", filters={}))
    assert unknown.value.status_code == 422
    assert "dids" in unknown.value.errors[0]["detail"]

    # Another account's key: 404 for the export and its file.
    _other, other_secret = key_for(stranger)
    other = sdk_for(live_server, other_secret)
    with pytest.raises(DidwwApiError) as hidden:
        other.exports().find(created.id)
    assert hidden.value.status_code == 404
    with pytest.raises(DidwwApiError) as no_file:
        other.download_export(done.url, str(tmp_path / "theirs.csv.gz"))
    assert no_file.value.status_code == 404


def test_a_reseller_lists_a_customers_numbers_with_the_sdk(live_server, munich):
    reseller = AccountFactory(kind="reseller", name="Voxel")
    admin = UserFactory(account=reseller, role="reseller_admin")
    customer = AccountFactory(kind="customer", parent=reseller, name="Resold")
    owner = UserFactory(account=customer, role="customer_admin")
    fund(reseller, "100.00")
    fund(customer, "100.00")
    buy(owner, "+4989555003", token="resold-order")
    _key, secret = key_for(admin)
    client = sdk_for(live_server, secret)
    assert client.dids().list().data == []  # its own: none
    theirs = client.dids().list(QueryParams().filter("customer.id", customer.pk)).data
    assert [d.number for d in theirs] == ["4989555003"]
    other = AccountFactory(kind="customer", parent=AccountFactory(kind="reseller"))
    with pytest.raises(DidwwApiError) as missing:
        client.dids().list(QueryParams().filter("customer.id", other.pk))
    assert missing.value.status_code == 404
    assert Export.objects.count() == 0
