"""The Payments page: one place for the people who collect money, with what needs them."""

from django.shortcuts import render
from django.urls import path

from accounts.permissions import allow, collects_money

from .models import collector_of
from .selectors_home import payments_summary
from .stripe_api import keys_for


@allow(collects_money)
def payments_home(request):
    seller = collector_of(request.user)
    context = {
        "summary": payments_summary(seller),
        "takes_cards": keys_for(seller) is not None,
        "currency": seller.currency,
    }
    return render(request, "payments/home.html", context)


urlpatterns = [path("", payments_home, name="home")]
