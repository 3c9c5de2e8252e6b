"""A reseller schedules its current price list for its customers' renewals (the price list
page in ``catalog`` shows the form and the scheduled changes)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.permissions import allow, may_edit_price_list

from .services.repricing import renewal_price_change_schedule


class RenewalPriceChangeForm(forms.Form):
    effective_on = forms.DateField(
        label="Renewals from",
        error_messages={
            "required": "Renewals from: choose a date.",
            "invalid": "Renewals from: enter a date such as 2027-01-31.",
        },
    )


@require_POST
@allow(may_edit_price_list)
def renewal_price_change_schedule_view(request):
    form = RenewalPriceChangeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["effective_on"])
        change = renewal_price_change_schedule(
            reseller=request.user.account,
            effective_on=form.cleaned_data["effective_on"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        count = change.lines.count()
        customers = change.lines.values("account").distinct().count()
        messages.success(
            request,
            f"Scheduled: from {change.effective_on:%d %B %Y} renewals of {count} "
            f"subscription{'s' if count != 1 else ''} charge your current prices; we e-mailed "
            f"{customers} customer{'s' if customers != 1 else ''}.",
        )
    return redirect("catalog:reseller_pricing")
