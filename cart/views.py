"""The cart. For now only the landing point of the catalog's "Add to cart" buttons: it signs
visitors in and shows the chosen numbers ready for the cart (the cart itself comes next)."""

from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.permissions import allow, is_customer
from catalog import selectors as catalog_selectors


def _back_to_search(request):
    """The search page the visitor came from, with their picks ticked, for after sign-in."""
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/numbers/"
    picks = urlencode([("selected", n) for n in request.POST.getlist("numbers")])
    separator = "&" if "?" in next_url else "?"
    return f"{next_url}{separator}{picks}" if picks else next_url


@require_POST
def add(request):
    if not request.user.is_authenticated:
        return redirect_to_login(_back_to_search(request))
    return _add_for_customer(request)


@allow(is_customer)
def _add_for_customer(request):
    wanted = request.POST.getlist("numbers")
    available = list(catalog_selectors.buyable_numbers(wanted))
    gone = sorted(set(wanted) - {did.number for did in available})
    context = {
        "available": available,
        "gone": gone,
        "quantity": request.POST.get("quantity"),
        "back": _back_to_search(request),
    }
    return render(request, "cart/selection.html", context)
