from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django_countries.fields import CountryField

from didportal.forms import QueryForm

from .models import ROLES_BY_ACCOUNT_KIND, Account


class CrispyForm:
    submit_label = "Save"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


class EmailLoginForm(CrispyForm, AuthenticationForm):
    submit_label = "Sign in"
    username = forms.EmailField(
        label="E-mail address", widget=forms.EmailInput(attrs={"autofocus": True})
    )


class SignupForm(CrispyForm, forms.Form):
    submit_label = "Create account"
    full_name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(label="E-mail address")
    company_name = forms.CharField(label="Company name", max_length=200)
    country = CountryField().formfield()
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password"):
            try:
                password_validation.validate_password(cleaned["password"])
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class AccountIdentityForm(CrispyForm, forms.ModelForm):
    submit_label = "Save billing details"

    class Meta:
        model = Account
        fields = ["name", "legal_name", "country", "address", "vat_number"]
        labels = {"name": "Display name"}
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"vat_number": "EU businesses: with or without the country prefix."}


class TeamMemberForm(CrispyForm, forms.Form):
    submit_label = "Add user"
    full_name = forms.CharField(label="Name", max_length=150)
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=())

    def __init__(self, *args, account_kind, **kwargs):
        super().__init__(*args, **kwargs)
        roles = ROLES_BY_ACCOUNT_KIND[account_kind]
        self.fields["role"].choices = [(r.value, r.label) for r in roles]


class TeamMemberEditForm(CrispyForm, forms.Form):
    full_name = forms.CharField(label="Name", max_length=150, required=False)
    role = forms.ChoiceField(choices=())
    is_active = forms.BooleanField(label="Can sign in", required=False)

    def __init__(self, *args, account_kind, **kwargs):
        super().__init__(*args, **kwargs)
        roles = ROLES_BY_ACCOUNT_KIND[account_kind]
        self.fields["role"].choices = [(r.value, r.label) for r in roles]


class CustomerCreateForm(CrispyForm, forms.Form):
    submit_label = "Create customer"
    company_name = forms.CharField(max_length=200)
    country = CountryField().formfield()
    admin_name = forms.CharField(label="Admin's name", max_length=150)
    admin_email = forms.EmailField(label="Admin's e-mail address")


class CustomerListQuery(QueryForm):
    q = forms.CharField(required=False, max_length=200)
    kind = forms.ChoiceField(
        required=False,
        choices=[
            ("", "All"),
            (Account.Kind.RESELLER, "Resellers"),
            (Account.Kind.CUSTOMER, "Customers"),
        ],
    )
