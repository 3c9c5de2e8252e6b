"""Billing's Celery jobs: thin, id-taking, safe to run twice or concurrently.

The periodic ones find their work in the database, so a missed run (Redis down, a worker
lost) is caught up by the next one; the per-object ones are enqueued on commit.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .models import Subscription
from .services.invoices import (
    credit_note_pdf_render,
    invoice_pdf_render,
    invoice_pdfs_render_missing,
    invoices_issue_daily,
)
from .services.renewals import (
    subscription_renew,
    subscriptions_renew_due,
    subscriptions_resume_after_reactivation,
    subscriptions_resume_after_topup,
    subscriptions_resume_due,
)
from .services.repricing import renewal_price_changes_apply_due
from .services.subscriptions import (
    subscriptions_end_due,
    subscriptions_end_released,
)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # A lost database connection (PostgreSQL restarted, a backend terminated) rolls back
    # the batch it was in; the run is tried again soon rather than at the next beat.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def renew_subscriptions():
    """Renew every subscription due; then retry held ones whose balance is now enough.
    Resellers' renewal price changes due today are applied first, so a renewal on the
    change's date charges the new price even before the change's own job has run."""
    repriced = renewal_price_changes_apply_due(job="renew_subscriptions")
    counts = subscriptions_renew_due(job="renew_subscriptions")
    counts["repriced"] = repriced
    counts["resumed"] = subscriptions_resume_due(job="renew_subscriptions")
    return counts


@shared_task(acks_late=True, reject_on_worker_lost=True)
def end_subscriptions():
    """End cancelled subscriptions past their period, and those whose number was released
    (run it after inventory's ``release_holds``)."""
    return {
        "ended_cancelled": subscriptions_end_due(job="end_subscriptions"),
        "ended_released": subscriptions_end_released(job="end_subscriptions"),
    }


@shared_task(acks_late=True, reject_on_worker_lost=True)
def renew_subscription(subscription_id):
    """One subscription's due periods, as the renewal run renews them (a batch of one).
    Safe to run twice: a charged period is never due again."""
    return subscription_renew(
        subscription=Subscription(pk=subscription_id), job="renew_subscriptions"
    )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resume_subscriptions(account_id):
    """Resume an account's held subscriptions: enqueued by ``topup_record`` after commit.
    Safe to run twice: a resumed subscription is no longer on hold and is skipped."""
    return subscriptions_resume_after_topup(account=account_id, job="resume_subscriptions")


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resume_subscriptions_after_reactivation(account_id):
    """Resume a reactivated account's subscriptions held while it was suspended: enqueued
    by ``accounts.services.account_set_status`` after commit. Safe to run twice: a resumed
    subscription is no longer on hold, and a suspended account resumes nothing."""
    return subscriptions_resume_after_reactivation(
        account=account_id, job="resume_subscriptions_after_reactivation"
    )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def issue_daily_invoices():
    """One invoice per account for the charges made before today that none bills yet."""
    return invoices_issue_daily(job="issue_daily_invoices")


@shared_task(acks_late=True, reject_on_worker_lost=True)
def render_invoice_pdf(invoice_id):
    return invoice_pdf_render(invoice_id=invoice_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def render_credit_note_pdf(credit_note_id):
    return credit_note_pdf_render(credit_note_id=credit_note_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def render_missing_invoice_pdfs():
    """The safety net for PDF tasks the broker lost (enqueued while Redis was down)."""
    return invoice_pdfs_render_missing()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def apply_renewal_price_changes():
    """Resellers' renewal price changes whose date has come: their subscriptions take the
    new prices. Safe to run twice: an applied change is not due again."""
    return renewal_price_changes_apply_due(job="apply_renewal_price_changes")
