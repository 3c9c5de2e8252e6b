"""Balances and statements: the customer's own page and the finance staff's views."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Account
from accounts.permissions import allow, holds_numbers, is_finance
from accounts.scoping import get_scoped_or_404
from didportal.csv_export import csv_download

from . import selectors, services, tax
from .forms import AdjustmentForm, BalancesQuery, TaxRateForm, TopupForm
from .notifications import RESUME_POLICY
from .payments import bank_transfer_details, ways_to_pay

PAGE_SIZE = 25


def _statement_page(request, user, account):
    entries = selectors.ledger_for(user, account=account)
    return Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))


@allow(holds_numbers)
def balance(request):
    account = request.user.account
    context = {
        "balance": selectors.balance_for(account),
        "minimum": settings.MIN_PURCHASE_BALANCE,
        "held": list(selectors.held_subscriptions_for(account)),
        "resume_policy": RESUME_POLICY,
        "page": _statement_page(request, request.user, account),
        "payment_methods": ways_to_pay(request.user),
        "payment_reference": bank_transfer_details(account)[2],
    }
    return render(request, "billing/balance.html", context)


@allow(is_finance)
def balances(request):
    query = BalancesQuery(request.GET).values()
    search, low_only = query["q"], query["low"]
    accounts = selectors.balances_for(request.user, search=search, low_only=low_only)
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "billing/balances.html", {"page": page, "q": search, "low_only": low_only}
    )


def _customer_account(request, pk):
    return get_scoped_or_404(
        Account.objects.exclude(kind=Account.Kind.PLATFORM), request.user, pk=pk
    )


@allow(is_finance)
def statement(request, pk, topup_form=None, adjustment_form=None):
    account = _customer_account(request, pk)
    context = {
        "customer": account,
        "balance": selectors.balance_for(account),
        "page": _statement_page(request, request.user, account),
        "invoices": selectors.invoices_for(request.user, account=account)[:10],
        "topup_form": topup_form or TopupForm(),
        "adjustment_form": adjustment_form or AdjustmentForm(),
    }
    return render(request, "billing/statement.html", context)


@allow(is_finance)
def statement_export(request, pk):
    account = _customer_account(request, pk)
    rows = (
        selectors.ledger_for(request.user, account=account)
        .order_by("pk")
        .values_list("created_at", "kind", "description", "amount", "balance_after")
        .iterator(chunk_size=2000)
    )
    header = ["date", "kind", "description", "amount", "balance_after"]
    filename = f"statement-{account.pk}-{timezone.localdate():%Y%m%d}.csv"
    return csv_download(filename, header, rows)


def _entry_url(entry):
    """Where a ledger entry is listed: its account's statement, at its page and row."""
    page = selectors.ledger_entry_page(entry, page_size=PAGE_SIZE)
    url = reverse("billing:statement", args=[entry.account_id])
    return f"{url}?page={page}#entry-{entry.pk}"


def _post_money(request, pk, form_name, form_class, record, done):
    account = _customer_account(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            entry = record(account, form.cleaned_data)
        except services.TopupDuplicate as exc:
            form.add_error("external_reference", "Already credited: see the original above.")
            form.duplicate_of = exc.original
            form.duplicate_url = _entry_url(exc.original)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, done.format(amount=entry.amount, account=account))
            return redirect("billing:statement", pk=account.pk)
    return statement(request, pk, **{form_name: form})


@require_POST
@allow(is_finance)
def topup(request, pk):
    def record(account, data):
        return services.topup_record(
            account=account,
            amount=data["amount"],
            method=data["method"],
            external_reference=data["external_reference"],
            actor=request.user,
            idempotency_key=f"topup:form:{data['token']}",
        )

    done = "Top-up of {amount} recorded for {account}."
    return _post_money(request, pk, "topup_form", TopupForm, record, done)


@require_POST
@allow(is_finance)
def adjust(request, pk):
    def record(account, data):
        return services.adjustment_record(
            account=account,
            amount=data["amount"],
            reason=data["reason"],
            actor=request.user,
            idempotency_key=f"adjustment:{data['token']}",
        )

    done = "Adjustment of {amount} recorded for {account}."
    return _post_money(request, pk, "adjustment_form", AdjustmentForm, record, done)


@allow(is_finance)
def tax_rates(request):
    form = TaxRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rate = tax.tax_rate_set(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"VAT rate of {rate.country.name} set to {rate.rate}%.")
            return redirect("billing:tax_rates")
    return render(request, "billing/tax_rates.html", {"rates": selectors.tax_rates(), "form": form})
