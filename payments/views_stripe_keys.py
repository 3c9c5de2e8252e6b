"""A reseller's own Stripe keys (reseller admins): enter, replace or remove them."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path

from accounts.forms import CrispyForm
from accounts.permissions import allow, is_reseller_admin
from accounts.views import form_errors_to

from .services import stripe_keys as service

# Browsers must neither autofill nor keep these.
SECRET_INPUT = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}


class StripeKeysForm(CrispyForm, forms.Form):
    submit_label = "Save keys"
    # Lengths are checked by the service (it names the field); the form only caps the post.
    publishable_key = forms.CharField(
        label="Publishable key",
        max_length=1000,
        strip=False,
        required=False,
        help_text="Starts with pk_live_ (or pk_test_ while you try it out).",
        widget=forms.TextInput(attrs=SECRET_INPUT),
    )
    secret_key = forms.CharField(
        label="Secret key",
        max_length=1000,
        strip=False,
        required=False,
        help_text="Starts with sk_live_ or rk_live_ (a restricted key), of the same mode as "
        "the publishable key.",
        widget=forms.PasswordInput(attrs=SECRET_INPUT),
    )
    webhook_secret = forms.CharField(
        label="Webhook signing secret",
        max_length=1000,
        strip=False,
        required=False,
        help_text="Starts with whsec_: Stripe shows it once you add the endpoint below.",
        widget=forms.PasswordInput(attrs=SECRET_INPUT),
    )

    def __init__(self, *args, has_keys=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_id = "stripe-keys-form"
        if has_keys:
            keep = " Leave empty to keep the current one."
            self.fields["secret_key"].help_text += keep
            self.fields["webhook_secret"].help_text += keep


@allow(is_reseller_admin)
def stripe_keys(request):
    account = request.user.account
    summary = service.stripe_keys_summary(account)
    initial = {"publishable_key": summary.publishable_key} if summary else {}
    form = StripeKeysForm(request.POST or None, initial=initial, has_keys=summary is not None)
    if request.method == "POST" and form.is_valid():
        try:
            service.stripe_keys_set(actor=request.user, account=account, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            messages.success(
                request,
                "Stripe keys saved: your customers can pay you by card. Check that the "
                "webhook endpoint below is set up in Stripe.",
            )
            return redirect("payments:stripe_keys")
    if form.errors and service.looks_secret(form.data.get("publishable_key")):
        form.data = form.data.copy()
        form.data["publishable_key"] = ""
    context = {
        "form": form,
        "keys": summary,
        "events": service.WEBHOOK_EVENTS,
        "history": service.stripe_keys_history(account),
    }
    return render(
        request, "payments/resellers_stripe_keys.html", context, status=400 if form.errors else 200
    )


@allow(is_reseller_admin)
def stripe_keys_remove(request):
    account = request.user.account
    summary = service.stripe_keys_summary(account)
    if summary is None:
        messages.info(request, "There are no Stripe keys to remove.")
        return redirect("payments:stripe_keys")
    if request.method == "POST":
        service.stripe_keys_remove(actor=request.user, account=account)
        messages.success(
            request, "Stripe keys removed: your customers now see your bank details instead."
        )
        return redirect("payments:stripe_keys")
    return render(request, "payments/resellers_stripe_keys_remove.html", {"keys": summary})


urlpatterns = [
    path("stripe-keys/", stripe_keys, name="stripe_keys"),
    path("stripe-keys/remove/", stripe_keys_remove, name="stripe_keys_remove"),
]
