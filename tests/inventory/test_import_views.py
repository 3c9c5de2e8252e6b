"""The import pages: upload → dry run → preview → confirm, inline and through Celery."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory import tasks
from inventory.models import DID, ImportJob
from tests.inventory.factories import OperatorFactory
from tests.inventory.import_files import amsterdam_rows, csv_bytes, row, xlsx_wide_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    return settings.PRIVATE_STORAGE_ROOT


@pytest.fixture
def kpn(db):
    return OperatorFactory(name="KPN")


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client


def upload(client, rows, name="numbers.csv", content=None):
    content = csv_bytes(rows) if content is None else content
    return client.post(
        reverse("inventory:import"), {"file": SimpleUploadedFile(name, content)}, follow=True
    )


def test_page_documents_the_columns_and_offers_the_template(admin_client):
    page = admin_client.get(reverse("inventory:import")).content.decode()
    for text in ["number_type", "monthly_price", "voice;sms", "exact name", "All or nothing"]:
        assert text in page
    template = admin_client.get(reverse("inventory:import_template"))
    assert template["Content-Disposition"] == 'attachment; filename="did-import-template.csv"'
    header = b"".join(template.streaming_content).decode().splitlines()[0]
    assert header.startswith("number,operator,country,city,number_type,region,area_code")


def test_upload_preview_confirm(admin_client, kpn, platform_admin, private_storage):
    response = upload(admin_client, amsterdam_rows(3, tag="=cmd|' /C calc'!A0"))
    job = ImportJob.objects.get()
    assert response.redirect_chain[-1][0] == reverse("inventory:import_job", args=[job.pk])
    assert job.status == "ready" and job.created_by == platform_admin
    assert private_storage in Path(job.file.path).parents  # stored privately, never served
    page = response.content.decode()
    assert "What will be imported" in page and "new block" in page and "Import 3 numbers" in page
    assert not DID.objects.exists()

    response = admin_client.post(reverse("inventory:import_confirm", args=[job.pk]), follow=True)
    assert "3 numbers imported." in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.imported_count) == ("done", 3)
    did = DID.objects.get(number="+31205550002")
    assert did.tag == "=cmd|' /C calc'!A0"
    assert (did.import_batch.job, did.import_batch.created_by) == (job, platform_admin)
    detail = admin_client.get(reverse("inventory:did_detail", args=[did.pk])).content.decode()
    assert "Added" in detail and f"imported from numbers.csv (import #{job.pk})" in detail

    # A second confirm (double click, back button) imports nothing more.
    response = admin_client.post(reverse("inventory:import_confirm", args=[job.pk]), follow=True)
    assert "not waiting to be imported" in response.content.decode()
    assert DID.objects.count() == 3


def test_preview_lists_bad_rows_and_offers_no_import(admin_client, kpn, settings):
    settings.IMPORT_ERRORS_SHOWN = 2
    rows = amsterdam_rows(2) + [row("+44207946000"), row("+31205550000"), row("x", operator="Nope")]
    page = upload(admin_client, rows).content.decode()
    job = ImportJob.objects.get()
    assert job.status == "rejected" and job.error_count == 4
    assert "4 errors (the first 2 are listed below)" in page
    assert "is not a NL number" in page and "is also on row 2" in page
    assert "no operator is named" not in page  # only the first two are kept
    assert "Import 2 numbers" not in page
    assert admin_client.post(reverse("inventory:import_confirm", args=[job.pk])).status_code == 302
    assert not DID.objects.exists()


def test_a_bad_file_says_why(admin_client, kpn):
    page = upload(admin_client, [], content=b"\x89PNG\r\n\x1a\n").content.decode()
    assert "This file cannot be imported." in page
    assert "it looks like a PNG image" in page
    assert ImportJob.objects.get().status == "rejected"


def test_wrong_extension_is_refused_at_upload(admin_client):
    response = upload(admin_client, amsterdam_rows(1), name="numbers.xls")
    assert "Only .csv and .xlsx files can be imported" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_over_the_cap_is_refused_at_upload(admin_client, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = upload(admin_client, amsterdam_rows(5))
    assert "the limit is 0.1 KB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_large_files_go_through_celery_with_a_progress_bar(
    admin_client, kpn, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_INLINE_MAX_BYTES = 100  # every file counts as large
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(admin_client, amsterdam_rows(30))
    job = ImportJob.objects.get()
    assert job.status == "queued" and len(callbacks) == 1
    page = response.content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert reverse("inventory:import_progress", args=[job.pk]) in page

    tasks.check_import.apply(args=[job.pk])
    tasks.check_import.apply(args=[job.pk])  # a redelivered task changes nothing
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.processed_rows) == ("ready", 30, 30)
    progress = admin_client.get(reverse("inventory:import_progress", args=[job.pk]))
    assert progress["HX-Refresh"] == "true"

    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(reverse("inventory:import_confirm", args=[job.pk]))
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == "importing"
    progress = admin_client.get(reverse("inventory:import_progress", args=[job.pk]))
    assert "HX-Refresh" not in progress and 'hx-trigger="every 1s"' in progress.content.decode()

    tasks.run_import.apply(args=[job.pk])
    tasks.run_import.apply(args=[job.pk])  # safe to run twice
    job.refresh_from_db()
    assert (job.status, job.imported_count) == ("done", 30)
    assert DID.objects.count() == 30 == DID.objects.filter(import_batch__job=job).count()


def test_confirm_after_the_stock_changed_fails_cleanly(admin_client, kpn):
    upload(admin_client, amsterdam_rows(3))
    job = ImportJob.objects.get()
    from tests.inventory.factories import DIDFactory

    DIDFactory(number="+31205550001")
    page = admin_client.post(
        reverse("inventory:import_confirm", args=[job.pk]), follow=True
    ).content.decode()
    job.refresh_from_db()
    assert job.status == "failed"
    assert "the stock changed since the check" in page
    assert "+31205550001 is already in stock." in page
    assert DID.objects.count() == 1


@pytest.mark.parametrize("user", ["finance_user", "reseller_admin", "customer_admin"])
def test_only_platform_admins(client, request, user):
    client.force_login(request.getfixturevalue(user))
    assert client.get(reverse("inventory:import")).status_code == 403
    assert client.get(reverse("inventory:import_template")).status_code == 403


def test_signed_out_users_go_to_the_login(client):
    response = client.get(reverse("inventory:import"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_wide_xlsx_row_is_refused_on_the_page(admin_client, kpn):
    """The 552,000-cell row through the upload page: a clear sentence, nothing imported."""
    response = upload(admin_client, [], name="wide.xlsx", content=xlsx_wide_row(552_000))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Row 1 has a cell in column 65; at most 64 columns are read" in page
    assert ImportJob.objects.get().status == "rejected"
    assert not DID.objects.exists()
