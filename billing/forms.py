import uuid
from datetime import timedelta
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django_countries import countries
from django_countries.fields import CountryField

from didportal.forms import QueryForm

from .models import Invoice, LedgerEntry
from .selectors import InvoiceFilters


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


# --- Invoices -------------------------------------------------------------------------------


def period_bounds(period, today):
    """(first day, last day) of a quick period relative to ``today``; None if unknown."""
    first_of_month = today.replace(day=1)
    if period == "this_month":
        return first_of_month, _last_of_month(first_of_month)
    if period == "last_month":
        last = first_of_month - timedelta(days=1)
        return last.replace(day=1), last
    if period == "this_year":
        return today.replace(month=1, day=1), today.replace(month=12, day=31)
    return None


def _last_of_month(first):
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


QUICK_PERIODS = [
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("this_year", "This year"),
]


class InvoiceFilterForm(forms.Form):
    """The finance invoice list's filters, read from the query string.

    A quick ``period`` (this month, last month, this year) fills in the dates, which the form
    then shows, so changing one date afterwards starts from the period's range.
    """

    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(required=False, max_length=100, label="Account or invoice number")
    account = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    country = forms.ChoiceField(required=False, label="Buyer country")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Invoice.Status.choices]
    )
    source = forms.ChoiceField(
        required=False, choices=[("", "Any source"), *Invoice.Source.choices]
    )
    seller = forms.ChoiceField(
        required=False,
        choices=[("", "Any seller"), ("platform", "The platform"), ("resellers", "Resellers")],
    )

    def __init__(self, query, *, today):
        data = query.copy()
        self.period = data.pop("period", [""])[-1]
        bounds = period_bounds(self.period, today)
        if bounds:
            data["date_from"], data["date_to"] = (day.isoformat() for day in bounds)
        else:
            self.period = ""
        super().__init__(data)
        self.fields["country"].choices = [("", "Any country"), *countries]
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)
        self.fields["q"].widget.attrs.update(list="invoice-accounts", placeholder="Name or INV-…")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "“To” must be on or after “From”.")
        return cleaned

    def filters(self):
        """The valid filters; a field with an error filters nothing (and says so)."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}
        if "date_to" in self.errors:
            data.pop("date_from", None)
        return InvoiceFilters(**data)


class InvoiceVoidForm(forms.Form):
    reason = forms.CharField(
        max_length=255,
        label="Why is this invoice void?",
        help_text="Printed on the invoice and kept with it. The number stays used.",
        widget=forms.TextInput(attrs={"autofocus": True}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class ReportForm(forms.Form):
    """The reports' year; none means the last twelve months."""

    year = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, data, *, years):
        super().__init__(data)
        self.fields["year"].choices = [("", "Last 12 months"), *((y, str(y)) for y in years)]


class BalancesQuery(QueryForm):
    q = forms.CharField(required=False, max_length=200)
    low = forms.BooleanField(required=False)


def last_twelve_months(today):
    """The first day of the month eleven months before ``today``'s, and ``today``."""
    month = today.month - 11
    year = today.year + (month - 1) // 12
    return today.replace(year=year, month=(month - 1) % 12 + 1, day=1), today


class ReportPeriodForm(forms.Form):
    """A report's period, read from the query string: from and to dates (both included);
    none given means the last twelve months. ``period()`` is always a usable range: a wrong
    date is an error on the form, and the default range is used meanwhile."""

    MAX_DAYS = 366 * 5

    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, query, *, today):
        super().__init__(query)
        self.today = today
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        default_start, default_end = last_twelve_months(self.today)
        start, end = start or default_start, end or max(default_end, start or default_end)
        if start > end:
            self.add_error("date_to", "“To” must be on or after “From”.")
        elif (end - start).days > self.MAX_DAYS:
            self.add_error("date_to", "A report covers five years at most.")
        return cleaned

    def period(self):
        """(first day, last day) of the valid period, else of the last twelve months."""
        if not self.is_valid():
            return last_twelve_months(self.today)
        start, end = self.cleaned_data["date_from"], self.cleaned_data["date_to"]
        default_start, default_end = last_twelve_months(self.today)
        start = start or default_start
        return start, end or max(default_end, start)
