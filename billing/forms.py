import uuid
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django_countries.fields import CountryField

from .models import LedgerEntry


class _MoneyForm(forms.Form):
    submit_label = "Save"
    # A one-time key carried by the form: a double submit posts once.
    token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page wraps each form with its own action
        self.helper.add_input(Submit("submit", self.submit_label))


class TopupForm(_MoneyForm):
    submit_label = "Record top-up"
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), label="Amount (USD)"
    )
    method = forms.ChoiceField(choices=LedgerEntry.Method.choices, initial="bank_transfer")
    external_reference = forms.CharField(
        max_length=100,
        label="Payment reference",
        help_text="The bank's transaction reference. The same reference is credited only once.",
    )


class AdjustmentForm(_MoneyForm):
    submit_label = "Record adjustment"
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        label="Amount (USD)",
        help_text="Positive credits the account, negative debits it.",
    )
    reason = forms.CharField(max_length=255, help_text="Shown on the customer's statement.")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("An adjustment of 0.00 changes nothing.")
        return amount


class TaxRateForm(forms.Form):
    country = CountryField().formfield()
    rate = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, label="Rate (%)"
    )
