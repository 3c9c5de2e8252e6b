"""The platform's resellers: list (platform staff), create, discount, suspend (platform admins).

Top-ups for a reseller are recorded by finance on the balances pages (``billing:statement``),
as for any account; the detail page links there.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import ResellerCreateForm, ResellerDiscountForm, ResellerListQuery
from .models import Account
from .permissions import allow, is_platform_admin, is_platform_staff
from .scoping import get_scoped_or_404
from .views import form_errors_to

PAGE_SIZE = 25


@allow(is_platform_staff)
def reseller_list(request):
    search = ResellerListQuery(request.GET).values()["q"]
    page = Paginator(selectors.resellers_for(request.user, search=search), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "q": search, "can_create": is_platform_admin(request.user)}
    return render(request, "accounts/reseller_list.html", context)


@allow(is_platform_admin)
def reseller_create(request):
    form = ResellerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reseller = services.reseller_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            email = form.cleaned_data["admin_email"]
            messages.success(request, f"Reseller created; an invitation went to {email}.")
            return redirect("accounts:reseller_detail", pk=reseller.pk)
    return render(request, "accounts/reseller_form.html", {"form": form, "title": "New reseller"})


def _detail(request, reseller, discount_form=None, status=200):
    context = {
        "reseller": reseller,
        "users": reseller.users.order_by("email"),
        "customers": reseller.children.order_by("name", "pk")[:50],
        "entries": reseller.ledger_entries.order_by("-pk")[:10],
        "history": selectors.account_changes(reseller)[:20],
        "can_change": is_platform_admin(request.user),
        "discount_form": discount_form
        or ResellerDiscountForm(initial={"wholesale_discount": reseller.wholesale_discount}),
    }
    return render(request, "accounts/reseller_detail.html", context, status=status)


@allow(is_platform_staff)
def reseller_detail(request, pk):
    return _detail(request, selectors.reseller_for(request.user, pk))


def _reseller(request, pk):
    return get_scoped_or_404(
        Account.objects.filter(kind=Account.Kind.RESELLER), request.user, pk=pk
    )


@require_POST
@allow(is_platform_admin)
def reseller_discount(request, pk):
    reseller = _reseller(request, pk)
    form = ResellerDiscountForm(request.POST)
    if form.is_valid():
        try:
            reseller = services.reseller_discount_set(
                actor=request.user,
                reseller=reseller,
                discount=form.cleaned_data["wholesale_discount"],
            )
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            messages.success(
                request, f"{reseller}'s wholesale discount is now {reseller.wholesale_discount}%."
            )
            return redirect("accounts:reseller_detail", pk=reseller.pk)
    return _detail(
        request, selectors.reseller_for(request.user, pk), discount_form=form, status=400
    )


@require_POST
@allow(is_platform_admin)
def reseller_status(request, pk):
    reseller = _reseller(request, pk)
    status = request.POST.get("status", "")
    try:
        reseller = services.reseller_status_set(
            actor=request.user, reseller=reseller, status=status
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{reseller} is now {reseller.get_status_display().lower()}.")
    return redirect("accounts:reseller_detail", pk=reseller.pk)
