"""The console's forms. Each parses only its own fields: anything else posted (an account,
a parent, an owner, a price) is never read."""

import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from billing.forms import TopupForm
from cart.models import PERIOD_LABELS, offered_periods
from cart.services import MAX_CHANNELS, MAX_QUANTITY
from didportal.forms import QueryForm


class CustomerTopupForm(TopupForm):
    """Money the reseller received from its customer (the billing page's top-up form)."""

    submit_label = "Record top-up"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_tag = False
        self.fields["external_reference"].help_text = (
            "Your reference for the payment (your bank's, or your receipt number). The same "
            "reference is credited only once."
        )


class NumbersQuery(QueryForm):
    q = forms.CharField(required=False, max_length=50)


class BlockSearch(QueryForm):
    q = forms.CharField(required=False, max_length=100)


class BuyForm(forms.Form):
    """What to buy in one block for the customer: how many numbers, channels, the period."""

    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)
    channels = forms.IntegerField(min_value=1, max_value=MAX_CHANNELS)
    billing_period = forms.ChoiceField(label="Billing period", choices=())

    def __init__(self, *args, block, **kwargs):
        super().__init__(*args, **kwargs)
        periods = offered_periods(block)
        self.fields["billing_period"].choices = [(p, PERIOD_LABELS[p]) for p in periods]
        self.fields["billing_period"].initial = periods[0]
        self.fields["channels"].initial = max(1, block.channels_included)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("review", "Review the price"))


def new_token():
    return uuid.uuid4().hex
