"""Reads of the staff review queue (platform reviewers see every tenant's submissions; the
views admit only ``reviews_registrations``)."""

from datetime import timedelta

from django.db.models import Count, Min, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .checks import submission_problems
from .models import Document, NumberRegistration, Submission, SubmissionEvent

Status = Submission.Status
AWAITING = Q(number_registrations__status=NumberRegistration.Status.AWAITING)


def review_queue(*, status=Status.SUBMITTED, country="", older_than=None, now=None):
    """Submissions sent for review (drafts never reach the queue), with how many numbers
    wait on each and the nearest deadline, in one query.

    ``status``: a ``Submission.Status`` value or ``"all"``. Awaiting review (and "all"):
    oldest first, the order they are worked through; decided ones: newest decision first.
    ``older_than``: days since it was (last) sent for review."""
    now = now or timezone.now()
    submissions = (
        Submission.objects.exclude(status=Status.DRAFT)
        .select_related("account__parent", "requirement")
        .annotate(
            waiting=Count("number_registrations", filter=AWAITING),
            next_deadline=Min("number_registrations__deadline_at", filter=AWAITING),
        )
    )
    if status != "all":
        submissions = submissions.filter(status=status)
    if country:
        submissions = submissions.filter(requirement__country=country)
    if older_than:
        submissions = submissions.filter(submitted_at__lte=now - timedelta(days=older_than))
    if status in (Status.APPROVED, Status.REJECTED):
        return submissions.order_by("-decided_at", "-pk")
    return submissions.order_by("submitted_at", "pk")


def review_counts():
    """``{status: count}`` of what was sent for review (for the queue's tabs)."""
    rows = (
        Submission.objects.exclude(status=Status.DRAFT)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


def submission_for_review(pk):
    """A submission sent for review with everything its page shows, or 404 (a draft has
    nothing to review yet)."""
    documents = Document.objects.order_by("kind", "uploaded_at", "pk")
    events = SubmissionEvent.objects.select_related("actor").order_by("created_at", "pk")
    return get_object_or_404(
        Submission.objects.exclude(status=Status.DRAFT)
        .select_related(
            "account__parent",
            "requirement",
            "identity",
            "address",
            "submitted_by",
            "decided_by",
        )
        .prefetch_related(
            Prefetch("documents", queryset=documents), Prefetch("events", queryset=events)
        ),
        pk=pk,
    )


def numbers_waiting_on(submission):
    """The account's numbers awaiting this requirement, nearest deadline first."""
    return (
        NumberRegistration.objects.filter(
            account_id=submission.account_id,
            requirement_id=submission.requirement_id,
            status=NumberRegistration.Status.AWAITING,
        )
        .select_related("did__block")
        .order_by("deadline_at", "pk")
    )


def latest_event_id(submission):
    """The id of the submission's newest step (0 before any): what a decision form carries
    to prove the reviewer saw the current state."""
    return (
        SubmissionEvent.objects.filter(submission=submission)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )


def review_problems(submission, waiting):
    """What the submission, as it stands now, still lacks against its requirement (the
    same check the customer's submit ran; a document archived since shows up here)."""
    return submission_problems(
        submission.requirement,
        account=submission.account,
        identity=submission.identity,
        address=submission.address,
        documents=list(submission.documents.all()),
        numbers=[registration.did for registration in waiting],
    )
