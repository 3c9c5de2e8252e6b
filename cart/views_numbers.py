"""My numbers: the customer's list of numbers and each number's page (destination, users,
channels, cancel).

Every user of a customer account sees its numbers. Admins change anything; members set
where calls go for the numbers assigned to them (and, when allowed to buy, their channels);
the services check it (``accounts.permissions``), the page only shows what applies. A
reseller's users see the reseller's own numbers the same way, and its admins and support
open its customers' numbers here to act for them (the account is the number's owner, never
the user's). An id of another account's number answers 404, from every view.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import (
    allow,
    holds_numbers,
    is_customer_admin,
    may_change_channels,
    may_manage_number,
    may_manage_numbers_of,
    may_provide_registration_for,
    require_may_manage_number,
)
from billing.selectors import balance_for
from billing.services import InsufficientBalance
from billing.services.capacity import (
    capacity_add,
    capacity_quote,
    capacity_reduce,
    capacity_reduce_plan,
    channel_price,
    number_rental_cancel,
    number_rental_keep,
)
from compliance.services.registrations import number_registration_cancel
from didportal.forms import add_service_errors
from didportal.htmx import render_page_or_results
from inventory.customer import did_destination_set, did_users_assign

from . import selectors_numbers as selectors
from .forms_numbers import AssignUsersForm, ChannelsForm, DestinationForm, MyNumbersFilterForm

# A service's field name → the form field that shows its message.
FIELD_OF = {"extra_channels": "channels"}


def _day(moment):
    return date_format(timezone.localtime(moment), "j M Y")


@allow(holds_numbers)
def my_numbers(request):
    form = MyNumbersFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.my_numbers_page(
        request.user,
        search=filters.get("q", ""),
        status=filters.get("status", ""),
        page=request.GET.get("page"),
    )
    context = {
        "filter_form": form,
        "page": page,
        "is_filtered": bool(filters.get("q") or filters.get("status")),
        "can_manage": may_manage_numbers_of(request.user, request.user.account),
    }
    return render_page_or_results(
        request, "cart/my_numbers.html", "cart/my_numbers_results.html", context
    )


def _acting_for(request, row):
    """The customer a reseller's user acts for on this number (None: the user's own)."""
    return row.did.owner if row.did.owner_id != request.user.account_id else None


def _detail(request, row, *, status=200, **forms):
    user, account = request.user, row.did.owner
    can = {
        "can_route": may_manage_number(user, row.did),
        "can_assign": is_customer_admin(user) and account.pk == user.account_id,
        "can_channels": may_change_channels(user, account, row.did),
        "can_cancel_rental": may_manage_numbers_of(user, account),
        # Awaiting registration: the account's own providers register or cancel it.
        "can_register": row.awaiting and may_provide_registration_for(user, account),
    }
    context = {
        "row": row,
        "did": row.did,
        "can_manage": any(can.values()),
        **can,
        "currency": account.currency,
        "acting_for": _acting_for(request, row),
    }
    if can["can_route"]:
        context["destination_form"] = forms.get("destination_form") or DestinationForm(did=row.did)
    if can["can_assign"]:
        context["users_form"] = forms.get("users_form") or AssignUsersForm(
            account=user.account, assigned=row.assigned
        )
    if can["can_channels"]:
        context["channels_form"] = forms.get("channels_form") or ChannelsForm(
            current=row.channels.total
        )
        context["channel_price"] = channel_price(row.rental) if row.can_add_channels else None
    return render(request, "cart/number_detail.html", context, status=status)


@allow(holds_numbers)
def my_number(request, pk):
    return _detail(request, selectors.my_number(request.user, pk))


@allow(holds_numbers)
@require_POST
def my_number_destination(request, pk):
    row = selectors.my_number(request.user, pk)
    require_may_manage_number(request.user, row.did)
    form = DestinationForm(request.POST)
    if form.is_valid():
        try:
            did_destination_set(did=row.did, actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc, renames=FIELD_OF)
        else:
            messages.success(request, f"Saved where calls to {row.did.number} go.")
            return redirect("cart:my_number", pk=row.did.pk)
    return _detail(request, row, destination_form=form)


@allow(is_customer_admin)
@require_POST
def my_number_users(request, pk):
    row = selectors.my_number(request.user, pk)
    form = AssignUsersForm(request.POST, account=request.user.account)
    if form.is_valid():
        try:
            users = did_users_assign(
                did=row.did, actor=request.user, users=form.cleaned_data["users"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc, renames=FIELD_OF)
        else:
            names = ", ".join(str(user) for user in users) or "nobody"
            messages.success(request, f"{row.did.number} is assigned to {names}.")
            return redirect("cart:my_number", pk=row.did.pk)
    return _detail(request, row, users_form=form)


@allow(holds_numbers)
@require_POST
def my_number_channels(request, pk):
    """More channels: a confirmation page with the pro-rata charge, then the purchase.
    Fewer: a confirmation page with the result at the period end, then the cancellations."""
    row = selectors.my_number(request.user, pk)
    if not may_change_channels(request.user, row.did.owner, row.did):
        raise PermissionDenied("You may not change this number's channels.")
    current = row.channels.total
    form = ChannelsForm(request.POST, current=current)
    if not form.is_valid():
        return _detail(request, row, channels_form=form)
    if row.rental is None:
        form.add_error(None, "This number has no rental to change; contact your provider.")
        return _detail(request, row, channels_form=form)
    wanted = form.cleaned_data["channels"]
    if wanted == current:
        messages.info(request, f"{row.did.number} already has {current} channels.")
        return redirect("cart:my_number", pk=row.did.pk)
    change = _channels_more if wanted > current else _channels_fewer
    return change(request, row, form, wanted - current if wanted > current else wanted)


def _channels_more(request, row, form, extra):
    try:
        if not form.cleaned_data["confirm"]:
            quote = capacity_quote(number_subscription=row.rental, extra_channels=extra)
            return _channels_confirm(request, row, form, quote=quote)
        capacity = capacity_add(
            number_subscription=row.rental,
            extra_channels=extra,
            actor=request.user,
            idempotency_key=f"capacity:{row.did.pk}:{form.cleaned_data['token']}",
        )
    except InsufficientBalance as exc:
        return _channels_confirm(request, row, form, refusal=exc, extra=extra)
    except ValidationError as exc:
        add_service_errors(form, exc, renames=FIELD_OF)
        return _detail(request, row, channels_form=form)
    first = capacity.charges.filter(side="sale").order_by("period_index").first()
    charged = f"{first.amount} {capacity.currency}" if first else "nothing"
    messages.success(
        request,
        f"{extra} channel{'s' if extra != 1 else ''} added to {row.did.number}: {charged} "
        f"charged for the rest of this period; {capacity.recurring_price} "
        f"{capacity.currency} more per {row.period_noun} from then on (plus VAT where it "
        "applies).",
    )
    return redirect("cart:my_number", pk=row.did.pk)


def _channels_fewer(request, row, form, wanted):
    try:
        if not form.cleaned_data["confirm"]:
            plan = capacity_reduce_plan(number_subscription=row.rental, channels=wanted)
            return _channels_confirm(request, row, form, plan=plan)
        plan = capacity_reduce(number_subscription=row.rental, channels=wanted, actor=request.user)
    except ValidationError as exc:
        add_service_errors(form, exc, renames=FIELD_OF)
        return _detail(request, row, channels_form=form)
    if plan.changes_anything:
        when = _day(plan.effective_at) if plan.effective_at else "now"
        messages.success(
            request,
            f"{row.did.number} keeps {plan.before} channels until {when}, then {plan.after}.",
        )
    else:
        messages.info(request, f"{row.did.number} already has {plan.after} channels.")
    return redirect("cart:my_number", pk=row.did.pk)


def _channels_confirm(request, row, form, **context):
    refusal = context.get("refusal")
    return render(
        request,
        "cart/number_channels.html",
        {
            "row": row,
            "did": row.did,
            "wanted": form.cleaned_data["channels"],
            "token": form.cleaned_data.get("token") or form.fields["token"].initial(),
            "currency": row.did.owner.currency,
            "balance": balance_for(row.did.owner) if refusal else None,
            "acting_for": _acting_for(request, row),
            **context,
        },
    )


def _require_may_manage_numbers(user, row):
    if not may_manage_numbers_of(user, row.did.owner):
        raise PermissionDenied("You may not cancel or keep this number.")


def _numbers_list(request, row):
    """Where a number goes back to: My numbers, or the customer's numbers when acting."""
    if row.did.owner_id != request.user.account_id:
        return redirect("resellers:numbers", pk=row.did.owner_id)
    return redirect("cart:my_numbers")


@allow(holds_numbers)
@require_http_methods(["GET", "POST"])
def my_number_cancel(request, pk):
    """GET: what cancelling means for this number (confirmation). POST: cancel it. A number
    awaiting registration is cancelled through its registration: refunded in full."""
    row = selectors.my_number(request.user, pk)
    if row.awaiting:
        return _cancel_awaiting(request, row)
    _require_may_manage_numbers(request.user, row)
    if request.method == "GET" or not row.can_cancel:
        if request.method == "POST":
            messages.error(request, f"{row.did.number} has no rental left to cancel.")
        return render(
            request,
            "cart/number_cancel.html",
            {
                "row": row,
                "did": row.did,
                "action": reverse("cart:my_number_cancel", args=[pk]),
                "acting_for": _acting_for(request, row),
            },
        )
    subscription = number_rental_cancel(number_subscription=row.rental, actor=request.user)
    if subscription.status == subscription.Status.CANCELLED:
        # The number's page says it in its one "Cancelled" banner, with "Keep this number".
        return redirect("cart:my_number", pk=row.did.pk)
    messages.success(request, f"{row.did.number} is cancelled and released.")
    return _numbers_list(request, row)


def _cancel_awaiting(request, row):
    if not may_provide_registration_for(request.user, row.did.owner):
        raise PermissionDenied(
            "Only the account's own users cancel a number awaiting registration."
        )
    if request.method == "GET" or not row.can_cancel_registration:
        if request.method == "POST":
            messages.error(request, f"{row.did.number} has nothing left to cancel.")
        context = {"row": row, "did": row.did, "refund": selectors.refund_due(row)}
        return render(request, "cart/number_cancel_awaiting.html", context)
    registration = number_registration_cancel(
        registration=row.registration, reason="cancelled by the customer", actor=request.user
    )
    if registration.status != registration.Status.CANCELLED:
        messages.info(request, f"{row.did.number} is no longer awaiting registration.")
        return redirect("cart:my_number", pk=row.did.pk)
    messages.success(
        request,
        f"{row.did.number} is cancelled and released: {registration.refunded} "
        f"{row.did.owner.currency} refunded to your balance.",
    )
    return redirect("cart:my_numbers")


@allow(holds_numbers)
@require_POST
def my_number_keep(request, pk):
    """Undo a cancellation before the paid period ends."""
    row = selectors.my_number(request.user, pk)
    _require_may_manage_numbers(request.user, row)
    if not row.ending:
        messages.info(request, f"{row.did.number} is not cancelled.")
        return redirect("cart:my_number", pk=row.did.pk)
    try:
        number = number_rental_keep(number_subscription=row.rental, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{row.did.number} is kept: it renews on {_day(number.next_renewal_at)} as before.",
        )
    return redirect("cart:my_number", pk=row.did.pk)
