from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.mail import EmailMultiAlternatives
from django.template import loader
from django_countries.fields import CountryField

from didportal.forms import QueryForm

from .branding import brand_for_account, email_sender
from .models import ROLES_BY_ACCOUNT_KIND, Account, Role
from .permissions import may_use_host


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

    def confirm_login_allowed(self, user):
        """On a reseller's host only its own users and its customers' users sign in."""
        super().confirm_login_allowed(user)
        if not may_use_host(user, getattr(self.request, "host_reseller_id", None)):
            raise forms.ValidationError(
                "Your account is not served on this address: sign in at your own "
                "provider's address.",
                code="wrong_host",
            )


class BrandedPasswordResetForm(PasswordResetForm):
    """Django's reset e-mail in the user's brand: a reseller's customer's comes from the
    reseller's name, replies go to its support address. On a reseller's host only the users
    who may sign in there get one (``may_use_host``)."""

    host_reseller_id = None

    def save(self, *args, request=None, **kwargs):
        self.host_reseller_id = getattr(request, "host_reseller_id", None)
        return super().save(*args, request=request, **kwargs)

    def get_users(self, email):
        for user in super().get_users(email):
            if may_use_host(user, self.host_reseller_id):
                yield user

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        account = context["user"].account
        context = {**context, "site_name": brand_for_account(account).name}
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        branded_from, reply_to = email_sender(account)
        message = EmailMultiAlternatives(
            subject, body, branded_from or from_email, [to_email], reply_to=reply_to or None
        )
        if html_email_template_name is not None:
            message.attach_alternative(
                loader.render_to_string(html_email_template_name, context), "text/html"
            )
        message.send()


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


# What each role may do, in the words the team page shows next to the choice.
ROLE_HELP = {
    Role.PLATFORM_ADMIN: "everything: inventory, pricing, customers, orders",
    Role.PLATFORM_FINANCE: "balances, invoices and reports; reads the rest",
    Role.PLATFORM_COMPLIANCE: (
        "reviews customers' registrations (identities, addresses, documents): approves or "
        "rejects them"
    ),
    Role.RESELLER_ADMIN: (
        "everything for the reseller and its customers: the team, customers, their numbers, "
        "orders and money, and buying numbers at wholesale"
    ),
    Role.RESELLER_SUPPORT: (
        "looks after the customers' numbers and orders (acts for them, buys on their "
        "behalf); no money"
    ),
    Role.RESELLER_FINANCE: (
        "balances, top-ups for the customers, statements, invoices and reports; changes no number"
    ),
    Role.CUSTOMER_ADMIN: "the owner's rights: buys, manages every number, the team and billing",
    Role.CUSTOMER_MEMBER: (
        "sets where calls go for the numbers assigned to them; buys only if allowed below"
    ),
    Role.CUSTOMER_BILLING: "for accountants: balance, invoices and top-ups; changes no number",
}


class TeamRoleFields(forms.Form):
    """The role choice with what each role may do, and the members' "may buy" switch."""

    role = forms.ChoiceField(choices=(), widget=forms.RadioSelect)
    may_buy = forms.BooleanField(
        label="May buy numbers",
        required=False,
        help_text="Members only: may buy numbers, and extra channels for the numbers "
        "assigned to them, from the account's balance. Admins always may; billing users never.",
    )

    def __init__(self, *args, account_kind, **kwargs):
        super().__init__(*args, **kwargs)
        roles = ROLES_BY_ACCOUNT_KIND[account_kind]
        self.fields["role"].choices = [(r.value, f"{r.label} — {ROLE_HELP[r]}") for r in roles]
        if Role.CUSTOMER_MEMBER not in roles:
            del self.fields["may_buy"]


class TeamMemberForm(CrispyForm, TeamRoleFields):
    submit_label = "Add user"
    full_name = forms.CharField(label="Name", max_length=150)
    email = forms.EmailField(label="E-mail address")
    field_order = ["full_name", "email", "role", "may_buy"]


class TeamMemberEditForm(CrispyForm, TeamRoleFields):
    full_name = forms.CharField(label="Name", max_length=150, required=False)
    is_active = forms.BooleanField(label="Can sign in", required=False)
    field_order = ["full_name", "role", "may_buy", "is_active"]


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


# --- The platform's resellers ----------------------------------------------------------------


def _discount_field(**kwargs):
    return forms.DecimalField(
        label="Wholesale discount (%)",
        min_value=0,
        max_value=Decimal("99.99"),
        max_digits=5,
        decimal_places=2,
        help_text="Percent off the platform's list price this reseller pays (0 up to 99.99).",
        **kwargs,
    )


class ResellerCreateForm(CrispyForm, forms.Form):
    submit_label = "Create reseller"
    name = forms.CharField(label="Display name", max_length=200)
    legal_name = forms.CharField(
        max_length=200, required=False, help_text="Printed on invoices; blank: the name."
    )
    country = CountryField().formfield()
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    vat_number = forms.CharField(
        label="VAT number",
        max_length=32,
        required=False,
        help_text="EU businesses: with or without the country prefix.",
    )
    wholesale_discount = _discount_field(initial=0)
    admin_name = forms.CharField(label="First admin's name", max_length=150)
    admin_email = forms.EmailField(
        label="First admin's e-mail address",
        help_text="They receive an invitation to choose a password.",
    )


class ResellerDiscountForm(CrispyForm, forms.Form):
    submit_label = "Save discount"
    wholesale_discount = _discount_field()


class ResellerListQuery(QueryForm):
    q = forms.CharField(required=False, max_length=200)
