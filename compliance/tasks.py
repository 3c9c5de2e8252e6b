"""Compliance's periodic jobs: thin, safe to run twice or concurrently (each finds its work
in the database, so a missed run is caught up by the next)."""

from celery import shared_task

from .services.registrations import registrations_cancel_overdue, registrations_remind_due


@shared_task(acks_late=True, reject_on_worker_lost=True)
def registration_deadlines():
    """Remind the accounts whose numbers' registration is due soon, then cancel and refund
    the numbers whose deadline has passed."""
    return {
        "reminded": registrations_remind_due(job="registration_deadlines"),
        "cancelled": registrations_cancel_overdue(job="registration_deadlines"),
    }
