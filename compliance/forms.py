"""Forms: the admins' requirement form, and the buyer's "I agree" boxes for checkout."""

from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django_countries import countries

from accounts.forms import CrispyForm
from didportal.forms import QueryForm

from .models import IdentityField, Requirement
from .services import normalize_text
from .services.requirements import PROOF_FIELDS, requirement_needs_problems

MIN_TEXT_LENGTH = 20


class RequirementForm(CrispyForm, forms.ModelForm):
    """A requirement's fields and what a registration needs; the version is the service's
    business. The needs must hold together (``requirement_needs_problems``): the errors
    are shown on the fields they concern."""

    identity_fields = forms.MultipleChoiceField(
        label="Mandatory identity details",
        choices=IdentityField.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Besides the name and country, which every identity has.",
    )

    class Meta:
        model = Requirement
        fields = [
            "country",
            "number_type",
            "area",
            "title",
            "text",
            "identity_type",
            "identity_fields",
            "address_scope",
            *PROOF_FIELDS,
            "deadline_days",
            "internal_notes",
        ]
        labels = {
            "text": "Legal text",
            "number_type": "Number type",
            "identity_type": "Identity of the end user",
            "address_scope": "Address of the end user",
            "identity_proofs": "Identity documents",
            "address_proofs": "Proofs of address",
            "company_proofs": "Company registration",
            "other_proofs": "Other documents",
            "deadline_days": "Deadline (days after purchase)",
        }
        widgets = {
            "text": forms.Textarea(attrs={"rows": 10}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "text": "Shown to the buyer at checkout next to an “I agree” box, and on the "
            "requirement's public page. Blank lines separate paragraphs.",
            "number_type": "Blank: every number type of the country.",
            "area": "The city or area the numbers are in, e.g. Paris; blank: the whole "
            "country (an address “in the number's area” is then compared with each "
            "number's city).",
            "identity_type": "“Not needed”: no identity is asked for.",
            "address_scope": "Where the end user's address must be.",
            "deadline_days": "A number bought before its registration is approved waits "
            "this long (1–365 days), then is cancelled and refunded in full. Changing it "
            "does not move the deadlines of numbers already waiting.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number_type"].choices = [("", "All number types")] + [
            choice for choice in self.fields["number_type"].choices if choice[0]
        ]
        for name in PROOF_FIELDS:
            self.fields[name].required = False  # blank: none
        # Range checks on the form's fields, so an error names its field (not the model's
        # check constraint).
        for name, low, high in [*((n, 0, 5) for n in PROOF_FIELDS), ("deadline_days", 1, 365)]:
            field = self.fields[name]
            field.validators += [MinValueValidator(low), MaxValueValidator(high)]
            field.widget.attrs.update(min=low, max=high)
        self.helper.layout = Layout(
            Fieldset(
                "Where it applies",
                Row(
                    Column("country", css_class="col-sm-4"),
                    Column("number_type", css_class="col-sm-4"),
                    Column("area", css_class="col-sm-4"),
                ),
            ),
            Fieldset("What the buyer agrees to", "title", "text"),
            Fieldset(
                "What a registration needs",
                HTML(
                    '<p class="small text-muted">Leave everything at “Not needed” and 0 when '
                    "agreeing to the text is enough: the numbers then go live at once. As soon "
                    "as anything is asked for, a number bought without an approved "
                    "registration waits for one.</p>"
                ),
                Row(
                    Column("identity_type", css_class="col-sm-6"),
                    Column("address_scope", css_class="col-sm-6"),
                ),
                "identity_fields",
                HTML(
                    '<p class="form-label mb-1">Documents to provide</p><p class="small '
                    'text-muted mb-2">How many of each kind the registration must include '
                    "(0–5; 0 or blank: none).</p>"
                ),
                Row(*(Column(name, css_class="col-6 col-lg-3") for name in PROOF_FIELDS)),
                Row(Column("deadline_days", css_class="col-sm-6")),
            ),
            Fieldset("For platform staff", "internal_notes"),
        )

    def clean_title(self):
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError("Give the requirement a title.")
        return title

    def clean_area(self):
        return " ".join(self.cleaned_data.get("area", "").split())

    def clean(self):
        cleaned = super().clean()
        for name in PROOF_FIELDS:
            if name in cleaned and cleaned[name] is None:
                cleaned[name] = 0
        title = cleaned.get("title")
        if title and "country" in cleaned and "number_type" in cleaned:
            same = Requirement.objects.filter(
                country=cleaned["country"], number_type=cleaned["number_type"], title=title
            ).exclude(pk=self.instance.pk)
            if same.exists():
                self.add_error(
                    "title",
                    "A requirement with this title already exists for this country and "
                    "number type.",
                )
        self._check_needs(cleaned)
        return cleaned

    def _check_needs(self, cleaned):
        """The service's consistency rules, shown on the fields they name (only once every
        field they read is valid)."""
        names = (
            "number_type",
            "area",
            "identity_type",
            "identity_fields",
            "address_scope",
            *PROOF_FIELDS,
        )
        if any(name not in cleaned for name in names):
            return
        draft = Requirement(pk=self.instance.pk, **{name: cleaned[name] for name in names})
        for field, messages in requirement_needs_problems(draft).items():
            for message in messages:
                self.add_error(field, message)

    def clean_text(self):
        text = normalize_text(self.cleaned_data["text"])
        if len(text) < MIN_TEXT_LENGTH:
            raise forms.ValidationError(
                f"Write the text the buyer agrees to (at least {MIN_TEXT_LENGTH} characters)."
            )
        return text


class VersionCheckbox(forms.CheckboxInput):
    """A checkbox whose value is the version of the text shown; unticked posts nothing."""

    def __init__(self, version):
        super().__init__(attrs={"class": "form-check-input"}, check_test=bool)
        self.version = version

    def format_value(self, value):
        return str(self.version)

    def value_from_datadict(self, data, files, name):
        return data.get(name) or None


class AgreementForm(forms.Form):
    """One "I agree" box per requirement, for checkout (render with
    ``compliance/_agreement_fields.html`` inside the checkout's own <form>).

    Each box posts the version the buyer was shown; ``agreed_requirements()`` returns the
    requirements carrying that version, ready for ``services.agreements_record``. A box left
    unticked, or a text changed since the page was shown, is an error on that box.
    """

    def __init__(self, *args, requirements, **kwargs):
        super().__init__(*args, **kwargs)
        self.requirements = list(requirements)
        for requirement in self.requirements:
            self.fields[self.field_name(requirement)] = forms.IntegerField(
                label=f"I agree to “{requirement.title}” (version {requirement.version})",
                min_value=1,
                widget=VersionCheckbox(requirement.version),
                error_messages={"required": f"Tick “I agree” for “{requirement.title}”."},
            )

    @staticmethod
    def field_name(requirement):
        return f"agree_{requirement.pk}"

    def clean(self):
        cleaned = super().clean()
        for requirement in self.requirements:
            name = self.field_name(requirement)
            seen = cleaned.get(name)
            if seen is not None and seen != requirement.version:
                self.add_error(
                    name,
                    f"“{requirement.title}” was updated to version {requirement.version} "
                    "since you opened this page. Read it again and agree.",
                )
        return cleaned

    def agreed_requirements(self):
        """The requirements agreed to (call after ``is_valid()``); each carries its version."""
        return [r for r in self.requirements if self.cleaned_data.get(self.field_name(r))]

    def rows(self):
        """(requirement, bound field) pairs for the template."""
        return [(r, self[self.field_name(r)]) for r in self.requirements]


class RequirementFilterForm(forms.Form):
    """The console list's filters (GET)."""

    country = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Active and inactive"), ("active", "Active"), ("inactive", "Inactive")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "All countries"), *countries]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"

    def filters(self):
        """Keyword arguments for ``selectors.requirements_for_console``; bad values ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        filters = {}
        if data.get("country"):
            filters["country"] = data["country"]
        if data.get("status"):
            filters["active"] = data["status"] == "active"
        return filters


class AgreementListQuery(QueryForm):
    requirement = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
