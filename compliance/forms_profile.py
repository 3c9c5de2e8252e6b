"""Forms of the compliance profile pages. They parse input; the rules (names per kind, an
address valid for its country, what a document may be) are ``services.profile``'s, whose
``ValidationError``\\ s land on these fields."""

from django import forms
from django_countries import countries

from accounts.forms import CrispyForm
from didportal.forms import QueryForm

from .addresses import address_rules
from .models import DocumentKind, Identity

PLURALS = {"identity": "identities", "address": "addresses"}


def _country_choices():
    return [("", "Choose a country…"), *countries]


class NextForm(QueryForm):
    """Where to go back to: a page of ours (checked by the view)."""

    next = forms.CharField(required=False, max_length=2000)


class ListQuery(QueryForm):
    archived = forms.BooleanField(required=False)
    page = forms.IntegerField(required=False, min_value=1)


class FileQuery(QueryForm):
    inline = forms.BooleanField(required=False)


class UploadQuery(NextForm):
    """What the upload form starts with (the submission page says which kind it needs)."""

    kind = forms.ChoiceField(required=False, choices=[("", "")] + DocumentKind.choices)
    identity = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    address = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class IdentityForm(CrispyForm, forms.Form):
    kind = forms.ChoiceField(
        label="This identity is",
        choices=[
            (Identity.Kind.PERSONAL, "A person"),
            (Identity.Kind.BUSINESS, "A business or organisation"),
        ],
        widget=forms.RadioSelect,
    )
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    company_name = forms.CharField(label="Registered business name", max_length=200, required=False)
    birth_date = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="People only.",
    )
    id_number = forms.CharField(label="ID or passport number", max_length=64, required=False)
    company_number = forms.CharField(
        label="Company registration number",
        max_length=64,
        required=False,
        help_text="Businesses only (e.g. SIREN, Handelsregister number).",
    )
    tax_id = forms.CharField(label="Tax ID / VAT number", max_length=64, required=False)
    country = forms.ChoiceField(
        choices=_country_choices,
        help_text="Nationality, or the country the business is registered in.",
    )
    description = forms.CharField(
        label="Your label",
        max_length=100,
        required=False,
        help_text="Optional, to tell identities apart (e.g. “Paris office”).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_tag = False
        self.helper.inputs = []


class AddressForm(CrispyForm, forms.Form):
    country = forms.ChoiceField(
        choices=_country_choices, help_text="Its postal rules are checked when you save."
    )
    line1 = forms.CharField(label="Street address", max_length=200, required=False)
    line2 = forms.CharField(
        label="Address line 2",
        max_length=200,
        required=False,
        help_text="Flat, floor, building (optional).",
    )
    postal_code = forms.CharField(max_length=20, required=False)
    city = forms.CharField(max_length=100, required=False)
    region = forms.CharField(
        label="State / region",
        max_length=100,
        required=False,
        help_text="Only where the country uses one (e.g. US states, Canadian provinces).",
    )
    description = forms.CharField(
        label="Your label",
        max_length=100,
        required=False,
        help_text="Optional (e.g. “Head office”).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_tag = False
        self.helper.inputs = []
        country = self.data.get("country") if self.is_bound else self.initial.get("country")
        rules = address_rules(country)
        if rules and rules.postal_code_examples:
            label = rules.postal_code_label
            examples = " or ".join(rules.postal_code_examples)
            self.fields["postal_code"].help_text = f"{label.capitalize()}, e.g. {examples}."
        if rules and rules.region_choices:
            names = ", ".join(name for _code, name in rules.region_choices[:3])
            self.fields["region"].help_text = f"The {rules.region_label}, e.g. {names}…"


class DocumentUploadForm(CrispyForm, forms.Form):
    kind = forms.ChoiceField(label="What it proves", choices=DocumentKind.choices)
    file = forms.FileField(
        label="Document file",
        allow_empty_file=True,  # the service says why an empty file is refused
        max_length=1000,
        help_text="PDF, JPEG or PNG.",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
    )
    identity = forms.ModelChoiceField(
        label="About the identity",
        queryset=None,
        required=False,
        empty_label="— None —",
        help_text="Optional: whose document this is.",
    )
    address = forms.ModelChoiceField(
        label="About the address",
        queryset=None,
        required=False,
        empty_label="— None —",
        help_text="Optional: the address it proves.",
    )

    def __init__(self, *args, identities, addresses, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_tag = False
        self.helper.inputs = []
        self.fields["identity"].queryset = identities
        self.fields["address"].queryset = addresses
        for name in ("identity", "address"):
            self.fields[name].error_messages["invalid_choice"] = (
                f"Choose one of your own {PLURALS[name]}."
            )
