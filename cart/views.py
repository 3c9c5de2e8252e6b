"""The cart: adding from the catalog, the add-to-cart panel and the cart page (checkout,
orders: ``views_checkout``).

The panel is an htmx swap into a Bootstrap modal on the number search; without JavaScript
the same panel is a page of its own (``cart:added``), reached by redirect after the POST.
"""

from urllib.parse import urlencode, urlparse

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.permissions import allow, holds_numbers
from didportal.forms import add_service_errors
from didportal.redirects import safe_redirect_target

from . import selectors, services
from .forms import AddAnyForm, CartItemForm, PanelQuery

SEARCH_HOME = "/numbers/"
PENDING_PICKS = "cart_pending_picks"  # session key: a visitor's picks while they sign in


# --- helpers ---------------------------------------------------------------------------------


def _safe_url(request, url, default=SEARCH_HOME):
    return safe_redirect_target(request, url, default)


def _back_to_search(request):
    """The search page the visitor came from."""
    return _safe_url(request, request.POST.get("next", ""))


def _picks(post):
    """What the catalog's add forms ask for: specific numbers, or any N of one block."""
    return {
        "action": post.get("action", ""),
        "numbers": post.getlist("numbers"),
        "block": post.get("block", ""),
        "quantity": post.get("quantity", ""),
    }


def _errors(exc):
    """A ValidationError's messages, flat (the services' messages name their field)."""
    if hasattr(exc, "error_dict"):
        return [message for field in exc.message_dict.values() for message in field]
    return exc.messages


def _with_forms(view, override=None):
    for line in view.lines:
        line.form = None
        if line.state != "gone":
            line.form = (override if override and override.item.pk == line.item.pk else None) or (
                CartItemForm(item=line.item)
            )
    return view


# --- the panel -------------------------------------------------------------------------------


def _panel_context(request, item_ids, *, back, errors=(), unavailable=(), limits=(), override=None):
    return {
        "view": _with_forms(selectors.cart_view(request.user, item_ids=item_ids), override),
        "item_ids": ",".join(str(pk) for pk in item_ids),
        "back": back,
        "errors": errors,
        "unavailable": unavailable,
        "limits": limits,
    }


def _current_path(request):
    """The path of the page an htmx request comes from ("" when unknown)."""
    return urlparse(request.htmx.current_url or "").path


def _panel_url(item_ids, back):
    query = urlencode({"items": ",".join(str(pk) for pk in item_ids), "back": back})
    return f"{reverse('cart:added')}?{query}"


def _panel_response(
    request, item_ids, *, back, errors=(), unavailable=(), limits=(), override=None
):
    """The panel: swapped into the modal for htmx, else the panel page (after a redirect,
    carrying the warnings as messages)."""
    if request.htmx:
        context = _panel_context(
            request,
            item_ids,
            back=back,
            errors=errors,
            unavailable=unavailable,
            limits=limits,
            override=override,
        )
        in_modal = not _current_path(request).startswith(reverse("cart:added"))
        return render(request, "cart/_panel.html", {**context, "in_modal": in_modal})
    if override is not None:  # a form with errors is shown as it was filled in
        context = _panel_context(request, item_ids, back=back, override=override)
        return render(request, "cart/added.html", context)
    for error in errors:
        messages.error(request, error)
    if unavailable:
        messages.warning(request, f"No longer available: {', '.join(unavailable)}.")
    for limit in limits:
        messages.warning(request, limit)
    return redirect(_panel_url(item_ids, back))


@require_POST
def add(request):
    """The catalog's "Add selected to cart" and "Add any numbers from this area"."""
    if not request.user.is_authenticated:
        return _sign_in_first(request)
    return _add_for_customer(request, _picks(request.POST), back=_back_to_search(request))


def _sign_in_first(request):
    """A visitor's picks wait in the session while they sign in (or sign up: the sign-in
    page passes ``next`` on); ``add_pending`` adds them afterwards."""
    request.session[PENDING_PICKS] = {**_picks(request.POST), "back": _back_to_search(request)}
    messages.info(request, "Sign in or create an account to add numbers to your cart.")
    login = redirect_to_login(reverse("cart:add_pending"))
    return HttpResponseClientRedirect(login.url) if request.htmx else login


@require_GET
def add_pending(request):
    """Where sign-in and sign-up return to: adds the picks a visitor made before, then
    shows the panel page (or the cart when nothing is waiting, e.g. on a reload)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    picks = request.session.pop(PENDING_PICKS, None)
    if not isinstance(picks, dict):
        return redirect("cart:cart")
    return _add_for_customer(request, picks, back=_safe_url(request, picks.get("back", "")))


@allow(holds_numbers)
def _add_for_customer(request, picks, *, back):
    try:
        if picks["action"] == "any" or (picks["block"] and not picks["numbers"]):
            form = AddAnyForm(picks)
            if not form.is_valid():
                raise ValidationError(form.errors)
            result = services.cart_add_any(user=request.user, **form.cleaned_data)
        else:
            result = services.cart_add_numbers(user=request.user, numbers=picks["numbers"])
    except ValidationError as exc:
        return _panel_response(request, [], back=back, errors=_errors(exc))
    except PermissionDenied as exc:  # a member whose admin has not allowed buying, say
        return _panel_response(request, [], back=back, errors=[str(exc)])
    item_ids = [item.pk for item in result.items]
    return _panel_response(
        request, item_ids, back=back, unavailable=result.unavailable, limits=result.limits
    )


@allow(holds_numbers)
def added(request):
    """The panel as a page of its own (no JavaScript, or a reload)."""
    query = PanelQuery(request.GET).values()
    back = _safe_url(request, query["back"])
    context = _panel_context(request, query["items"][:100], back=back)
    return render(request, "cart/added.html", context)


# --- the cart page ---------------------------------------------------------------------------


def _cart_page(request, override=None, status=200):
    view = _with_forms(selectors.cart_view(request.user), override)
    context = {"view": view, "allowance": selectors.package_allowance(request.user)}
    return render(request, "cart/cart.html", context, status=status)


@allow(holds_numbers)
def cart(request):
    return _cart_page(request)


def _return_to(request):
    """Where a change made from the panel or the cart page goes back to."""
    if request.POST.get("return") == "panel":
        query = PanelQuery(request.POST).values()
        return "panel", query["items"][:100], _safe_url(request, query["back"])
    return "cart", None, None


@allow(holds_numbers)
@require_POST
def item_update(request, pk):
    item = selectors.cart_item_for(request.user, pk)
    form = CartItemForm(request.POST, item=item)
    if form.is_valid():
        try:
            services.cart_item_update(user=request.user, item_id=item.pk, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
    target, item_ids, back = _return_to(request)
    override = form if form.errors else None
    if target == "panel":
        return _panel_response(request, item_ids, back=back, override=override)
    if override is not None:
        return _cart_page(request, override=override)
    return redirect("cart:cart")


@allow(holds_numbers)
@require_http_methods(["GET", "POST"])
def item_remove(request, pk):
    """GET asks for confirmation; POST removes the line (and ends its number's hold)."""
    item = selectors.cart_item_for(request.user, pk)
    if request.method == "GET":
        return render(
            request,
            "cart/confirm.html",
            {
                "title": f"Remove {item} from your cart?",
                "text": "Its number is released for others to buy." if item.did_id else "",
                "action": reverse("cart:item_remove", args=[item.pk]),
                "button": "Remove",
            },
        )
    removed = services.cart_item_remove(user=request.user, item_id=item.pk)
    target, item_ids, back = _return_to(request)
    if target == "panel":
        remaining = [pk for pk in item_ids if pk != removed.pk]
        return _panel_response(request, remaining, back=back)
    messages.success(request, f"Removed {removed} from your cart.")
    return redirect("cart:cart")


@require_POST
@allow(holds_numbers)
def drop(request):
    """The panel's close button: the lines just added leave the cart again."""
    _, item_ids, back = _return_to(request)
    services.cart_items_drop(user=request.user, item_ids=item_ids)
    if request.htmx:  # the modal closes itself; the badge is swapped out of band
        return render(request, "cart/_badge.html", {"oob": True})
    return redirect(back)


@allow(holds_numbers)
@require_http_methods(["GET", "POST"])
def clear(request):
    """GET asks for confirmation; POST empties the cart and releases its numbers."""
    if request.method == "GET":
        return render(
            request,
            "cart/confirm.html",
            {
                "title": "Clear your cart?",
                "text": "Every line is removed and the numbers held for you are released.",
                "action": reverse("cart:clear"),
                "button": "Clear cart",
            },
        )
    count = services.cart_clear(user=request.user)
    messages.success(
        request, f"Your cart is empty ({count} line{'s' if count != 1 else ''} removed)."
    )
    return redirect("cart:cart")


@allow(holds_numbers)
@require_POST
def hold_again(request):
    """Hold every number of the cart again for CART_HOLD_MINUTES (within the hold limits)."""
    result = services.cart_holds_renew(user=request.user)
    if result.lost:
        lost = ", ".join(result.lost)
        messages.warning(request, f"No longer available: {lost}. Remove them to go on.")
    for limit in result.limits:
        messages.warning(request, limit)
    if not (result.lost or result.limits):
        messages.success(request, "Your numbers are held for you again.")
    return redirect("cart:cart")
