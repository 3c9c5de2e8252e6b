"""Stripe's webhook endpoints (the platform's, and one per reseller with its own keys),
and the finance pages that show what they did."""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Account
from accounts.permissions import allow, collects_money
from didportal.forms import add_service_errors

from . import selectors_webhooks as selectors
from .forms_webhooks import CardPaymentsQuery, ClaimSettleForm, ClaimsQuery, EventsQuery
from .models import StripeKeys, collector_of
from .services.webhooks import balance_claim_settle, webhook_receive, webhook_refuse

logger = logging.getLogger(__name__)

# Stripe's events are a few kilobytes; anything far larger is not from Stripe.
MAX_WEBHOOK_BYTES = 256 * 1024


def _receive(request, seller):
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isascii() or not length.isdigit():
        webhook_refuse(seller=seller, detail="body: the Content-Length is not a number")
        return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
    # A large body is refused by its announced length, before it is read.
    too_large = int(length) > MAX_WEBHOOK_BYTES
    payload = b"" if too_large else request.read(MAX_WEBHOOK_BYTES + 1)
    if too_large or len(payload) > MAX_WEBHOOK_BYTES:
        webhook_refuse(seller=seller, detail=f"body: too large (over {MAX_WEBHOOK_BYTES} bytes)")
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    result = webhook_receive(
        seller=seller,
        payload=payload,
        signature=request.headers.get("Stripe-Signature", "")[:2000],
    )
    status = 400 if result.refused else 200
    return HttpResponse(result.outcome, status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def stripe_webhook(request):
    platform = Account.objects.filter(kind=Account.Kind.PLATFORM).first()
    if platform is None:
        raise Http404("No platform account yet.")
    return _receive(request, platform)


@csrf_exempt
@require_POST
def stripe_webhook_seller(request, token):
    keys = StripeKeys.objects.select_related("account").filter(webhook_token=token).first()
    if keys is None:
        # A mistyped URL, or a reseller's endpoint still calling after its keys were removed.
        logger.warning("refused a call to an unknown webhook URL (token %.6s…)", token)
        raise Http404("No such webhook.")
    return _receive(request, keys.account)


urlpatterns = [
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    path("stripe/webhook/<str:token>/", stripe_webhook_seller, name="stripe_webhook_seller"),
]


# --- Finance pages: card payments, the webhook log, balance claims -----------------------
# The platform's finance staff see what the platform collected; a reseller's admins and
# finance members what its own Stripe account collected. Another seller's id is a 404.

PAGE_SIZE = 25


def _seller(request):
    return collector_of(request.user)


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@allow(collects_money)
def card_payments(request):
    form = CardPaymentsQuery(request.GET)
    query = form.values()
    rows = selectors.card_payments_for(
        _seller(request),
        status=query["status"],
        search=query["q"],
        date_from=query["date_from"],
        date_to=query["date_to"],
    )
    context = {"form": form, "page": _page(request, rows), "filtered": any(query.values())}
    return render(request, "payments/webhooks_payments.html", context)


@allow(collects_money)
def card_payment(request, pk):
    payment = selectors.card_payment_of(_seller(request), pk)
    if payment is None:
        raise Http404("No such card payment.")
    context = {
        "payment": payment,
        "events": selectors.events_for(_seller(request), payment=payment)[:200],
        "claims": payment.claims.order_by("-pk"),
    }
    return render(request, "payments/webhooks_payment.html", context)


@allow(collects_money)
def webhook_events(request):
    form = EventsQuery(request.GET)
    query = form.values()
    rows = selectors.events_for(_seller(request), outcome=query["outcome"])
    context = {"form": form, "page": _page(request, rows), "filtered": bool(query["outcome"])}
    return render(request, "payments/webhooks_events.html", context)


@allow(collects_money)
def balance_claims(request):
    form = ClaimsQuery(request.GET)
    state = form.values()["state"]
    rows = selectors.claims_for(_seller(request), state=state)
    context = {"form": form, "state": state, "page": _page(request, rows)}
    return render(request, "payments/webhooks_claims.html", context)


@require_http_methods(["GET", "POST"])
@allow(collects_money)
def balance_claim(request, pk):
    seller = _seller(request)
    claim = selectors.claim_of(seller, pk)
    if claim is None:
        raise Http404("No such claim.")
    form = ClaimSettleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            balance_claim_settle(
                claim_id=claim.pk, seller=seller, user=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"The claim of {claim.amount} {claim.account.currency} on {claim.account} "
                "is settled.",
            )
            return redirect("payments:balance_claims")
    return render(request, "payments/webhooks_claim.html", {"claim": claim, "form": form})


urlpatterns += [
    path("finance/card-payments/", card_payments, name="card_payments"),
    path("finance/card-payments/<int:pk>/", card_payment, name="card_payment"),
    path("finance/webhook-log/", webhook_events, name="webhook_events"),
    path("finance/balance-claims/", balance_claims, name="balance_claims"),
    path("finance/balance-claims/<int:pk>/", balance_claim, name="balance_claim"),
]
