"""Forms of the bank lane: every upload, query string and button goes through one."""

from django import forms
from django.conf import settings

from didportal.forms import IdListField, QueryForm

from .models import BankStatementLine


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Statement file",
        help_text="CAMT.053 XML as downloaded from the bank, or a CSV in the layout below.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.BANK_STATEMENT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; the largest statement accepted is "
                f"{limit:,} bytes."
            )
        return upload


class LinesQuery(QueryForm):
    status = forms.ChoiceField(
        required=False, choices=[("", "All")] + list(BankStatementLine.Status.choices)
    )


class ConfirmForm(forms.Form):
    """The lines to book. Without ``confirmed`` the page asks first; ``all`` takes every
    proposed line of the statement."""

    line = IdListField(required=False)
    all = forms.BooleanField(required=False)
    confirmed = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if not data.get("all") and not data.get("line"):
            raise forms.ValidationError("Tick the lines to book, or book all proposed lines.")
        return data


class AccountSearch(QueryForm):
    q = forms.CharField(required=False, max_length=100, label="Find an account")


class AssignForm(forms.Form):
    account = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    book = forms.BooleanField(required=False)


class IgnoreForm(forms.Form):
    note = forms.CharField(
        max_length=255,
        label="Why ignore it",
        help_text="E.g. not a payment to us, sent back to the payer, booked elsewhere.",
    )
