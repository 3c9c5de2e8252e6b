"""Reads for the reseller's registrations pages: its customers' numbers awaiting
registration and their registrations' statuses, so it can chase them.

Statuses, deadlines, the reviewer's reasons and comment — never identities, addresses or
documents: the querysets load only the fields below (``only``), and every query is filtered
by the reseller in the query itself.
"""

from django.db.models import Count, Min, Q

from accounts.models import Account
from compliance.models import NumberRegistration, RejectionReason, Submission

Reg = NumberRegistration.Status

# What the pages show of a registration (no identity, address or document field).
SUBMISSION_FIELDS = (
    "id",
    "account_id",
    "requirement_id",
    "status",
    "submitted_at",
    "decided_at",
    "rejection_reasons",
    "comment",
    "created_at",
)
REQUIREMENT_FIELDS = ("requirement__id", "requirement__title", "requirement__country")


class ChaseStatus:
    """The filter's choices: where a number's registration stands."""

    NOT_STARTED = "not_started"
    DRAFT = Submission.Status.DRAFT
    SUBMITTED = Submission.Status.SUBMITTED
    REJECTED = Submission.Status.REJECTED
    CHOICES = [
        ("", "Any status"),
        (NOT_STARTED, "Not started"),
        (DRAFT, "Started, not submitted"),
        (SUBMITTED, "Awaiting review"),
        (REJECTED, "Rejected: needs a fix"),
    ]


def reseller_customers(user):
    """The user's reseller's customers (for the filter), by name."""
    return Account.objects.filter(parent_id=user.account_id, kind=Account.Kind.CUSTOMER).order_by(
        "name", "pk"
    )


def awaiting_numbers(user, *, customer_id=None, status=""):
    """Numbers of the user's reseller's customers awaiting registration, the nearest
    deadline first, each with its customer, requirement and registration (status, reasons,
    comment)."""
    rows = NumberRegistration.objects.filter(
        status=Reg.AWAITING,
        account__parent_id=user.account_id,
        account__kind=Account.Kind.CUSTOMER,
    )
    if customer_id:
        rows = rows.filter(account_id=customer_id)
    if status == ChaseStatus.NOT_STARTED:
        rows = rows.filter(submission__isnull=True)
    elif status:
        rows = rows.filter(submission__status=status)
    return (
        rows.select_related("account", "did", "requirement", "submission")
        .only(
            "id",
            "deadline_at",
            "reminded_at",
            "created_at",
            "order_id",
            "account__id",
            "account__name",
            "did__id",
            "did__number",
            *REQUIREMENT_FIELDS,
            *(f"submission__{name}" for name in SUBMISSION_FIELDS),
        )
        .order_by("deadline_at", "pk")
    )


def customer_submissions(user, customer):
    """``customer``'s registrations (the user's reseller's customer), with how many of its
    numbers each has waiting and the nearest deadline; those needing the customer first."""
    waiting = Q(number_registrations__status=Reg.AWAITING)
    return (
        Submission.objects.filter(
            account=customer,
            account__parent_id=user.account_id,
            account__kind=Account.Kind.CUSTOMER,
        )
        .select_related("requirement")
        .only(*SUBMISSION_FIELDS, *REQUIREMENT_FIELDS)
        .annotate(
            waiting_count=Count("number_registrations", filter=waiting),
            next_deadline=Min("number_registrations__deadline_at", filter=waiting),
        )
        .order_by("next_deadline", "-created_at", "-pk")
    )


def customer_cancelled(user, customer, limit=10):
    """``customer``'s numbers cancelled because the registration was not completed (or by
    the customer), the latest first."""
    return (
        NumberRegistration.objects.filter(
            status=Reg.CANCELLED,
            account=customer,
            account__parent_id=user.account_id,
        )
        .select_related("did", "requirement")
        .only(
            "id",
            "cancelled_at",
            "cancel_reason",
            "refunded",
            "did__id",
            "did__number",
            *REQUIREMENT_FIELDS,
        )
        .order_by("-cancelled_at", "-pk")[:limit]
    )


def reason_labels(values):
    """The reviewer's reason codes in words, unknown codes left out."""
    return [RejectionReason(value).label for value in values or () if value in RejectionReason]
