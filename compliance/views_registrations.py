"""The customer's registrations: what its numbers wait for, each submission's page, and
giving up on a number awaiting registration (cancelled, refunded in full).

Every page is the viewer's own account's: its providers (``may_provide_registration_for``:
customer admins and members, a reseller's admin for the reseller's own numbers) start,
fill, submit and cancel; its other users read. Another account's id is a 404.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import (
    allow,
    holds_numbers,
    may_provide_registration_for,
    provides_registrations,
)

from . import selectors_registrations as selectors
from .forms_registrations import AddedQuery, SubmissionForm
from .models import NumberRegistration, Submission
from .needs import registration_needs
from .services.registrations import (
    number_registration_cancel,
    submission_get_or_create,
    submission_submit,
)

PAGE_SIZE = 20
EDITABLE = (Submission.Status.DRAFT, Submission.Status.REJECTED)

# The profile lane's pages, by URL name (the first that exists wins): where the submission
# page sends people to add what is missing, with ``next`` back to it.
PROFILE_PAGES = {
    "identity": ("compliance:identity_create", "compliance:identity_add", "compliance:identities"),
    "address": ("compliance:address_create", "compliance:address_add", "compliance:addresses"),
    "document": (
        "compliance:document_upload",
        "compliance:document_create",
        "compliance:document_add",
        "compliance:documents",
    ),
    "profile": ("compliance:profile", "compliance:identities"),
    "identity_edit": ("compliance:identity_edit",),
    "address_edit": ("compliance:address_edit",),
}
DOCUMENT_FILE = "compliance:document_file"


def _profile_url(page, next_url, args=(), **params):
    for name in PROFILE_PAGES[page]:
        try:
            url = reverse(name, args=args)
        except NoReverseMatch:
            continue
        return f"{url}?{urlencode({**params, 'next': next_url})}"
    return None


def _document_url(document):
    try:
        return reverse(DOCUMENT_FILE, args=[document.pk])
    except NoReverseMatch:
        return None


@allow(holds_numbers)
def registration_list(request):
    rows = selectors.registrations_overview(request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "can_provide": may_provide_registration_for(request.user, request.user.account),
    }
    return render(request, "compliance/registrations/list.html", context)


@require_POST
@allow(provides_registrations)
def registration_start(request, requirement_id):
    """Open (or find) the account's submission for a requirement its numbers await."""
    requirement = selectors.awaiting_requirement_for(request.user, requirement_id)
    submission = submission_get_or_create(
        account=request.user.account, requirement=requirement, actor=request.user
    )
    return redirect("compliance:submission", pk=submission.pk)


@require_http_methods(["GET", "POST"])
@allow(holds_numbers)
def submission_detail(request, pk):
    """GET: the submission (the form when it may be sent; ``?identity=…`` etc. re-check a
    selection: htmx asks for the "still missing" box only). POST: send it for review."""
    submission = selectors.submission_for(request.user, pk)
    can_edit = (
        may_provide_registration_for(request.user, submission.account)
        and submission.status in EDITABLE
    )
    if request.method == "POST":
        if not may_provide_registration_for(request.user, submission.account):
            raise PermissionDenied("Only the account's admins and members send its registrations.")
        if not can_edit:
            messages.error(request, _not_editable(submission))
            return redirect("compliance:submission", pk=submission.pk)
        return _submit(request, submission)
    if not can_edit:
        return _render(request, submission, form=None, problems={})
    form = SubmissionForm(_selection(request, submission), submission=submission)
    form.is_valid()
    problems = selectors.missing_for(
        submission, **form.selection(), numbers=selectors.awaiting_numbers(submission)
    )
    if request.htmx and not request.htmx.history_restore_request:
        return render(
            request,
            "compliance/registrations/_missing.html",
            {"problems": problems, "submission": submission},
        )
    return _render(request, submission, form=form, problems=problems)


def _selection(request, submission):
    """The live check sends the whole form (htmx); otherwise the page starts from the
    submission's parts, with what the profile's pages just added (``?identity=…``)."""
    if request.htmx and not request.htmx.history_restore_request:
        return request.GET
    return SubmissionForm.data_for(submission, added=AddedQuery(request.GET).values())


def _not_editable(submission):
    if submission.status == Submission.Status.SUBMITTED:
        return "This registration is awaiting review: it cannot be changed meanwhile."
    if submission.status == Submission.Status.APPROVED:
        return "This registration is approved: nothing more to send."
    return "This registration cannot be changed."


def _submit(request, submission):
    form = SubmissionForm(request.POST, submission=submission)
    numbers = selectors.awaiting_numbers(submission)
    if not form.is_valid():
        problems = selectors.missing_for(submission, **form.selection(), numbers=numbers)
        return _render(request, submission, form=form, problems=problems, failed=True)
    again = submission.status == Submission.Status.REJECTED
    try:
        submission_submit(submission=submission, actor=request.user, **form.selection())
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            messages.error(request, " ".join(exc.messages))
            return redirect("compliance:submission", pk=submission.pk)
        problems = {name: errors.messages for name, errors in _by_field(exc).items()}
        return _render(request, submission, form=form, problems=problems, failed=True)
    messages.success(
        request,
        f"{'Sent again' if again else 'Sent'} for review: we e-mail you the decision, usually "
        "within one working day.",
    )
    return redirect("compliance:submission", pk=submission.pk)


def _by_field(exc):
    return {name: ValidationError(errors) for name, errors in exc.error_dict.items()}


def _render(request, submission, *, form, problems, failed=False):
    here = reverse("compliance:submission", args=[submission.pk])
    documents = selectors.submission_documents(submission)
    context = {
        "submission": submission,
        "requirement": submission.requirement,
        "needs": registration_needs(submission.requirement),
        "form": form,
        "problems": problems,
        "failed": failed,
        "awaiting": selectors.awaiting_numbers(submission),
        "rejection": selectors.rejection_items(submission)
        if submission.status == Submission.Status.REJECTED
        else [],
        "history": selectors.submission_history(submission),
        "sent_documents": [(document, _document_url(document)) for document in documents],
        "can_provide": may_provide_registration_for(request.user, submission.account),
        "links": {
            "identity": _profile_url("identity", here),
            "address": _profile_url("address", here),
            "profile": _profile_url("profile", here),
            **_correction_links(submission, here),
        },
        "document_links": {
            kind: _profile_url("document", here, kind=kind)
            for kind in submission.requirement.proofs_needed
        },
    }
    return render(
        request, "compliance/registrations/submission.html", context, status=400 if failed else 200
    )


def _correction_links(submission, here):
    """After a rejection: edit the identity or address that was sent (the profile allows
    it while the registration is rejected), coming back here."""
    if submission.status != Submission.Status.REJECTED:
        return {}
    links = {}
    if submission.identity_id and not submission.identity.archived_at:
        links["identity_edit"] = _profile_url("identity_edit", here, [submission.identity_id])
    if submission.address_id and not submission.address.archived_at:
        links["address_edit"] = _profile_url("address_edit", here, [submission.address_id])
    return links


@require_http_methods(["GET", "POST"])
@allow(provides_registrations)
def registration_cancel(request, pk):
    """GET: what cancelling the number means (refund, back in stock); POST: cancel it."""
    registration = selectors.registration_for(request.user, pk)
    if registration.status != NumberRegistration.Status.AWAITING:
        messages.info(
            request,
            f"{registration.did.number} is not awaiting registration any more "
            f"({registration.get_status_display().lower()}).",
        )
        return redirect("compliance:registrations")
    amount, currency = selectors.refund_due(registration)
    if request.method == "POST":
        registration = number_registration_cancel(
            registration=registration,
            reason="cancelled by the customer before registration",
            actor=request.user,
        )
        messages.success(
            request,
            f"{registration.did.number} is cancelled: {registration.refunded} {currency} "
            "refunded to your balance.",
        )
        return redirect("compliance:registrations")
    context = {"registration": registration, "amount": amount, "currency": currency}
    return render(request, "compliance/registrations/cancel.html", context)


urlpatterns = [
    path("compliance/registrations/", registration_list, name="registrations"),
    path("compliance/registrations/<int:pk>/", submission_detail, name="submission"),
    path(
        "compliance/registrations/start/<int:requirement_id>/",
        registration_start,
        name="registration_start",
    ),
    path(
        "compliance/registrations/awaiting/<int:pk>/cancel/",
        registration_cancel,
        name="registration_cancel",
    ),
]
