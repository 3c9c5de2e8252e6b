"""Registrations: numbers sold awaiting one, submissions, their review, and the deadline.

The life of a number whose requirement ``needs_registration``:

1. checkout sells it (``inventory.services.sales.did_sell(awaiting_registration=True)``,
   ``billing`` starts its subscription ``pending``: charged, not renewing, not invoiced)
   and records it here with ``number_registration_record`` — unless the account already
   has an approved submission for the requirement, which covers it: then it is sold active
   and recorded ``activated`` at once (checkout decides under the account's balance lock,
   which an approval takes too);
2. the customer fills the account's one ``Submission`` for the requirement (an identity,
   an address, documents) and ``submission_submit``\\ s it; a reviewer approves or rejects it
   (``submission_approve`` / ``submission_reject``); after a rejection the customer fixes
   it and submits the same submission again;
3. approval activates every number of the account awaiting that requirement: the number
   becomes active, its first period starts then and is invoiced
   (``billing.services.registration``);
4. a number still awaiting at its ``deadline_at`` is cancelled by
   ``registrations_cancel_overdue`` (or by the customer, ``number_registration_cancel``):
   every charge refunded in full, the number back in stock.

Lock order: balances → registration rows → numbers → subscriptions → invoice sequence.
E-mails are queued in the outbox inside the same transactions (``compliance.notifications``).
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.permissions import may_provide_registration_for, reviews_registrations
from billing.services import balances_lock
from billing.services.registration import (
    pending_subscription_of,
    subscription_refund_unregistered,
    subscriptions_start_after_registration,
)
from inventory.choices import DIDStatus
from inventory.services.transitions import lock_in_pk_order, transition_locked
from webhooks.services import event_emit

from .. import notifications
from ..checks import submission_problems
from ..models import (
    Address,
    Document,
    Identity,
    NumberRegistration,
    RejectionReason,
    Submission,
    SubmissionEvent,
)

logger = logging.getLogger(__name__)

Status = Submission.Status
Reg = NumberRegistration.Status


# --- Numbers awaiting registration -------------------------------------------------------------


def number_registration_record(
    *, account, did, requirement, awaiting, order_id=None, order_item_position=None, now=None
):
    """Record that ``did`` was just sold to ``account`` under ``requirement``, inside the
    checkout's transaction, which holds ``account``'s balance lock (so does an approval:
    the two never cross). ``awaiting``: sold awaiting registration, with its deadline (and
    the account's submission in progress, if any); else covered by the account's approved
    submission, recorded ``activated``. Returns the row."""
    return number_registrations_record(
        account=account,
        sales=[(did, requirement, awaiting, order_item_position)],
        order_id=order_id,
        now=now,
    )[0]


def number_registrations_record(*, account, sales, order_id=None, now=None):
    """``number_registration_record`` for many numbers of one order at once: ``sales`` are
    ``(did, requirement, awaiting, order item position)``; one query finds the account's
    submissions, one INSERT writes the rows. Returns them."""
    now = now or timezone.now()
    requirement_ids = {requirement.pk for _, requirement, _, _ in sales}
    submissions = {
        submission.requirement_id: submission
        for submission in Submission.objects.filter(
            account=account, requirement_id__in=requirement_ids
        )  # one per account and requirement (a unique constraint)
    }
    rows = []
    for did, requirement, awaiting, position in sales:
        submission = submissions.get(requirement.pk)
        covering = None if awaiting else submission
        if not awaiting and (covering is None or covering.status != Status.APPROVED):
            raise ValidationError(f"{did.number} needs an approved registration to go live.")
        rows.append(
            NumberRegistration(
                submission=submission,
                account=account,
                did=did,
                requirement=requirement,
                order_id=order_id,
                order_item_position=position,
                status=Reg.ACTIVATED if covering else Reg.AWAITING,
                deadline_at=now + timedelta(days=requirement.deadline_days),
                activated_at=now if covering else None,
                created_at=now,
            )
        )
    return NumberRegistration.objects.bulk_create(rows) if rows else []


def _awaiting_of(account, requirement):
    return NumberRegistration.objects.filter(
        account=account, requirement=requirement, status=Reg.AWAITING
    )


# --- Submissions -------------------------------------------------------------------------------


def _event(submission, *, from_status, actor, job="", reason, now, reasons=(), comment=""):
    SubmissionEvent.objects.create(
        submission=submission,
        from_status=from_status,
        to_status=submission.status,
        actor=actor,
        job=job,
        reason=reason[:255],
        rejection_reasons=list(reasons),
        comment=comment,
        created_at=now,
    )


@transaction.atomic
def submission_get_or_create(*, account, requirement, actor, now=None):
    """The account's one submission for ``requirement`` (a draft when new). Only the
    account's own providers (``may_provide_registration_for``) open one."""
    if not may_provide_registration_for(actor, account):
        raise PermissionDenied("You may not provide registrations for this account.")
    existing = Submission.objects.filter(account=account, requirement=requirement).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                account=account,
                requirement=requirement,
                requirement_version=requirement.version,
                created_at=now,
                created_by=actor,
            )
    except IntegrityError:  # a twin request created it first
        return Submission.objects.get(account=account, requirement=requirement)
    _awaiting_of(account, requirement).filter(submission__isnull=True).update(submission=submission)
    return submission


@transaction.atomic
def submission_submit(*, submission, actor, identity, address, documents, now=None):
    """Send ``submission`` for review with ``identity``, ``address`` and ``documents`` (the
    account's own), or send it again after a rejection. Raises ``ValidationError`` by field
    (``identity``, ``address``, ``documents``) naming what the requirement still needs, and
    saves nothing then. Submitting again what is already awaiting review changes nothing."""
    if not may_provide_registration_for(actor, submission.account):
        raise PermissionDenied("You may not provide registrations for this account.")
    submission = (
        Submission.objects.select_for_update().select_related("requirement").get(pk=submission.pk)
    )
    if submission.status == Status.APPROVED:
        raise ValidationError("This registration is already approved: nothing to submit.")
    if submission.status == Status.SUBMITTED:
        raise ValidationError(
            "This registration is already awaiting review: you will hear from us by e-mail."
        )
    # Locked after the submission and re-read: an edit of one of them committing meanwhile
    # is either seen here or refused by its freeze (``services.profile``).
    identity = _locked(Identity, identity)
    address = _locked(Address, address)
    documents = list(
        Document.objects.select_for_update().filter(pk__in=[d.pk for d in documents]).order_by("pk")
    )
    problems = submission_problems(
        submission.requirement,
        account=submission.account,
        identity=identity,
        address=address,
        documents=documents,
        numbers=[r.did for r in _awaiting_of(submission.account, submission.requirement)],
    )
    if problems:
        raise ValidationError(problems)
    now = now or timezone.now()
    from_status = submission.status
    submission.identity, submission.address = identity, address
    submission.requirement_version = submission.requirement.version
    submission.status = Status.SUBMITTED
    submission.submitted_at, submission.submitted_by = now, actor
    submission.save()
    submission.documents.set(documents)
    # A number sold while this submission was being opened (the checkout and the opening
    # take no common lock) was recorded without it: it is this submission's too.
    _awaiting_of(submission.account, submission.requirement).filter(submission__isnull=True).update(
        submission=submission
    )
    again = from_status == Status.REJECTED
    _event(
        submission,
        from_status=from_status,
        actor=actor,
        reason="submitted again after a fix" if again else "submitted for review",
        now=now,
    )
    notifications.submission_received(submission, again=again)
    return submission


def _locked(model, row):
    return None if row is None else model.objects.select_for_update().get(pk=row.pk)


def _lock_for_decision(submission, actor):
    """The submission, locked after its account's balance: checkout decides under that lock
    whether a number is sold awaiting, so an approval and a checkout never cross."""
    if not reviews_registrations(actor):
        raise PermissionDenied("Only the platform's compliance reviewers decide registrations.")
    balances_lock([submission.account])
    return (
        Submission.objects.select_for_update()
        .select_related("account", "requirement")
        .get(pk=submission.pk)
    )


@transaction.atomic
def submission_approve(*, submission, actor, comment="", now=None):
    """Approve a submission awaiting review: every number of its account awaiting the
    requirement becomes active, its first period starting now and invoiced (one invoice).
    Approving an approved submission changes nothing. Returns the submission."""
    submission = _lock_for_decision(submission, actor)
    if submission.status == Status.APPROVED:
        return submission
    if submission.status != Status.SUBMITTED:
        raise ValidationError("Only a registration awaiting review can be approved.")
    now = now or timezone.now()
    submission.status = Status.APPROVED
    submission.decided_at, submission.decided_by = now, actor
    submission.rejection_reasons, submission.comment = [], comment.strip()
    submission.save()
    _event(
        submission,
        from_status=Status.SUBMITTED,
        actor=actor,
        reason="approved",
        now=now,
        comment=submission.comment,
    )
    activated = _activate_awaiting(submission, actor=actor, now=now)
    notifications.submission_approved(submission, numbers=activated)
    event_emit(
        account=submission.account,
        event="registration.approved",
        data=_decision_data(submission, numbers=[d.number for d in activated]),
        now=now,
    )
    return submission


def _decision_data(submission, **extra):
    """A decided registration's webhook payload."""
    return {
        "registration": {
            "id": submission.pk,
            "requirement": submission.requirement.title,
            "status": submission.status,
        },
        "comment": submission.comment,
        **extra,
    }


def _activate_awaiting(submission, *, actor, now):
    """Activate the numbers awaiting the submission's requirement; returns their DIDs."""
    registrations = list(
        _awaiting_of(submission.account, submission.requirement).select_for_update().order_by("pk")
    )
    if not registrations:
        return []
    dids = [
        did
        for did in lock_in_pk_order([r.did_id for r in registrations])
        if did.status == DIDStatus.AWAITING_REGISTRATION and did.owner_id == submission.account_id
    ]
    reason = f"registration {submission.pk} approved"
    if dids:
        transition_locked(dids, to_status=DIDStatus.ACTIVE, reason=reason, actor=actor, job=None)
    subscriptions_start_after_registration(
        account=submission.account,
        did_ids=[did.pk for did in dids],
        idempotency_key=f"registration-approval:{submission.pk}",
        actor=actor,
        now=now,
    )
    NumberRegistration.objects.filter(pk__in=[r.pk for r in registrations]).update(
        status=Reg.ACTIVATED, submission=submission, activated_at=now
    )
    return dids


@transaction.atomic
def submission_reject(*, submission, actor, reasons, comment="", now=None):
    """Reject a submission awaiting review with one or more ``reasons``
    (``RejectionReason`` values) and a ``comment`` the customer reads (required with
    "other"). The numbers keep waiting until their deadline; the customer fixes and submits
    again. Raises ``ValidationError`` by field for missing or unknown reasons."""
    submission = _lock_for_decision(submission, actor)
    reasons = list(dict.fromkeys(reasons or ()))
    comment = (comment or "").strip()
    errors = {}
    if not reasons:
        errors["reasons"] = "Pick at least one reason, so the customer knows what to fix."
    elif any(r not in RejectionReason.values for r in reasons):
        errors["reasons"] = "Unknown reason."
    if RejectionReason.OTHER in reasons and not comment:
        errors["comment"] = "Say what is wrong: the customer reads this comment."
    if errors:
        raise ValidationError(errors)
    if submission.status != Status.SUBMITTED:
        raise ValidationError("Only a registration awaiting review can be rejected.")
    now = now or timezone.now()
    submission.status = Status.REJECTED
    submission.decided_at, submission.decided_by = now, actor
    submission.rejection_reasons, submission.comment = reasons, comment
    submission.save()
    # Time to fix it: a deadline that passed during the review, or is near, moves out.
    fix_by = now + timedelta(days=settings.REGISTRATION_FIX_DAYS)
    _awaiting_of(submission.account, submission.requirement).filter(deadline_at__lt=fix_by).update(
        deadline_at=fix_by, reminded_at=None
    )
    labels = ", ".join(RejectionReason(r).label.lower() for r in reasons)
    _event(
        submission,
        from_status=Status.SUBMITTED,
        actor=actor,
        reason=f"rejected: {labels}",
        now=now,
        reasons=reasons,
        comment=comment,
    )
    notifications.submission_rejected(submission)
    event_emit(
        account=submission.account,
        event="registration.rejected",
        data=_decision_data(submission, reasons=reasons),
        now=now,
    )
    return submission


# --- Cancellation and the deadline -------------------------------------------------------------


def number_registration_cancel(*, registration, reason, actor=None, job="", now=None):
    """Cancel a number still awaiting registration: every charge of its sale refunded in full
    (the buyer's; a reseller's wholesale one to the reseller), the rental ended and the
    number back in stock, the customer told. By the deadline job (``job``) or by the
    account's own provider (``actor``). A registration no longer awaiting is returned as it
    is. Returns the registration."""
    return _cancel(registration=registration, reason=reason, actor=actor, job=job, now=now)[0]


@transaction.atomic
def _cancel(*, registration, reason, actor=None, job="", now=None):
    """``number_registration_cancel``; returns ``(registration, whether this call cancelled
    it)`` — a twin call that found it cancelled (or activated) already changed nothing."""
    if actor is not None and not may_provide_registration_for(actor, registration.account):
        raise PermissionDenied("You may not cancel this account's numbers.")
    now = now or timezone.now()
    account = registration.account
    balances_lock([account, account.reseller])
    registration = NumberRegistration.objects.select_for_update().get(pk=registration.pk)
    if registration.status != Reg.AWAITING:
        return registration, False
    if job and _under_review(registration):
        return registration, False  # the wait is ours, not the customer's: see the deadline
    # Read under the locks: an approval or a twin cancel that committed first is seen.
    subscription = pending_subscription_of(registration.did_id)
    refunded = []
    if subscription is not None:
        refunded = subscription_refund_unregistered(
            subscription=subscription, reason=reason, actor=actor, job=job, now=now
        )
    dids = [
        did
        for did in lock_in_pk_order([registration.did_id])
        if did.status == DIDStatus.AWAITING_REGISTRATION and did.owner_id == account.pk
    ]
    if dids:
        transition_locked(
            dids, to_status=DIDStatus.IN_STOCK, reason=reason[:90], actor=actor, job=job or None
        )
    registration.status = Reg.CANCELLED
    registration.cancelled_at = now
    registration.cancel_reason = reason[:255]
    registration.refunded = sum((entry.amount for entry in refunded), start=Decimal("0.00"))
    registration.save(update_fields=["status", "cancelled_at", "cancel_reason", "refunded"])
    notifications.registration_cancelled(registration)
    return registration, True


DEADLINE_REASON = "registration not completed by its deadline"


def _under_review(registration):
    return Submission.objects.filter(
        account_id=registration.account_id,
        requirement_id=registration.requirement_id,
        status=Status.SUBMITTED,
    ).exists()


def registrations_cancel_overdue(*, now=None, job="cancel_overdue_registrations"):
    """Cancel and refund every number whose registration deadline has passed, one
    transaction each: one failure is logged and leaves the others done (the next run tries
    it again). Safe to run twice or concurrently. Returns how many were cancelled.

    A number whose registration is awaiting review when its deadline passes is not
    cancelled: the customer provided it in time and the wait is ours. If the review then
    rejects it, ``submission_reject`` gives the customer at least ``REGISTRATION_FIX_DAYS``
    to fix it before the deadline cancels the number."""
    now = now or timezone.now()
    due = NumberRegistration.objects.filter(status=Reg.AWAITING, deadline_at__lte=now).exclude(
        submission__status=Status.SUBMITTED
    )
    cancelled = 0
    for registration in due.select_related("account__parent").order_by("deadline_at", "pk"):
        try:
            _, done = _cancel(registration=registration, reason=DEADLINE_REASON, job=job, now=now)
        except Exception:
            logger.exception("registration %s: cancelling at its deadline failed", registration.pk)
            continue
        cancelled += done
    return cancelled


def registrations_remind_due(*, now=None, job="remind_registrations"):
    """E-mail once about the numbers whose deadline is within
    ``REGISTRATION_REMINDER_DAYS``: one e-mail per account and requirement, listing its
    numbers due (an order of ten numbers is one reminder, not ten). Safe to run twice or
    concurrently: a number reminded is never reminded again. Returns how many numbers were
    reminded."""
    now = now or timezone.now()
    soon = now + timedelta(days=settings.REGISTRATION_REMINDER_DAYS)
    due = NumberRegistration.objects.filter(
        status=Reg.AWAITING, reminded_at__isnull=True, deadline_at__gt=now, deadline_at__lte=soon
    )
    groups = sorted(set(due.values_list("account_id", "requirement_id")))
    reminded = 0
    for account_id, requirement_id in groups:
        with transaction.atomic():
            # Locked in pk order, as an approval locks them: the two never deadlock. A twin
            # run waits here, then finds them reminded (the filter is checked again).
            registrations = list(
                due.filter(account_id=account_id, requirement_id=requirement_id)
                .select_for_update(of=("self",))
                .select_related("account", "did", "requirement", "submission")
                .order_by("pk")
            )
            if not registrations:
                continue
            NumberRegistration.objects.filter(pk__in=[r.pk for r in registrations]).update(
                reminded_at=now
            )
            registrations.sort(key=lambda r: (r.deadline_at, r.pk))
            notifications.registration_deadline_soon(registrations, now=now)
            reminded += len(registrations)
    return reminded
