"""Checkout and orders: the checkout page, its transaction code, the confirmation, order
lists for customers and platform admins.

The checkout form carries a one-time token kept in the session until an order is placed
with it: a double click, a refresh or a retry posts the same token and ``order_place``
returns the same order.
"""

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.codes import confirmation_code_send
from accounts.permissions import allow, holds_numbers, is_platform_staff, may_fund_balance
from accounts.throttles import client_ip
from payments.stripe_api import card_payments_enabled_for

from . import orders
from . import selectors_orders as selectors
from .forms import OrdersQuery, agreed_requirements

TOKEN_KEY = "checkout_token"  # noqa: S105 (a session key name, not a secret)
PAGE_SIZE = 25


def _token(request):
    token = request.session.get(TOKEN_KEY)
    if not token:
        token = request.session[TOKEN_KEY] = secrets.token_urlsafe(24)
    return token


@allow(holds_numbers)
def checkout(request):
    errors, refusal = [], None
    if request.method == "POST":
        try:
            order = orders.order_place(
                user=request.user,
                token=request.POST.get("token", ""),
                agreed=agreed_requirements(request.POST),
                ip_address=client_ip(request),
                code=request.POST.get("code", "").strip() or None,
            )
        except orders.CheckoutRefused as exc:
            refusal = exc
        except ValidationError as exc:
            errors = exc.messages
        else:
            request.session.pop(TOKEN_KEY, None)
            return redirect("cart:order_complete", pk=order.pk)
    page = selectors.checkout_page(request.user, agreed=agreed_requirements(request.POST))
    if not page.cart.lines:
        return redirect("cart:cart")
    refusal = refusal or page.refusal
    context = {
        "page": page,
        "token": _token(request),
        "errors": errors,
        "refusal": refusal,
        "pay_by_card": refusal is not None and _pays_by_card(request.user),
    }
    return render(request, "cart/checkout.html", context, status=400 if errors else 200)


def _pays_by_card(user):
    return may_fund_balance(user) and card_payments_enabled_for(user.account)


@require_POST
@allow(holds_numbers)
def checkout_code(request):
    try:
        confirmation_code_send(user=request.user, purpose=orders.checkout_purpose(_token(request)))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"We e-mailed a 6-digit code to {request.user.email}. It works for 10 minutes."
        )
    return redirect("cart:checkout")


@allow(holds_numbers)
def order_complete(request, pk):
    order = selectors.order_for(request.user, pk)
    return render(request, "cart/order_complete.html", {"order": order})


@allow(holds_numbers)
def order_list(request):
    # The account's own orders (a reseller's customers' are on each customer's page).
    own = selectors.orders_for(request.user).filter(account_id=request.user.account_id)
    page = Paginator(own, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cart/order_list.html", {"page": page})


@allow(holds_numbers, is_platform_staff)
def order_detail(request, pk):
    order = selectors.order_for(request.user, pk)
    return render(request, "cart/order_detail.html", {"order": order})


@allow(is_platform_staff)
def orders_admin(request):
    query = OrdersQuery(request.GET).values()
    search, status = query["q"], query["status"]
    found = selectors.orders_for(request.user, search=search, status=status)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "q": search, "status": status, "statuses": orders.Order.Status}
    return render(request, "cart/orders_admin.html", context)
