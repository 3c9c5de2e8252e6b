"""Forms of the staff review queue: its filters, and the approve / reject decisions."""

from django import forms
from django_countries import countries

from didportal.forms import QueryForm

from .models import RejectionReason, Submission

Status = Submission.Status

# The queue's status filter: what waits for a reviewer first, then what waits for the
# customer, what is done, and everything that was ever sent.
STATUS_CHOICES = [
    (Status.SUBMITTED, "Awaiting review"),
    (Status.REJECTED, "Rejected: waiting for the customer"),
    (Status.APPROVED, "Approved"),
    ("all", "All sent for review"),
]
MAX_AGE_DAYS = 3650


class ReviewQueueQuery(QueryForm):
    """The queue's GET parameters; anything odd reads as "no filter" (``values()``)."""

    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    country = forms.ChoiceField(required=False, label="Country")
    older_than = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_AGE_DAYS,
        label="Waiting more than (days)",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "Any age"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Every country"), *countries]
        self.fields["status"].widget.attrs["class"] = "form-select"
        self.fields["country"].widget.attrs["class"] = "form-select"
        self.fields["older_than"].widget.attrs["class"] = "form-control"

    def values(self):
        values = super().values()
        values["status"] = values["status"] or Status.SUBMITTED
        return values


class DecisionForm(forms.Form):
    """What every decision carries: the newest step the reviewer saw (``seen``: the id of
    the submission's latest event), so a decision is not made on a page that is out of date
    (another reviewer decided, the customer sent it again)."""

    seen = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ApproveForm(DecisionForm):
    """Approve; its ids start ``approve_`` (the reject form on the same page has a comment
    too)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "approve_%s")
        super().__init__(*args, **kwargs)

    comment = forms.CharField(
        required=False,
        max_length=2000,
        label="Note to the customer (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(DecisionForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "reject_%s")
        super().__init__(*args, **kwargs)

    reasons = forms.MultipleChoiceField(
        choices=RejectionReason.choices,
        widget=forms.CheckboxSelectMultiple,
        label="What is wrong",
        error_messages={"required": "Pick at least one reason, so the customer knows what to fix."},
    )
    comment = forms.CharField(
        required=False,
        max_length=2000,
        label="Comment to the customer",
        help_text="The customer reads it in the e-mail and at the top of the registration "
        "page. Required with “Other”.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        comment = (cleaned.get("comment") or "").strip()
        cleaned["comment"] = comment
        if RejectionReason.OTHER in (cleaned.get("reasons") or ()) and not comment:
            self.add_error("comment", "Say what is wrong: with “Other” the comment is required.")
        return cleaned
