"""Reads for the customer's registration pages, scoped to the viewer's own account.

Only the account's own users reach these rows here (its providers change them, its other
users read them); a reseller sees its customers' statuses on its own pages, the platform's
reviewers on the review queue. Any other account's id answers 404, as if it did not exist.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from billing.services.registration import pending_refund_due

from .checks import submission_problems
from .models import (
    Address,
    Document,
    Identity,
    NumberRegistration,
    RejectionReason,
    Requirement,
    Submission,
)
from .needs import registration_needs

Reg = NumberRegistration.Status
RECENT_CANCELLED = 5  # cancelled numbers listed per requirement (the newest)

# Where a rejection reason sends the customer: the part of the page to fix.
FIELD_OF_REASON = {
    RejectionReason.UNREADABLE: "documents",
    RejectionReason.EXPIRED: "documents",
    RejectionReason.MISSING_PAGE: "documents",
    RejectionReason.NAME_MISMATCH: "identity",
    RejectionReason.ADDRESS_OUTSIDE_AREA: "address",
}
# What each reason asks of the customer, in their words.
ADVICE_OF_REASON = {
    RejectionReason.UNREADABLE: "A document could not be read: upload a sharper scan or photo.",
    RejectionReason.EXPIRED: "A document has expired: upload a current one.",
    RejectionReason.MISSING_PAGE: "A page is missing: upload the complete document.",
    RejectionReason.NAME_MISMATCH: (
        "The name on the documents does not match the identity: correct the identity or "
        "choose the matching documents."
    ),
    RejectionReason.ADDRESS_OUTSIDE_AREA: (
        "The address is outside the number's area: choose an address in that area."
    ),
    RejectionReason.OTHER: "See the reviewer's comment.",
}


def _with_urgency(registrations, now=None):
    """Mark each awaiting registration ``soon`` when its deadline is within the reminder
    window (the page shows it in red)."""
    now = now or timezone.now()
    soon = now + timedelta(days=settings.REGISTRATION_REMINDER_DAYS)
    for registration in registrations:
        registration.soon = registration.deadline_at <= soon
    return registrations


def _own(queryset, user):
    """Rows of the viewer's own account (nobody else's, whatever their role)."""
    if not user.account_id:
        return queryset.none()
    return queryset.filter(account_id=user.account_id)


# --- What a requirement asks for --------------------------------------------------------------


# --- The registrations page -------------------------------------------------------------------


@dataclass
class RequirementRow:
    """One requirement the account has numbers (or a registration) for."""

    requirement: Requirement
    submission: Submission | None = None
    awaiting: list = field(default_factory=list)
    cancelled: list = field(default_factory=list)
    activated_count: int = 0
    cancelled_count: int = 0

    @property
    def status(self):
        """not_started | nothing_waiting | draft | submitted | approved | rejected."""
        if self.submission:
            return self.submission.status
        return "not_started" if self.awaiting else "nothing_waiting"

    @property
    def status_label(self):
        if self.submission is None:
            return "Not started" if self.awaiting else "Nothing waiting"
        return self.submission.get_status_display()

    @property
    def needs(self):
        return registration_needs(self.requirement)

    @property
    def next_deadline(self):
        return self.awaiting[0].deadline_at if self.awaiting else None


def registrations_overview(user):
    """Per requirement the viewer's account bought numbers or has a registration for: its
    submission, its numbers awaiting (soonest deadline first), how many are registered, and
    the latest cancelled ones. Requirements with numbers waiting come first. Five queries
    however many requirements and numbers."""
    registrations = _own(NumberRegistration.objects.all(), user)
    counts = {
        row["requirement_id"]: row
        for row in registrations.values("requirement_id").annotate(
            activated=Count("pk", filter=Q(status=Reg.ACTIVATED)),
            cancelled=Count("pk", filter=Q(status=Reg.CANCELLED)),
            awaiting=Count("pk", filter=Q(status=Reg.AWAITING)),
        )
    }
    submissions = {s.requirement_id: s for s in _own(Submission.objects.all(), user)}
    wanted = counts.keys() | submissions.keys()
    if not wanted:
        return []
    rows = {
        requirement.pk: RequirementRow(requirement=requirement)
        for requirement in Requirement.objects.filter(pk__in=wanted)
    }
    for pk, row in rows.items():
        row.submission = submissions.get(pk)
        if pk in counts:
            row.activated_count = counts[pk]["activated"]
            row.cancelled_count = counts[pk]["cancelled"]
    listed = registrations.filter(requirement_id__in=list(rows)).select_related("did__block")
    for registration in listed.filter(status=Reg.AWAITING).order_by("deadline_at", "pk"):
        rows[registration.requirement_id].awaiting.append(registration)
    for row in rows.values():
        _with_urgency(row.awaiting)
    cancelled = defaultdict(list)
    for registration in listed.filter(status=Reg.CANCELLED).order_by("-cancelled_at", "-pk"):
        cancelled[registration.requirement_id].append(registration)
    for pk, found in cancelled.items():
        rows[pk].cancelled = found[:RECENT_CANCELLED]
    return sorted(rows.values(), key=_overview_order)


def _overview_order(row):
    """Numbers waiting first, the soonest deadline first; then by title."""
    if row.next_deadline:
        return (0, row.next_deadline.timestamp(), row.requirement.title, row.requirement.pk)
    return (1, 0, row.requirement.title, row.requirement.pk)


def awaiting_requirement_for(user, requirement_id):
    """The requirement ``requirement_id`` if the viewer's account has numbers awaiting it,
    else 404 (a registration is started for numbers that need one)."""
    awaiting = _own(NumberRegistration.objects.filter(status=Reg.AWAITING), user)
    requirement_ids = awaiting.filter(requirement_id=requirement_id).values("requirement_id")
    return get_object_or_404(Requirement, pk__in=requirement_ids)


# --- Cancelling a number awaiting registration ------------------------------------------------


def registration_for(user, pk):
    """One of the viewer's account's numbers sold under a requirement, or 404."""
    return get_object_or_404(
        _own(NumberRegistration.objects.select_related("did__block", "requirement"), user),
        pk=pk,
    )


def refund_due(registration):
    """What cancelling ``registration`` gives back to the buyer: ``(amount, currency)``."""
    account = registration.account
    return pending_refund_due(did_id=registration.did_id, account=account), account.currency


# --- The submission page ----------------------------------------------------------------------


def submission_for(user, pk):
    """The viewer's account's submission ``pk`` with its requirement, or 404."""
    return get_object_or_404(
        _own(Submission.objects.select_related("requirement", "identity", "address"), user),
        pk=pk,
    )


def identities_available(account):
    return Identity.objects.filter(account=account, archived_at__isnull=True).order_by(
        "-created_at", "-pk"
    )


def addresses_available(account):
    return Address.objects.filter(account=account, archived_at__isnull=True).order_by(
        "-created_at", "-pk"
    )


def documents_available(account, kinds):
    return Document.objects.filter(
        account=account, archived_at__isnull=True, kind__in=list(kinds)
    ).order_by("-uploaded_at", "-pk")


def awaiting_numbers(submission):
    """The numbers of the submission's account waiting for its requirement."""
    return _with_urgency(
        list(
            NumberRegistration.objects.filter(
                account_id=submission.account_id,
                requirement_id=submission.requirement_id,
                status=Reg.AWAITING,
            )
            .select_related("did__block")
            .order_by("deadline_at", "pk")
        )
    )


def submission_documents(submission):
    return list(submission.documents.order_by("kind", "-uploaded_at", "-pk"))


def submission_history(submission):
    """Its steps, oldest first (what the customer sees of the audit trail)."""
    return list(submission.events.select_related("actor").order_by("created_at", "pk"))


def missing_for(submission, *, identity, address, documents, numbers):
    """What the chosen parts still lack for the submission's requirement, by field
    (``compliance.checks``: the same answer the submit service gives)."""
    return submission_problems(
        submission.requirement,
        account=submission.account,
        identity=identity,
        address=address,
        documents=documents,
        numbers=[registration.did for registration in numbers],
    )


def rejection_items(submission):
    """The latest rejection's reasons: ``[{label, advice, field}]`` (``field``: the part of
    the page that fixes it, or None)."""
    items = []
    for value in submission.rejection_reasons or ():
        if value not in RejectionReason.values:
            continue
        items.append(
            {
                "label": RejectionReason(value).label,
                "advice": ADVICE_OF_REASON[value],
                "field": FIELD_OF_REASON.get(value),
            }
        )
    return items
