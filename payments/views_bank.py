"""Bank statements: upload, review and confirm the matched lines, settle the unmatched.

For the user who collects the money (``accounts.permissions.collects_money``); their account
is the seller, and another seller's statement or line is a 404.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from accounts.permissions import allow, collects_money
from didportal.forms import add_service_errors

from . import selectors_bank as selectors
from .forms_bank import AccountSearch, AssignForm, ConfirmForm, IgnoreForm, LinesQuery, UploadForm
from .services import bank

PAGE_SIZE = 50


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@allow(collects_money)
def statements(request):
    seller = request.user.account
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = bank.statement_upload(
                user=request.user, filename=upload.name, data=upload.read()
            )
        except bank.AlreadyUploaded as exc:
            form.add_error("file", exc)
            form.earlier = exc.statement
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            messages.success(
                request,
                f"{result.read} credit line(s) read: {result.proposed} matched to an account, "
                f"{result.unmatched} unmatched, {result.known} already known. "
                f"{result.debits} debit(s) and {result.not_booked} unbooked entr(ies) skipped. "
                "Nothing is booked until you confirm.",
            )
            return redirect("payments:bank_statement", pk=result.statement.pk)
    context = {
        "form": form,
        "page": _page(request, selectors.statements_for(seller)),
        "unmatched": selectors.unmatched_count(seller),
        "max_bytes": settings.BANK_STATEMENT_MAX_BYTES,
    }
    return render(
        request, "payments/bank_statements.html", context, status=400 if form.errors else 200
    )


@allow(collects_money)
def statement(request, pk):
    seller = request.user.account
    statement = selectors.statement_for(seller, pk)
    status = LinesQuery(request.GET).values()["status"]
    context = {
        "statement": statement,
        "counts": selectors.status_counts(statement),
        "known": statement.lines_read - statement.lines_new,
        "status": status,
        "page": _page(request, selectors.lines_of(statement, status)),
        "statuses": LinesQuery.base_fields["status"].choices,
    }
    return render(request, "payments/bank_statement.html", context)


@require_POST
@allow(collects_money)
def confirm(request, pk):
    """Book proposed lines: first a page listing what will be credited, then the booking."""
    seller = request.user.account
    statement = selectors.statement_for(seller, pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect("payments:bank_statement", pk=statement.pk)
    data = form.cleaned_data
    ids = bank.proposed_ids(user=request.user, statement_id=statement.pk)
    if not data["all"]:
        ids = [i for i in ids if i in set(data["line"])]
    if not data["confirmed"]:
        lines = selectors.proposed_lines(seller, ids)
        context = {
            "statement": statement,
            "lines": lines,
            "total": lines.aggregate(total=Sum("amount"))["total"],
        }
        return render(request, "payments/bank_confirm.html", context)
    booking = bank.lines_confirm(user=request.user, line_ids=ids)
    if booking.booked:
        messages.success(
            request,
            f"Booked {len(booking.booked)} transfer(s), {booking.total} in all: the balances "
            "are credited.",
        )
    elif not booking.refused:
        messages.info(request, "Nothing to book: these lines were booked or settled already.")
    for line, why in booking.refused:
        messages.warning(request, f"{line.bank_transaction_id}: {why}")
    return redirect("payments:bank_statement", pk=statement.pk)


@allow(collects_money)
def unmatched(request):
    seller = request.user.account
    context = {"page": _page(request, selectors.unmatched_for(seller))}
    return render(request, "payments/bank_unmatched.html", context)


def _line_page(request, line, assign_form=None, ignore_form=None):
    seller = request.user.account
    search = AccountSearch(request.GET)
    q = search.values()["q"]
    context = {
        "line": line,
        "search": search,
        "q": q,
        "found": selectors.accounts_matching(seller, q) if q else [],
        "assign_form": assign_form,
        "ignore_form": ignore_form or IgnoreForm(),
    }
    return render(request, "payments/bank_line.html", context)


@allow(collects_money)
def line(request, pk):
    return _line_page(request, selectors.line_for(request.user.account, pk))


@require_POST
@allow(collects_money)
def line_assign(request, pk):
    line = selectors.line_for(request.user.account, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            line = bank.line_assign(
                user=request.user,
                line_id=line.pk,
                account_id=form.cleaned_data["account"],
                book=form.cleaned_data["book"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            done = "booked" if line.status == line.Status.BOOKED else "proposed: confirm it"
            messages.success(
                request, f"{line.bank_transaction_id} assigned to {line.account}, {done}."
            )
            return redirect("payments:bank_line", pk=line.pk)
    return _line_page(request, line, assign_form=form)


@require_POST
@allow(collects_money)
def line_ignore(request, pk):
    line = selectors.line_for(request.user.account, pk)
    form = IgnoreForm(request.POST)
    if form.is_valid():
        try:
            bank.line_ignore(user=request.user, line_id=line.pk, note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{line.bank_transaction_id} ignored.")
            return redirect("payments:bank_unmatched")
    return _line_page(request, line, ignore_form=form)


@require_POST
@allow(collects_money)
def line_reopen(request, pk):
    line = selectors.line_for(request.user.account, pk)
    try:
        bank.line_reopen(user=request.user, line_id=line.pk)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"{line.bank_transaction_id} is back in the unmatched queue.")
    return redirect("payments:bank_line", pk=line.pk)


urlpatterns = [
    path("bank/", statements, name="bank_statements"),
    path("bank/statements/<int:pk>/", statement, name="bank_statement"),
    path("bank/statements/<int:pk>/confirm/", confirm, name="bank_confirm"),
    path("bank/unmatched/", unmatched, name="bank_unmatched"),
    path("bank/lines/<int:pk>/", line, name="bank_line"),
    path("bank/lines/<int:pk>/assign/", line_assign, name="bank_line_assign"),
    path("bank/lines/<int:pk>/ignore/", line_ignore, name="bank_line_ignore"),
    path("bank/lines/<int:pk>/reopen/", line_reopen, name="bank_line_reopen"),
]
