"""The customer's card top-up: the amount form, the way back from the payment page (paid,
or canceled), and the status the return page polls.

The amount, currency and account of a payment are the server's (``card_checkout_start``);
the success and cancel URLs are built from our own routes on the host the customer is on.
The form carries a one-time token: the first POST with it claims it in the cache, a
second (a double click) waits for the first's answer and is sent to the same payment page.
"""

import time
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from accounts.permissions import allow, holds_numbers, may_fund_balance
from billing.selectors import balance_for
from cart import selectors_orders as checkout_selectors
from didportal.forms import add_service_errors

from . import selectors_card as selectors
from . import stripe_api
from .forms_card import CardTopupForm, CardTopupQuery, presets
from .models import CardPayment
from .services import card

Status = CardPayment.Status
ReturnTo = CardPayment.ReturnTo
TOKEN_SECONDS = 15 * 60
TOKEN_WAIT_SECONDS = 10
PENDING = "pending"
# An open payment older than this is "taking longer than usual" on the return page.
SLOW = timedelta(minutes=5)
# Shown in a URL where the payment's id goes once it exists (``card_checkout_start``).
ID_SLOT = 987654321987


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


def _payment_url(request, name):
    """Our absolute URL ``name`` for the payment to come, on the host the customer is on
    (checked against the allowed hosts), with ``{payment}`` for its id."""
    url = request.build_absolute_uri(reverse(name, kwargs={"pk": ID_SLOT}))
    return url.replace(str(ID_SLOT), "{payment}")


def _checkout_shortfall(user):
    """What the user's cart still lacks, recomputed here (never taken from the browser);
    None when there is no cart or the balance covers it."""
    if not holds_numbers(user):
        return None
    page = checkout_selectors.checkout_page(user)
    refusal = page.refusal if page.cart.lines else None
    return refusal.shortfall if refusal is not None else None


def _card_enabled(account):
    if not stripe_api.card_payments_enabled_for(account):
        raise Http404("Card payments are not available for this account.")


@allow(may_fund_balance)
def card_topup(request):
    account = request.user.account
    _card_enabled(account)
    limits = {
        "minimum": card.topup_minimum(account),
        "maximum": settings.CARD_TOPUP_MAXIMUM,
        "currency": account.currency,
    }
    if request.method == "POST":
        form = CardTopupForm(request.POST, **limits)
        if form.is_valid():
            response = _start(request, form)
            if response is not None:
                return response
        return_to = form.cleaned_data.get("return_to") or ReturnTo.BALANCE
    else:
        query = CardTopupQuery(request.GET).values()
        return_to = query["return_to"] or ReturnTo.BALANCE
        form = None
    shortfall = _checkout_shortfall(request.user) if return_to == ReturnTo.CHECKOUT else None
    offered = presets(minimum=limits["minimum"], maximum=limits["maximum"], shortfall=shortfall)
    if form is None:
        # The checkout's shortfall is the server's; a suggested amount only fills the field
        # otherwise (a "try again" link).
        suggested = None if shortfall else query["amount"]
        amount = suggested or (offered[0] if offered else None)
        form = CardTopupForm(initial={"amount": amount, "return_to": return_to}, **limits)
    context = {
        "form": form,
        "presets": offered,
        "shortfall": shortfall,
        "return_to": return_to,
        "hold_minutes": settings.CARD_PAYMENT_HOLD_MINUTES,
        "balance": balance_for(account),
        **limits,
    }
    response = render(
        request, "payments/card_topup.html", context, status=400 if form.errors else 200
    )
    # The form posts here and is sent on to the payment page: the policy's form-action
    # covers that redirect too.
    response._csp_update = {"form-action": [settings.STRIPE_CHECKOUT_ORIGIN]}
    return response


def _start(request, form):
    """Open the payment and send the customer to the payment page; None (with the reason on
    the form) when it cannot be opened."""
    data = form.cleaned_data
    key = f"payments:card-form:{request.user.pk}:{data['token']}"
    if not cache.add(key, PENDING, timeout=TOKEN_SECONDS):
        return _repeated(form, key)
    try:
        started = card.card_checkout_start(
            user=request.user,
            amount=data["amount"],
            success_url=_payment_url(request, "payments:card_return"),
            cancel_url=_payment_url(request, "payments:card_canceled"),
            return_to=data["return_to"],
            save_card=data["save_card"],
        )
    except ValidationError as exc:
        add_service_errors(form, exc, field=None)
        cache.set(key, {"errors": exc.messages}, timeout=TOKEN_SECONDS)
        return None
    except stripe_api.PaymentProviderError as exc:
        form.add_error(None, exc.message)
        cache.set(key, {"errors": [exc.message]}, timeout=TOKEN_SECONDS)
        return None
    cache.set(key, {"url": started.redirect_url}, timeout=TOKEN_SECONDS)
    if started.held_until is not None:
        messages.info(
            request,
            f"The numbers in your cart are held until "
            f"{timezone.localtime(started.held_until):%H:%M} while you pay.",
        )
    return HttpResponseSeeOther(started.redirect_url)


def _repeated(form, key):
    """The same form posted again while (or after) the first post opened its payment."""
    deadline = time.monotonic() + TOKEN_WAIT_SECONDS
    result = cache.get(key)
    while result == PENDING and time.monotonic() < deadline:
        time.sleep(0.2)
        result = cache.get(key)
    if isinstance(result, dict) and result.get("url"):
        return HttpResponseSeeOther(result["url"])
    for message in (result or {}).get("errors", []) if isinstance(result, dict) else []:
        form.add_error(None, message)
    if not form.errors:
        form.add_error(None, "This payment is already being opened: wait a moment and reload.")
    return None


def _status_context(payment):
    return {
        "payment": payment,
        "balance": balance_for(payment.account) if payment.status == Status.PAID else None,
        "slow": timezone.now() - payment.created_at > SLOW,
        "retry_query": urlencode({"return_to": payment.return_to, "amount": payment.amount}),
    }


@allow(may_fund_balance)
def card_return(request, pk):
    payment = selectors.card_payment_for(request.user, pk)
    return render(request, "payments/card_return.html", _status_context(payment))


@allow(may_fund_balance)
def card_status(request, pk):
    """The return page's status box, polled while the payment is open; once it is not,
    the whole page is reloaded (it shows the outcome, and may go back to checkout)."""
    payment = selectors.card_payment_for(request.user, pk)
    if payment.status != Status.OPEN:
        return HttpResponse(status=200, headers={"HX-Refresh": "true"})
    return render(request, "payments/_card_status.html", _status_context(payment))


@allow(may_fund_balance)
def card_canceled(request, pk):
    """Where the payment page's cancel link leads: nothing was charged."""
    payment = selectors.card_payment_for(request.user, pk)
    payment = card.card_checkout_cancel(user=request.user, payment_id=payment.pk)
    if payment.status == Status.PAID:
        return redirect("payments:card_return", pk=payment.pk)
    return render(request, "payments/card_canceled.html", _status_context(payment))


urlpatterns = [
    path("card/", card_topup, name="card_topup"),
    path("card/<int:pk>/return/", card_return, name="card_return"),
    path("card/<int:pk>/status/", card_status, name="card_status"),
    path("card/<int:pk>/canceled/", card_canceled, name="card_canceled"),
]
