"""The endpoint form: URL, description, events, enabled (the service checks them again)."""

from django import forms

from accounts.forms import CrispyForm

from .services import EVENTS


class EndpointForm(CrispyForm, forms.Form):
    submit_label = "Save endpoint"
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="Where we POST the events: an https:// address on the public internet.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/didportal/webhooks"}),
    )
    description = forms.CharField(
        label="Description", max_length=200, required=False, help_text="For you: what it is for."
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(key, f"{key} — {label}") for key, label in EVENTS.items()],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send to this endpoint."},
    )
    enabled = forms.BooleanField(
        label="Enabled",
        required=False,
        initial=True,
        help_text="A disabled endpoint is sent nothing.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_id = "endpoint-form"
