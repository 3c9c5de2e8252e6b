"""The DID import: check a file (the dry run), then import it, all or nothing.

The page, the Celery tasks and ``manage.py import_dids`` all go through ``file_check`` and
``file_import``; the page keeps its state in an ``ImportJob``.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import bulk
from ..choices import DIDStatus
from ..models import DID, ImportBatch, ImportJob, NumberBlock
from .reader import ImportFileError, check_name_and_size, open_table
from .validation import NewBlock, RowChecker

MB = 1024 * 1024
Status = ImportJob.Status


class ImportRejected(Exception):
    """Nothing was imported; ``plan`` lists the bad rows, ``file_error`` a bad file."""

    def __init__(self, *, plan=None, file_error=""):
        super().__init__(file_error or f"{plan.error_count} errors")
        self.plan = plan
        self.file_error = file_error


def errors_shown():
    return getattr(settings, "IMPORT_ERRORS_SHOWN", 500)


def runs_inline(*, name, size):
    """Small files are checked and imported during the request; the rest by Celery."""
    limit = getattr(settings, "IMPORT_INLINE_MAX_BYTES", 2 * MB)
    if name.lower().endswith(".xlsx"):
        limit //= 8  # an XLSX is compressed: roughly 8 times more rows per byte
    return size <= limit


# --- the two steps -----------------------------------------------------------------------


def file_read(*, path, name, progress=None, total=None):
    """Read and check every row of the file (no writes); returns the ``Plan``.

    Raises ImportRejected for a bad file. Numbers already in stock are not looked up here.
    """
    try:
        with open_table(path, name=name) as table:
            if total:
                total(table.estimated_rows)
            plan = RowChecker(errors_shown=errors_shown()).check(table, progress=progress)
    except ImportFileError as exc:
        raise ImportRejected(file_error=str(exc)) from None
    if not plan.rows:
        raise ImportRejected(file_error="The file has a header row but no numbers.")
    return plan


def file_check(*, path, name, progress=None, total=None):
    """The dry run: every row rule, numbers already in stock included. Saves nothing."""
    plan = file_read(path=path, name=name, progress=progress, total=total)
    plan.add_existing_errors()
    return plan


@transaction.atomic
def plan_import(*, plan, actor=None, reason, job=None):
    """Write a checked plan: new blocks, one ``ImportBatch`` per group and the DIDs by COPY.

    All or nothing. A number added meanwhile (or a block removed) raises ImportRejected
    with the rows named. The batch is each number's audit record (who: ``actor``, why:
    ``reason``, from which ``job``); no history row is written per number.
    """
    if plan.error_count:
        plan.add_existing_errors()  # so the report is complete
        raise ImportRejected(plan=plan)
    now = timezone.now()
    try:
        with transaction.atomic():
            groups = [
                (_saved(block, actor=actor, reason=reason), status, tag, notes, numbers)
                for block, status, tag, notes, numbers in plan.groups()
            ]
            batches = ImportBatch.objects.bulk_create(
                ImportBatch(
                    job=job,
                    created_by=actor,
                    reason=reason,
                    created_at=now,
                    block=block,
                    status=status,
                    after_hold_status=DIDStatus.IN_STOCK,
                    tag=tag,
                    notes=notes,
                    number_count=len(numbers),
                )
                for block, status, tag, notes, numbers in groups
            )
            bulk.insert_dids_batches(
                (
                    DID(
                        block=batch.block,
                        status=batch.status,
                        after_hold_status=batch.after_hold_status,
                        tag=batch.tag,
                        notes=batch.notes,
                        import_batch=batch,
                        created_at=now,
                        updated_at=now,
                    ),
                    numbers,
                )
                for batch, (*_group, numbers) in zip(batches, groups, strict=True)
            )
    except IntegrityError:
        plan.add_existing_errors()
        if not plan.error_count:
            plan.add_error(0, "", "The stock changed during the import; check the file again.")
        raise ImportRejected(plan=plan) from None
    return sum(batch.number_count for batch in batches)


def _saved(block, *, actor, reason):
    if not isinstance(block, NewBlock):
        return block
    if block.block is None:
        new = NumberBlock(operator=block.operator, **block.values)
        new._history_user = actor
        new._change_reason = reason
        # The row checks validated these values; the database checks the constraints (the
        # queries full_clean sends for them took ~50 ms per block, measured).
        new.full_clean(exclude=["requirement"], validate_constraints=False)
        new.save()
        block.block = new
    return block.block


def file_import(*, path, name, actor=None, job="import_dids"):
    """Check and import a file in one go (the command line). Returns the plan."""
    plan = file_read(path=path, name=name)
    reason = f"imported from {name}" if actor else f"{job}: imported from {name}"
    plan_import(plan=plan, actor=actor, reason=reason)
    return plan


# --- the page's jobs ---------------------------------------------------------------------


def import_job_create(*, uploaded_file, actor):
    """Store an upload privately as a new job. Raises ImportFileError for a wrong name/size."""
    extension = check_name_and_size(uploaded_file.name, uploaded_file.size)
    job = ImportJob(
        original_name=uploaded_file.name[:255], size=uploaded_file.size, created_by=actor
    )
    job.file.save(f"upload{extension}", uploaded_file, save=False)
    job.save()
    return job


def _progress(job):
    def progress(rows):
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=rows)

    def total(rows):
        ImportJob.objects.filter(pk=job.pk).update(total_rows=rows, processed_rows=0)

    return {"progress": progress, "total": total}


def _claim(job_id, *, from_statuses, to_status):
    """Move the job on if it is in one of ``from_statuses``; the winner of a race gets it."""
    claimed = ImportJob.objects.filter(pk=job_id, status__in=from_statuses).update(status=to_status)
    return ImportJob.objects.get(pk=job_id) if claimed else None


def _finish(job, *, status, plan=None, file_error="", imported=0):
    job.status = status
    job.file_error = file_error
    job.finished_at = timezone.now()
    job.imported_count = imported
    fields = ["status", "file_error", "finished_at", "imported_count"]
    if plan is not None:
        job.errors = plan.sorted_errors()
        job.error_count = plan.error_count
        job.total_rows = job.processed_rows = plan.rows
        fields += ["errors", "error_count", "total_rows", "processed_rows"]
        if status != Status.FAILED:
            job.summary = plan.summary()
            fields.append("summary")
    job.save(update_fields=fields)
    return job


def import_job_check(*, job_id):
    """The dry run of a job: READY or REJECTED. Running it again on a checked job does nothing."""
    job = _claim(job_id, from_statuses=[Status.QUEUED, Status.CHECKING], to_status=Status.CHECKING)
    if job is None:
        return None
    try:
        plan = file_check(path=job.file.path, name=job.original_name, **_progress(job))
    except ImportRejected as exc:
        return _finish(job, status=Status.REJECTED, plan=exc.plan, file_error=exc.file_error)
    status = Status.REJECTED if plan.error_count else Status.READY
    return _finish(job, status=status, plan=plan)


def import_job_confirm(*, job_id):
    """The admin confirmed a checked job: it may now be imported (once)."""
    return _claim(job_id, from_statuses=[Status.READY], to_status=Status.IMPORTING)


def import_job_run(*, job_id):
    """Import a confirmed job: DONE, or FAILED with nothing saved. Safe to run twice."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != Status.IMPORTING:
        return job
    reason = f"imported from {job.original_name} (import #{job.pk})"
    try:
        # Rows are read outside the transaction, so the progress bar can see them move.
        plan = file_read(path=job.file.path, name=job.original_name, **_progress(job))
        with transaction.atomic():
            locked = ImportJob.objects.select_for_update().get(pk=job_id)
            if locked.status != Status.IMPORTING:  # another run finished it meanwhile
                return locked
            imported = plan_import(plan=plan, actor=job.created_by, reason=reason, job=locked)
            return _finish(locked, status=Status.DONE, plan=plan, imported=imported)
    except ImportRejected as exc:
        return _finish(job, status=Status.FAILED, plan=exc.plan, file_error=exc.file_error)
    except IntegrityError:  # a deferred foreign key at commit: a block was removed meanwhile
        return _finish(
            job,
            status=Status.FAILED,
            file_error="The stock changed during the import; nothing was saved. Upload again.",
        )
