"""The auto top-up page: the saved card, the threshold and amount, and what happened."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_POST

from accounts.permissions import allow, may_fund_balance
from didportal.forms import add_service_errors

from . import stripe_api
from .forms_autotopup import AutoTopupForm
from .selectors_autotopup import auto_topup_for
from .services import autotopup


def _account(request):
    """The user's own account, if whoever collects its money takes cards (else 404: there
    is no auto top-up to show)."""
    account = request.user.account
    if not stripe_api.card_payments_enabled_for(account):
        raise Http404("Card payments are not available for this account.")
    return account


def _card_topup_url():
    """The card top-up page with "save card" ticked (the card lane's page; None until it
    exists)."""
    try:
        return reverse("payments:card_topup") + "?save_card=1"
    except NoReverseMatch:
        return None


@allow(may_fund_balance)
def auto_topup(request):
    account = _account(request)
    if request.method == "POST":
        form = AutoTopupForm(request.POST, currency=account.currency)
        if form.is_valid():
            try:
                autotopup.auto_topup_configure(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Auto top-up settings saved.")
                return redirect("payments:auto_topup")
    else:
        form = None
        autotopup.card_save_catch_up(account)  # in case the save task was lost
    view = auto_topup_for(account)
    if form is None:
        auto = view.auto
        form = AutoTopupForm(
            initial={
                "enabled": auto.enabled if auto else False,
                "threshold": auto.threshold if auto else "20.00",
                "amount": auto.amount if auto else "50.00",
            },
            currency=account.currency,
        )
    context = {
        "view": view,
        "form": form,
        "card_topup_url": _card_topup_url(),
        "amount_minimum": autotopup.amount_minimum(account),
    }
    return render(request, "payments/autotopup_settings.html", context)


@require_POST
@allow(may_fund_balance)
def auto_topup_card_remove(request):
    _account(request)
    auto = autotopup.auto_topup_card_remove(user=request.user)
    if auto is not None:
        messages.success(request, "Saved card removed; auto top-up is off.")
    return redirect("payments:auto_topup")


urlpatterns = [
    path("auto-top-up/", auto_topup, name="auto_topup"),
    path("auto-top-up/card/remove/", auto_topup_card_remove, name="auto_topup_card_remove"),
]
