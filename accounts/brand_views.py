"""The brand editor (reseller admins), the public logo and stylesheet of a brand, and the
host registry page (platform admins)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import condition, require_GET, require_POST

from . import branding
from .brand_forms import BrandForm, BrandHostForm
from .models import Account, Brand, BrandHost
from .permissions import allow, is_platform_admin, is_reseller_admin
from .views import form_errors_to

PUBLIC_CACHE = "public, max-age=3600"


@allow(is_reseller_admin)
def brand_edit(request):
    account = request.user.account
    brand = branding.brand_get(account)
    initial = {field: getattr(brand, field) for field in branding.BRAND_FIELDS}
    form = BrandForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = request.FILES.get("logo")
        try:
            branding.brand_update(
                account=account,
                actor=request.user,
                logo=form.cleaned_data["logo"],
                logo_name=upload.name if upload else "",
                remove_logo=form.cleaned_data["remove_logo"],
                **form.brand_fields(),
            )
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            messages.success(request, "Brand saved: your customers see it from now on.")
            return redirect("accounts:brand")
    status = 400 if form.errors else 200
    context = {
        "form": form,
        "own_brand": branding.brand_of_reseller(account.pk),
        "hosts": BrandHost.objects.filter(account=account),
        "history": brand.history.select_related("history_user")[:10] if brand.pk else [],
    }
    return render(request, "accounts/brand_edit.html", context, status=status)


def _brand_or_404(pk):
    brand = Brand.objects.filter(account_id=pk, account__kind=Account.Kind.RESELLER).first()
    if brand is None:
        raise Http404("No such brand.")
    return brand


def _brand_etag(request, pk, **_):
    stamp = Brand.objects.filter(account_id=pk).values_list("updated_at", flat=True).first()
    return quote_etag(f"brand-{pk}-{int(stamp.timestamp() * 1000)}") if stamp else None


def _public(response, brand):
    response["Cache-Control"] = PUBLIC_CACHE
    response["Last-Modified"] = http_date(brand.updated_at.timestamp())
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@condition(etag_func=_brand_etag)
def brand_logo(request, pk):
    """A reseller's logo: public, like the brand itself."""
    brand = _brand_or_404(pk)
    if not brand.logo or brand.logo_content_type not in branding.LOGO_EXTENSIONS:
        raise Http404("This brand has no logo.")
    response = HttpResponse(bytes(brand.logo), content_type=brand.logo_content_type)
    response["Content-Disposition"] = "inline"
    return _public(response, brand)


@require_GET
@condition(etag_func=_brand_etag)
def brand_css(request, pk):
    """A brand's colour as a stylesheet (the Content-Security-Policy forbids inline style)."""
    brand = _brand_or_404(pk)
    colour = branding.colour_normalise(brand.primary_colour)  # checked again: goes into CSS
    css = (
        f":root {{ --portal-primary: {colour}; --bs-primary: {colour}; }}\n"
        f".bg-portal {{ background: {colour}; }}\n"
        f".btn-primary {{ --bs-btn-bg: {colour}; --bs-btn-border-color: {colour}; "
        f"--bs-btn-hover-bg: {colour}; --bs-btn-hover-border-color: {colour}; }}\n"
        f"a {{ --bs-link-color-rgb: inherit; }}\n"
    )
    return _public(HttpResponse(css, content_type="text/css; charset=utf-8"), brand)


@allow(is_platform_admin)
def brand_hosts(request, pk):
    """The host names a reseller's brand is served on: list, add."""
    reseller = get_object_or_404(Account, pk=pk, kind=Account.Kind.RESELLER)
    form = BrandHostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            brand_host = branding.brand_host_add(
                account=reseller, host=form.cleaned_data["host"], actor=request.user
            )
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            messages.success(request, f"{brand_host.host} now serves {reseller.name}'s brand.")
            return redirect("brand_hosts", pk=reseller.pk)
    context = {
        "reseller": reseller,
        "form": form,
        "hosts": BrandHost.objects.filter(account=reseller),
    }
    return render(request, "accounts/brand_hosts.html", context, status=400 if form.errors else 200)


@require_POST
@allow(is_platform_admin)
def brand_host_remove(request, pk, host_pk):
    brand_host = get_object_or_404(
        BrandHost, pk=host_pk, account_id=pk, account__kind=Account.Kind.RESELLER
    )
    branding.brand_host_remove(brand_host=brand_host, actor=request.user)
    messages.success(request, f"{brand_host.host} no longer serves this brand.")
    return redirect("brand_hosts", pk=pk)
