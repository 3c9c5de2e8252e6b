"""Forms: the admins' requirement form, and the buyer's "I agree" boxes for checkout."""

from django import forms
from django_countries import countries

from accounts.forms import CrispyForm
from didportal.forms import QueryForm

from .models import Requirement
from .services import normalize_text

MIN_TEXT_LENGTH = 20


class RequirementForm(CrispyForm, forms.ModelForm):
    """A requirement's fields; the version is the service's business."""

    class Meta:
        model = Requirement
        fields = ["country", "number_type", "title", "text", "internal_notes"]
        labels = {"text": "Legal text", "number_type": "Number type"}
        widgets = {
            "text": forms.Textarea(attrs={"rows": 10}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "text": "Shown to the buyer at checkout next to an “I agree” box, and on the "
            "requirement's public page. Blank lines separate paragraphs.",
            "number_type": "Blank: every number type of the country.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number_type"].choices = [("", "All number types")] + [
            choice for choice in self.fields["number_type"].choices if choice[0]
        ]

    def clean_title(self):
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError("Give the requirement a title.")
        return title

    def clean(self):
        cleaned = super().clean()
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
        return cleaned

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
