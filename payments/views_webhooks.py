"""Stripe's webhook endpoints: the platform's, and one per reseller with its own keys."""

import logging

from django.http import Http404, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Account

from .models import StripeKeys
from .services.webhooks import webhook_receive

logger = logging.getLogger(__name__)

# Stripe's events are a few kilobytes; anything far larger is not from Stripe.
MAX_WEBHOOK_BYTES = 256 * 1024


def _receive(request, seller):
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_WEBHOOK_BYTES:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    result = webhook_receive(
        seller=seller,
        payload=request.body,
        signature=request.headers.get("Stripe-Signature", ""),
    )
    status = 400 if result.refused else 200
    return HttpResponse(result.outcome, status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def stripe_webhook(request):
    return _receive(request, Account.objects.get(kind=Account.Kind.PLATFORM))


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
