"""The staff review queue (``/staff/compliance/review/``): platform compliance officers and
admins (``reviews_registrations``) see what customers sent, open each submission with its
documents inline, and approve or reject it with reasons. Everyone else: 403."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import allow, reviews_registrations
from didportal.forms import add_service_errors

from . import selectors_review as selectors
from .forms_review import STATUS_CHOICES, ApproveForm, RejectForm, ReviewQueueQuery
from .models import DocumentKind
from .needs import needs_lines
from .rejections import ADVICE, explained
from .services.registrations import submission_approve, submission_reject

PAGE_SIZE = 25
KIND_ORDER = list(DocumentKind.values)  # identity, address, company, other


def _tabs(counts):
    """The status tabs: ``(value, label, how many)``."""
    return [
        (value, label, sum(counts.values()) if value == "all" else counts.get(value, 0))
        for value, label in STATUS_CHOICES
    ]


@require_GET
@allow(reviews_registrations)
def review_queue(request):
    query = ReviewQueueQuery(request.GET)
    filters = query.values()
    now = timezone.now()
    submissions = selectors.review_queue(**filters, now=now)
    page = Paginator(submissions, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "query": query,
        "filters": filters,
        "page": page,
        "now": now,
        "tabs": _tabs(selectors.review_counts()),
        "is_filtered": bool(filters["country"] or filters["older_than"]),
    }
    return render(request, "compliance/review/queue.html", context)


def _review_page(request, submission, *, approve_form=None, reject_form=None, status=200):
    waiting = list(selectors.numbers_waiting_on(submission))
    seen = {"seen": selectors.latest_event_id(submission)}
    context = {
        "submission": submission,
        "requirement": submission.requirement,
        "needs": needs_lines(submission.requirement),
        "account": submission.account,
        "documents": sorted(submission.documents.all(), key=lambda d: KIND_ORDER.index(d.kind)),
        "events": [
            (event, explained(event.rejection_reasons)) for event in submission.events.all()
        ],
        "waiting": waiting,
        "problems": selectors.review_problems(submission, waiting),
        "reasons": explained(submission.rejection_reasons),
        "advice": {code: advice for code, (_field, advice) in ADVICE.items()},
        "decidable": submission.status == submission.Status.SUBMITTED,
        "approve_form": approve_form or ApproveForm(initial=seen),
        "reject_form": reject_form or RejectForm(initial=seen),
        "now": timezone.now(),
    }
    return render(request, "compliance/review/detail.html", context, status=status)


@require_GET
@allow(reviews_registrations)
def review_detail(request, pk):
    return _review_page(request, selectors.submission_for_review(pk))


def _out_of_date(request, submission, form):
    """True (with a message) when the page the reviewer decided on is no longer current."""
    if form.cleaned_data["seen"] == selectors.latest_event_id(submission):
        return False
    messages.warning(
        request,
        "This registration changed while you were looking at it (another decision, or the "
        "customer sent it again): nothing was done. Here it is as it stands now.",
    )
    return True


@require_POST
@allow(reviews_registrations)
def review_approve(request, pk):
    submission = selectors.submission_for_review(pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _review_page(request, submission, approve_form=form, status=400)
    if _out_of_date(request, submission, form):
        return redirect("compliance:review", pk=submission.pk)
    waiting = selectors.numbers_waiting_on(submission).count()
    try:
        submission_approve(
            submission=submission, actor=request.user, comment=form.cleaned_data["comment"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("compliance:review", pk=submission.pk)
    messages.success(
        request,
        f"Approved “{submission.requirement.title}” for {submission.account.name}"
        + (f": {waiting} number{'s' if waiting != 1 else ''} live now." if waiting else "."),
    )
    return redirect("compliance:review_queue")


@require_POST
@allow(reviews_registrations)
def review_reject(request, pk):
    submission = selectors.submission_for_review(pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _review_page(request, submission, reject_form=form, status=400)
    if _out_of_date(request, submission, form):
        return redirect("compliance:review", pk=submission.pk)
    try:
        submission_reject(
            submission=submission,
            actor=request.user,
            reasons=form.cleaned_data["reasons"],
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            messages.error(request, " ".join(exc.messages))
            return redirect("compliance:review", pk=submission.pk)
        add_service_errors(form, exc)
        return _review_page(request, submission, reject_form=form, status=400)
    messages.success(
        request,
        f"Rejected “{submission.requirement.title}” for {submission.account.name}: the "
        "customer is e-mailed the reasons and your comment.",
    )
    return redirect("compliance:review_queue")


# The document's own policy: sandboxed, nothing loads or runs in it, and only our pages may
# frame it (the site's X-Frame-Options DENY and frame-ancestors 'none' would blank the
# review page's viewer). Chromium's PDF viewer renders a sandboxed PDF (checked).
urlpatterns = [
    path("staff/compliance/review/", review_queue, name="review_queue"),
    path("staff/compliance/review/<int:pk>/", review_detail, name="review"),
    path("staff/compliance/review/<int:pk>/approve/", review_approve, name="review_approve"),
    path("staff/compliance/review/<int:pk>/reject/", review_reject, name="review_reject"),
]
