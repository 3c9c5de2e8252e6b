"""Stripe's webhook endpoints: the platform's, and one per reseller with its own keys."""

from django.http import Http404, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Account

from .models import StripeKeys
from .services.webhooks import webhook_receive, webhook_refuse

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
        raise Http404("No such webhook.")
    return _receive(request, keys.account)


urlpatterns = [
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    path("stripe/webhook/<str:token>/", stripe_webhook_seller, name="stripe_webhook_seller"),
]
