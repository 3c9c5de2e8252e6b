"""The keys pages' forms: a new key (name, scope, IP ranges) and, for a full-access key,
the "I agree" boxes of the requirement texts in force (compliance's ``AgreementForm``)."""

from django import forms
from django.core.exceptions import ValidationError

from compliance.forms import AgreementForm

from .services import name_clean, networks_clean

FULL = "full"
READ_ONLY = "read_only"


class KeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        error_messages={"required": "Give the key a name, so you can tell it from the others."},
        help_text="What uses it, e.g. “Billing system” or “Provisioning script”.",
    )
    access = forms.ChoiceField(
        label="Access",
        choices=[
            (READ_ONLY, "Read-only — lists and shows: numbers, orders, balance, coverage"),
            (FULL, "Full access — also orders numbers, reserves, changes and releases them"),
        ],
        initial=READ_ONLY,
        widget=forms.RadioSelect,
    )
    allowed_networks = forms.CharField(
        label="Allowed IP ranges (optional)",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "203.0.113.0/24\n2001:db8::/32", "spellcheck": "false"}
        ),
        help_text=(
            "One address or CIDR range per line. Requests from anywhere else are refused. "
            "Leave empty to allow any address."
        ),
    )

    def clean_name(self):
        return _field(name_clean, self.cleaned_data["name"])

    def clean_allowed_networks(self):
        return _field(networks_clean, self.cleaned_data["allowed_networks"])

    @property
    def read_only(self) -> bool:
        return self.cleaned_data.get("access") != FULL


def _field(clean, value):
    try:
        return clean(value)
    except ValidationError as error:
        raise forms.ValidationError(error.messages) from None


class KeyAgreementForm(AgreementForm):
    """The requirement texts in force, one "I agree" box each (the version shown is posted)."""

    def __init__(self, *args, requirements, **kwargs):
        super().__init__(*args, requirements=requirements, **kwargs)
        for field in self.fields.values():
            field.error_messages["required"] = field.error_messages["required"].replace(
                "Tick “I agree”", "A full-access key orders numbers: tick “I agree”"
            )
