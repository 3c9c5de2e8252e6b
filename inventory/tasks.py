from celery import shared_task

from .importing.services import import_job_check, import_job_run
from .services import holds_release_expired


@shared_task(acks_late=True)
def release_holds():
    """Release numbers whose hold has expired; running it twice changes nothing more."""
    return holds_release_expired(job="release_holds")


@shared_task(acks_late=True)
def check_import(job_id):
    """The dry run of an uploaded DID file; a job already checked is left alone."""
    import_job_check(job_id=job_id)


@shared_task(acks_late=True)
def run_import(job_id):
    """Import a confirmed DID file; a job already imported is left alone."""
    import_job_run(job_id=job_id)
