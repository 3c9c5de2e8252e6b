"""Receipts of top-ups, and payouts of unused balance: the customer's request, the queue
of whoever pays it out (``may_record_topup_for``), paying and declining, and a payout
finance starts unasked."""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Account
from accounts.permissions import (
    allow,
    collects_money,
    holds_numbers,
    is_finance,
    may_fund_balance,
    may_record_topup_for,
)
from accounts.scoping import get_scoped_or_404
from billing.selectors import balance_for
from didportal.forms import add_service_errors

from . import selectors_refunds as selectors
from . import stripe_api
from .forms_refunds import (
    STATUS_TABS,
    PayoutDeclineForm,
    PayoutListQuery,
    PayoutPayForm,
    PayoutRequestForm,
    PayoutStartForm,
)
from .models import Payout
from .services import receipts, refunds

logger = logging.getLogger(__name__)
PAGE_SIZE = 25


# --- Receipts -------------------------------------------------------------------------------


@require_GET
@allow(holds_numbers, is_finance)
def receipt_pdf(request, pk):
    entry = selectors.receipt_entry(request.user, pk)
    filename, content = receipts.receipt_pdf(entry)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True, max_age=0)
    return response


# --- The customer's request -------------------------------------------------------------------


@allow(may_fund_balance)
def payout_ask(request):
    account = request.user.account
    form = PayoutRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            payout = refunds.payout_request(
                user=request.user,
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Asked for {payout.amount} {account.currency} back. "
                "We e-mail you when it is paid.",
            )
            return redirect(reverse("billing:balance") + "#payouts")
    context = {
        "form": form,
        "balance": balance_for(account),
        "open": selectors.open_payout(account),
        "currency": account.currency,
    }
    return render(request, "payments/refunds_ask.html", context)


@require_POST
@allow(may_fund_balance)
def payout_withdraw(request, pk):
    try:
        payout = refunds.payout_withdraw(user=request.user, payout_id=pk)
    except Payout.DoesNotExist as exc:
        raise Http404("No such payout request.") from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Request for {payout.amount} {payout.account.currency} back withdrawn."
        )
    return redirect(reverse("billing:balance") + "#payouts")


# --- Who pays out: the queue, a payout, paying, declining, starting ---------------------------


@allow(collects_money)
def payout_queue(request):
    status = PayoutListQuery(request.GET).values()["status"] or "requested"
    payouts = selectors.payouts_decidable_by(request.user, status="" if status == "all" else status)
    page = Paginator(payouts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/refunds_queue.html",
        {"page": page, "status": status, "tabs": STATUS_TABS},
    )


def _payout_page(request, payout, pay_form=None, decline_form=None):
    account = payout.account
    may_decide = may_record_topup_for(request.user, account)
    balance = balance_for(account)
    refundable = refunds.card_refundable(account) if may_decide else None
    if pay_form is None:
        method = (
            Payout.Method.CARD if refundable and refundable >= payout.amount else "bank_transfer"
        )
        pay_form = PayoutPayForm(initial={"amount": min(payout.amount, balance), "method": method})
    context = {
        "payout": payout,
        "parts": list(selectors.payout_parts(payout)),
        "account": account,
        "balance": balance,
        "refundable": refundable,
        "may_decide": may_decide and payout.status == Payout.Status.REQUESTED,
        "pay_form": pay_form,
        "decline_form": decline_form or PayoutDeclineForm(),
        "card_enabled": stripe_api.card_payments_enabled_for(account),
    }
    return render(request, "payments/refunds_payout.html", context)


@require_GET
@allow(collects_money)
def payout_detail(request, pk):
    return _payout_page(request, selectors.payout_for(request.user, pk))


def _decidable(request, pk):
    payout = selectors.payout_for(request.user, pk)
    if not may_record_topup_for(request.user, payout.account):
        raise PermissionDenied("Only whoever collects this account's money pays it out.")
    return payout


def _paid_message(request, result):
    payout, currency = result.payout, result.payout.account.currency
    if not result.applied:
        messages.info(
            request, f"This payout is {payout.get_status_display().lower()} already: nothing done."
        )
        return
    paid = sum((row.amount for row in (payout, *result.parts)), start=payout.amount * 0)
    how = "to the card" if payout.method == Payout.Method.CARD else "by bank transfer"
    if len(result.parts):
        how = f"to {len(result.parts) + 1} card payments"
    messages.success(request, f"Paid back {paid} {currency} {how}; the balance is debited.")
    if result.remainder is not None:
        messages.warning(
            request,
            f"{result.remainder.amount} {currency} could not go back to a card "
            f"({result.error}); it is left as an open payout to pay by bank transfer.",
        )


@require_POST
@allow(collects_money)
def payout_pay(request, pk):
    payout = _decidable(request, pk)
    form = PayoutPayForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = refunds.payout_pay(
                actor=request.user,
                payout_id=payout.pk,
                method=data["method"],
                amount=data["amount"],
                bank_reference=data["bank_reference"],
                note=data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except stripe_api.PaymentProviderError as exc:
            form.add_error(None, f"Nothing was paid out or debited: {exc.message}")
        else:
            _paid_message(request, result)
            target = result.remainder or result.payout
            return redirect("payments:payout", pk=target.pk)
    return _payout_page(request, payout, pay_form=form)


@require_POST
@allow(collects_money)
def payout_decline(request, pk):
    payout = _decidable(request, pk)
    form = PayoutDeclineForm(request.POST)
    if form.is_valid():
        try:
            refunds.payout_decline(
                actor=request.user, payout_id=payout.pk, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Payout declined; the customer is told why by e-mail.")
            return redirect("payments:payout", pk=payout.pk)
    return _payout_page(request, payout, decline_form=form)


@allow(collects_money)
def payout_start(request, pk):
    """Finance pays out an account's balance nobody asked for: a payout, paid at once."""
    account = get_scoped_or_404(
        Account.objects.exclude(kind=Account.Kind.PLATFORM), request.user, pk=pk
    )
    if not may_record_topup_for(request.user, account):
        raise PermissionDenied("Only whoever collects this account's money pays it out.")
    balance = balance_for(account)
    refundable = refunds.card_refundable(account)
    open_payout = selectors.open_payout(account)
    initial = {
        "amount": balance,
        "method": "card" if refundable >= balance > 0 else "bank_transfer",
    }
    form = PayoutStartForm(request.POST or None, initial=initial)
    if request.method == "POST" and open_payout is None and form.is_valid():
        data = form.cleaned_data
        try:
            result = refunds.payout_start(
                actor=request.user,
                account=account,
                amount=data["amount"],
                method=data["method"],
                bank_reference=data["bank_reference"],
                note=data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except stripe_api.PaymentProviderError as exc:
            form.add_error(None, f"Nothing was paid out or debited: {exc.message}")
        else:
            _paid_message(request, result)
            return redirect("payments:payout", pk=(result.remainder or result.payout).pk)
    context = {
        "account": account,
        "balance": balance,
        "refundable": refundable,
        "open_payout": open_payout,
        "form": form,
        "card_enabled": stripe_api.card_payments_enabled_for(account),
    }
    return render(request, "payments/refunds_start.html", context)


urlpatterns = [
    path("receipts/<int:pk>/pdf/", receipt_pdf, name="receipt_pdf"),
    path("payouts/ask/", payout_ask, name="payout_ask"),
    path("payouts/<int:pk>/withdraw/", payout_withdraw, name="payout_withdraw"),
    path("payouts/", payout_queue, name="payouts"),
    path("payouts/<int:pk>/", payout_detail, name="payout"),
    path("payouts/<int:pk>/pay/", payout_pay, name="payout_pay"),
    path("payouts/<int:pk>/decline/", payout_decline, name="payout_decline"),
    path("balances/<int:pk>/payout/", payout_start, name="payout_start"),
]
