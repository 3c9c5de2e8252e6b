"""The import on PostgreSQL: COPY, import batches, and the Celery path with a real transaction."""

import pytest
from django.core.files.base import ContentFile
from django.db.models import F

from inventory import tasks
from inventory.importing.services import import_job_confirm
from inventory.models import DID, ImportBatch, ImportJob, NumberBlock
from tests.inventory.factories import DIDFactory, OperatorFactory
from tests.inventory.import_files import amsterdam_rows, csv_bytes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def job(settings, tmp_path, platform_admin):
    settings.PRIVATE_STORAGE_ROOT = tmp_path
    OperatorFactory(name="KPN")
    rows = amsterdam_rows(25_000, start=1_000_000) + amsterdam_rows(
        5_000, start=2_000_000, city="Amstelveen", monthly_price="3.00", status="reserved"
    )
    job = ImportJob(original_name="big.csv", created_by=platform_admin)
    job.file.save("upload", ContentFile(csv_bytes(rows)), save=False)
    job.size = job.file.size
    job.save()
    return job


def test_a_large_file_through_celery(job, platform_admin):
    tasks.check_import.apply(args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.summary["numbers"], job.summary["new_blocks"]) == ("ready", 30_000, 2)
    import_job_confirm(job_id=job.pk)
    tasks.run_import.apply(args=[job.pk])
    tasks.run_import.apply(args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.imported_count) == ("done", 30_000)
    assert DID.objects.count() == 30_000
    assert DID.objects.filter(status="reserved", block__city="Amstelveen").count() == 5_000
    # One audit record per group of rows, each number pointing at its own.
    batches = ImportBatch.objects.filter(job=job, created_by=platform_admin)
    assert sorted(batches.values_list("block__city", "status", "number_count")) == [
        ("Amstelveen", "reserved", 5_000),
        ("Amsterdam", "in_stock", 25_000),
    ]
    assert DID.objects.filter(import_batch__in=batches).count() == 30_000
    assert not DID.objects.exclude(status=F("import_batch__status")).exists()
    assert not DID.history.exists()


def test_a_number_taken_before_the_import_rolls_everything_back(job):
    tasks.check_import.apply(args=[job.pk])
    import_job_confirm(job_id=job.pk)
    DIDFactory(number="+31201012345")
    tasks.run_import.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.errors == [
        {
            "row": 12347,
            "column": "number",
            "message": "+31201012345 is already in stock.",
            "value": "+31201012345",
        }
    ]
    assert DID.objects.count() == 1
    assert NumberBlock.objects.count() == 1  # only the factory's
