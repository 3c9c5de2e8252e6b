"""Forms of the finance pages on card payments (filters, and settling a claim)."""

from django import forms

from didportal.forms import QueryForm

from .models import CardPayment, PaymentEvent


class CardPaymentsQuery(QueryForm):
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *CardPayment.Status.choices]
    )
    q = forms.CharField(required=False, max_length=200, label="Account")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )


class EventsQuery(QueryForm):
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), *PaymentEvent.Outcome.choices]
    )


class ClaimsQuery(QueryForm):
    state = forms.ChoiceField(
        required=False,
        choices=[("open", "Open"), ("settled", "Settled"), ("all", "All")],
    )

    def values(self):
        values = super().values()
        values["state"] = values["state"] or "open"
        return values


class ClaimSettleForm(forms.Form):
    note = forms.CharField(
        max_length=255,
        label="How it was settled",
        help_text="E.g. “paid by bank transfer on 3 Dec, ref 1234” or “written off”.",
        error_messages={"required": "Say how the claim was settled."},
    )

    def clean_note(self):
        note = " ".join(self.cleaned_data["note"].split())
        if not note:
            raise forms.ValidationError("Say how the claim was settled.")
        return note
