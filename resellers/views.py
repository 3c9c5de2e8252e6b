"""The reseller's console: a customer's statement and top-ups, its numbers, orders and
invoices, and buying numbers on its behalf.

Every page starts from ``selectors.customer_for`` (a customer of the user's reseller
account, else 404) and checks the object rule in ``accounts.permissions``: the reseller's
admins and support look after numbers and orders (``may_serve_customer``); its admins and
finance the money (``may_see_customer_money``, ``may_record_topup_for``).
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.codes import confirmation_code_send
from accounts.permissions import (
    allow,
    customer_rights,
    is_reseller,
    may_record_topup_for,
    may_see_customer_money,
    may_serve_customer,
)
from accounts.throttles import client_ip
from billing import services as billing_services
from cart import orders
from cart.forms import agreed_requirements
from cart.models import CartItem
from cart.pricing import line_quote
from compliance.selectors import requirements_for_blocks
from compliance.selectors_checkout import policy_deadline_days, registration_outlooks
from didportal.csv_export import csv_download
from didportal.forms import parse_id

from . import selectors
from .forms import BlockSearch, BuyForm, CustomerTopupForm, NumbersQuery, new_token

PAGE_SIZE = 25


def _customer(request, pk, rule):
    customer = selectors.customer_for(request.user, pk)
    if not rule(request.user, customer):
        raise PermissionDenied("Your role does not give access to this page.")
    return customer


def _render(request, template, customer, tab, context, status=200):
    rights = customer_rights(request.user, customer)
    context = {"customer": customer, "tab": tab, "rights": rights, **context}
    return render(request, template, context, status=status)


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


# --- Money: statement and top-ups -----------------------------------------------------------


@allow(is_reseller)
def statement(request, pk, topup_form=None):
    customer = _customer(request, pk, may_see_customer_money)
    context = {
        **selectors.customer_summary(customer),
        "page": _page(request, selectors.customer_ledger(request.user, customer)),
        "topup_form": topup_form or CustomerTopupForm(),
    }
    return _render(request, "resellers/statement.html", customer, "statement", context)


@allow(is_reseller)
def statement_export(request, pk):
    customer = _customer(request, pk, may_see_customer_money)
    rows = (
        selectors.customer_ledger(request.user, customer)
        .order_by("pk")
        .values_list(
            "created_at", "kind", "description", "external_reference", "amount", "balance_after"
        )
        .iterator(chunk_size=2000)
    )
    header = ["date", "kind", "description", "reference", "amount", "balance_after"]
    filename = f"statement-{customer.pk}-{timezone.localdate():%Y%m%d}.csv"
    return csv_download(filename, header, rows)


@require_POST
@allow(is_reseller)
def topup(request, pk):
    customer = _customer(request, pk, may_record_topup_for)
    form = CustomerTopupForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = billing_services.topup_record(
                account=customer,
                amount=data["amount"],
                method=data["method"],
                external_reference=data["external_reference"],
                actor=request.user,
                idempotency_key=f"topup:form:{data['token']}",
            )
        except billing_services.TopupDuplicate as exc:
            # Only a top-up of this customer is shown; another account's stays unnamed.
            if exc.original.account_id == customer.pk:
                when = timezone.localtime(exc.original.created_at)
                message = f"Already credited on {when:%d %b %Y %H:%M}: nothing was credited."
            else:
                message = "This reference was already used: nothing was credited."
            form.add_error("external_reference", message)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, f"Top-up of {entry.amount} {customer.currency} recorded for {customer}."
            )
            return redirect("resellers:statement", pk=customer.pk)
    return statement(request, pk, topup_form=form)


# --- Numbers, orders, invoices --------------------------------------------------------------


@allow(is_reseller)
def numbers(request, pk):
    customer = _customer(request, pk, may_serve_customer)
    search = NumbersQuery(request.GET).values()["q"]
    found = selectors.customer_numbers(request.user, customer, search=search)
    context = {"page": _page(request, found), "q": search}
    return _render(request, "resellers/numbers.html", customer, "numbers", context)


def _may_see_orders(user, customer):
    return may_serve_customer(user, customer) or may_see_customer_money(user, customer)


@allow(is_reseller)
def order_list(request, pk):
    customer = _customer(request, pk, _may_see_orders)
    page = _page(request, selectors.customer_orders(request.user, customer))
    return _render(request, "resellers/orders.html", customer, "orders", {"page": page})


@allow(is_reseller)
def invoices(request, pk):
    customer = _customer(request, pk, may_see_customer_money)
    page = _page(request, selectors.customer_invoices(request.user, customer))
    return _render(request, "resellers/invoices.html", customer, "invoices", {"page": page})


# --- Buying on the customer's behalf --------------------------------------------------------


@allow(is_reseller)
def buy(request, pk):
    """Step 1: choose a block (search by country or city). Step 2 (``?block=``): how many,
    channels and period, then the customer's price and balance; POST places the order,
    paid from the customer's balance at its retail price."""
    customer = _customer(request, pk, may_serve_customer)
    block_id = parse_id(request.GET.get("block", ""))
    if block_id is None:
        search = BlockSearch(request.GET).values()["q"]
        context = {
            "q": search,
            "blocks": selectors.blocks_to_buy(search, viewer=customer),
            **selectors.customer_summary(customer),
        }
        return _render(request, "resellers/buy_blocks.html", customer, "buy", context)
    block = selectors.block_to_buy(block_id)
    posted = request.method == "POST"
    data = request.POST if posted else (request.GET if "quantity" in request.GET else None)
    form = BuyForm(data, block=block)
    context = {"area": block, "form": form, "errors": []}
    if form.is_valid():
        values = form.cleaned_data
        item = CartItem(
            block=block,
            quantity=values["quantity"],
            channels=values["channels"],
            billing_period=values["billing_period"],
        )
        if posted and request.POST.get("action") == "send_code":
            _send_code(request, values["token"])
        elif posted:
            try:
                order = orders.order_place(
                    user=request.user,
                    token=values["token"],
                    agreed=agreed_requirements(request.POST),
                    ip_address=client_ip(request),
                    code=request.POST.get("code", "").strip() or None,
                    for_account=customer,
                    items=[item],
                )
            except ValidationError as exc:
                context["errors"] = exc.messages
            else:
                _order_message(request, order, customer)
                return redirect("resellers:orders", pk=customer.pk)
        context.update(_review(request, customer, block, item, values))
    status = 400 if context["errors"] else 200
    return _render(request, "resellers/buy.html", customer, "buy", context, status=status)


def _review(request, customer, block, item, values):
    quote = line_quote(
        block=block,
        channels=item.channels,
        billing_period=item.billing_period,
        quantity=item.quantity,
        account=customer,
    )
    requirements = requirements_for_blocks([block])
    agreed = agreed_requirements(request.POST) if request.method == "POST" else {}
    outlooks = registration_outlooks(customer, [block])
    for requirement in requirements:
        requirement.agreed = requirement.pk in agreed
        requirement.registration = outlooks.get(requirement.pk)
    balance = selectors.customer_summary(customer)["balance"]
    return {
        "quote": quote,
        "balance": balance,
        "enough": balance >= quote.gross and balance >= settings.MIN_PURCHASE_BALANCE,
        "minimum": settings.MIN_PURCHASE_BALANCE,
        "requirements": requirements,
        "awaiting": [o for o in outlooks.values() if not o.covered],
        "policy_days": policy_deadline_days(outlooks.values()),
        "code_required": orders.code_required(quote.gross),
        "token": values["token"] or new_token(),
        "values": values,
    }


def _send_code(request, token):
    if not token:
        return
    try:
        confirmation_code_send(user=request.user, purpose=orders.checkout_purpose(token))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"We e-mailed a 6-digit code to {request.user.email}.")


def _order_message(request, order, customer):
    reference = order.reference
    if order.status == order.Status.FAILED:
        messages.error(request, f"Order {reference} for {customer} failed: nothing was charged.")
    else:
        messages.success(
            request,
            f"Order {reference} placed for {customer}: {order.gross} {order.currency} "
            "charged to its balance.",
        )
