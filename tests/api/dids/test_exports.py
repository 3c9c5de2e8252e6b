"""/v3/exports through the test client: creation rules, the task (as Celery runs it, twice),
filters, resellers' customers, the file, and the sweep that catches a lost enqueue."""

import csv
import gzip
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import Export
from api.services_exports import COLUMNS, export_create, export_write, exports_sweep
from api.tasks import export_write as export_task
from api.tasks import sweep_exports
from inventory.models import DID
from tests.api.conftest import jsonapi_client, key_for
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def rent(account, number):
    return start(account, did=held_did(account, number=number))


def create(client, **attributes):
    return client.post("/v3/exports", {"data": {"type": "exports", "attributes": attributes}})


def read_csv(client, export_id):
    response = client.get(f"/v3/exports/{export_id}.csv.gz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    text = gzip.decompress(b"".join(response.streaming_content)).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def owned(customer):
    fund(customer, "100.00")
    rent(customer, "+31205550001")
    rent(customer, "+31205550002")
    return customer


def test_create_run_twice_and_download(owned, customer_admin, django_capture_on_commit_callbacks):
    client = jsonapi_client(customer_admin)
    DID.objects.filter(number="+31205550002").update(description="+1+cmd|' /C calc'!A0")
    with django_capture_on_commit_callbacks() as callbacks:
        response = create(client, export_type="dids", external_reference_id="nightly-7")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["type"] == "exports"
    assert data["attributes"]["status"] == "pending" and data["attributes"]["url"] is None
    assert data["attributes"]["external_reference_id"] == "nightly-7"
    assert len(callbacks) == 1  # the task is enqueued after commit
    export_id = int(data["id"])
    assert client.get(f"/v3/exports/{export_id}.csv.gz").status_code == 404  # not yet

    export_task.apply(args=[export_id])
    first = Export.objects.get(pk=export_id)
    export_task.apply(args=[export_id])  # a redelivered task changes nothing
    again = Export.objects.get(pk=export_id)
    assert (again.status, again.rows, again.file.name, again.completed_at) == (
        "completed",
        2,
        first.file.name,
        first.completed_at,
    )

    shown = client.get(f"/v3/exports/{export_id}").json()["data"]["attributes"]
    assert shown["status"] == "completed"
    assert shown["url"] == f"http://testserver/v3/exports/{export_id}.csv.gz"
    rows = read_csv(client, export_id)
    assert list(rows[0]) == COLUMNS
    assert [row["number"] for row in rows] == ["+31205550001", "+31205550002"]
    assert rows[1]["description"] == "'+1+cmd|' /C calc'!A0"
    assert rows[0]["terminated"] == "false" and rows[0]["customer_id"] == str(owned.pk)


def test_filters_are_the_lists_and_are_checked(owned, customer_admin):
    client = jsonapi_client(customer_admin)
    DID.objects.filter(number="+31205550002").update(description="Support")
    response = create(client, export_type="dids", filters={"description": "supp"})
    assert response.status_code == 201
    export_write(export_id=int(response.json()["data"]["id"]))
    rows = read_csv(client, response.json()["data"]["id"])
    assert [row["number"] for row in rows] == ["+31205550002"]

    for filters, word in [
        ({"colour": "red"}, "Unknown filter"),
        ({"terminated": "maybe"}, "true or false"),
        ({"did_group.id": "x"}, "not an id"),
        ({"number": ["+1"]}, "value"),
        ("number=1", "object"),
    ]:
        refused = create(client, export_type="dids", filters=filters)
        assert refused.status_code == 422, filters
        assert word in refused.json()["errors"][0]["detail"]
    assert Export.objects.count() == 1


@pytest.mark.parametrize(
    ("attributes", "status", "word"),
    [
        ({"export_type": "cdr_in"}, 422, "dids"),
        ({"export_type": "anything"}, 422, "Unknown export type"),
        ({"export_type": "dids", "callback_url": "https://example.com/cb"}, 422, "not called"),
        # the service did not take callback_method: a server error (found by the fuzz test)
        ({"export_type": "dids", "callback_method": "POST"}, 422, "not called"),
        ({}, 400, "required"),
    ],
)
def test_refused_exports_save_nothing(customer_admin, attributes, status, word):
    response = create(jsonapi_client(customer_admin), **attributes)
    assert response.status_code == status
    assert word in str(response.json()["errors"])
    assert not Export.objects.exists()


def test_unset_callback_and_reference_are_null_both_ways(customer_admin):
    """DIDWW's SDK sends and reads them as null (the document says so: the fuzz test)."""
    unset = {"callback_url": None, "callback_method": None, "external_reference_id": None}
    response = create(jsonapi_client(customer_admin), export_type="dids", **unset)
    assert response.status_code == 201, response.content
    attributes = response.json()["data"]["attributes"]
    assert {name: attributes[name] for name in unset} == unset
    export = Export.objects.get()
    assert (export.callback_url, export.callback_method, export.external_reference_id) == (
        "",
        "",
        "",
    )


def test_read_only_key_may_list_not_create(owned, customer_admin):
    key, _secret = key_for(customer_admin)
    export = export_create(key=key, user=customer_admin, export_type="dids")
    client = jsonapi_client(customer_admin, read_only=True)
    assert create(client, export_type="dids").status_code == 403
    listed = client.get("/v3/exports")
    assert [row["id"] for row in listed.json()["data"]] == [str(export.pk)]
    assert Export.objects.count() == 1


def test_a_reseller_exports_a_customers_numbers_not_another_resellers(reseller, reseller_admin):
    customer = AccountFactory(kind="customer", parent=reseller)
    fund(reseller, "50.00")
    fund(customer, "50.00")
    rent(customer, "+31205550003")
    client = jsonapi_client(reseller_admin)
    response = create(client, export_type="dids", filters={"customer.id": customer.pk})
    assert response.status_code == 201
    export_write(export_id=int(response.json()["data"]["id"]))
    rows = read_csv(client, response.json()["data"]["id"])
    assert [row["number"] for row in rows] == ["+31205550003"]
    foreign = AccountFactory(kind="customer", parent=AccountFactory(kind="reseller"))
    refused = create(client, export_type="dids", filters={"customer.id": foreign.pk})
    assert refused.status_code == 404
    finance = jsonapi_client(UserFactory(account=reseller, role="reseller_finance"))
    assert (
        create(finance, export_type="dids", filters={"customer.id": customer.pk}).status_code == 403
    )
    assert Export.objects.count() == 1


def test_the_sweep_enqueues_what_a_broker_outage_lost(customer_admin, monkeypatch):
    key, _secret = key_for(customer_admin)
    lost = export_create(key=key, user=customer_admin, export_type="dids")
    fresh = export_create(key=key, user=customer_admin, export_type="dids")
    Export.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    sent = []
    monkeypatch.setattr(export_task, "apply_async", lambda args, **kw: sent.append(args))
    assert exports_sweep() == 1
    assert sent == [[lost.pk]]
    assert sweep_exports.apply().get() == 1
    assert fresh.pk not in [args[0] for args in sent]
    from didportal.celery import app  # noqa: PLC0415

    entry = app.conf.beat_schedule["sweep-api-exports"]
    assert entry["task"] == sweep_exports.name and entry["schedule"] <= 60


def test_a_failed_write_says_so(customer_admin, monkeypatch):
    from api import services_exports  # noqa: PLC0415

    key, _secret = key_for(customer_admin)
    export = export_create(key=key, user=customer_admin, export_type="dids")

    def broken(_export):
        raise OSError("disk full")

    monkeypatch.setattr(services_exports, "_write", broken)
    assert export_write(export_id=export.pk).status == "failed"
    attrs = jsonapi_client(customer_admin).get(f"/v3/exports/{export.pk}").json()["data"]
    assert attrs["attributes"]["status"] == "failed" and attrs["attributes"]["url"] is None


def test_waiting_exports_are_capped_and_old_ones_deleted_with_their_files(customer_admin):
    from api.services_exports import EXPORTS_WAITING_MAX, exports_expire  # noqa: PLC0415

    key, _secret = key_for(customer_admin)
    client = jsonapi_client(customer_admin)
    for _ in range(EXPORTS_WAITING_MAX):
        assert create(client, export_type="dids").status_code == 201
    refused = create(client, export_type="dids")
    assert refused.status_code == 422
    assert "still being written" in refused.json()["errors"][0]["detail"]

    first = Export.objects.order_by("pk").first()
    export_write(export_id=first.pk)
    first.refresh_from_db()
    storage, name = first.file.storage, first.file.name
    assert storage.exists(name)
    Export.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert exports_expire() == 1
    assert not storage.exists(name)
    assert not Export.objects.filter(pk=first.pk).exists()
    assert Export.objects.count() == EXPORTS_WAITING_MAX - 1  # the waiting ones stay
