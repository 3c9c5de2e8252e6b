"""The landing page and the per-role dashboards, which gather figures from every app."""

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts import permissions
from accounts import selectors as account_selectors
from billing import selectors as billing_selectors
from inventory import selectors as inventory_selectors
from resellers import selectors as reseller_selectors


def home(request):
    if request.user.is_authenticated:
        return dashboard(request)
    return render(request, "landing.html")


def dashboard(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if user.account_id is None:
        return render(request, "accounts/operations_only.html")
    if not user.account.is_active:
        return render(request, "accounts/suspended.html", status=403)
    for predicate, template, gather in DASHBOARDS:
        if predicate(user):
            context = {"account": user.account, **gather(request)}
            return render(request, template, context)
    return render(request, "accounts/operations_only.html")


def _platform_figures(request):
    # A count over the whole number table: cached briefly, as it grows to millions of rows.
    stock = cache.get_or_set("dashboard:stock_summary", inventory_selectors.stock_summary, 60)
    return {"counts": account_selectors.account_counts(), "stock": stock}


def _reseller_figures(request):
    user = request.user
    signup_path = reverse("accounts:signup_reseller", args=[user.account.signup_code])
    return {
        "figures": reseller_selectors.reseller_figures(user),
        "customers": account_selectors.customer_accounts_for(user)[:5],
        "signup_url": request.build_absolute_uri(signup_path),
        "may_buy": permissions.may_buy(user),
        "can_create": permissions.administers_customers(user),
        "sees_money": permissions.handles_customer_money(user),
    }


def _customer_figures(request):
    return {
        "team_size": account_selectors.team_for(request.user).count(),
        "balance": billing_selectors.balance_for(request.user.account),
        "may_buy": permissions.may_buy(request.user),
        "min_purchase_balance": settings.MIN_PURCHASE_BALANCE,
    }


DASHBOARDS = [
    (permissions.is_platform_admin, "dashboards/platform_admin.html", _platform_figures),
    (permissions.is_finance, "dashboards/finance.html", _platform_figures),
    (permissions.is_reseller, "dashboards/reseller.html", _reseller_figures),
    (permissions.is_customer, "dashboards/customer.html", _customer_figures),
]
