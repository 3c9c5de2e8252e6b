"""Forms of the platform admins' stock console (validation of one form's fields only)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.db.models import Q
from django_countries import countries

from accounts.forms import CrispyForm
from accounts.models import Account

from .choices import AFTER_HOLD_STATUSES, DIDStatus, NumberType
from .models import ClientPackage, NumberBlock, Operator, Package
from .numbers import validate_destination
from .services import moves_without_owner

AFTER_HOLD_CHOICES = [(s.value, s.label) for s in AFTER_HOLD_STATUSES]
REASON_HELP = "Kept in each number's audit log."


class PostsElsewhere(CrispyForm):
    """Rendered inside a <form> the template writes (several forms post to different URLs)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_tag = False


class OperatorForm(CrispyForm, forms.ModelForm):
    class Meta:
        model = Operator
        fields = ["name", "contact_name", "contact_email", "contact_phone", "notes", "active"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


# The block form's sections, in the order an admin thinks of a block and its price plan.
BLOCK_SECTIONS = {
    "Where and what": [
        "operator",
        "country",
        "region",
        "city",
        "area_code",
        "number_type",
        "voice",
        "sms",
        "fax",
        "requirement",
    ],
    "Selling price": ["billing_type", "setup_fee", "monthly_price", "weekly_price", "daily_price"],
    "Channels and calls": [
        "channels_included",
        "extra_channel_monthly_price",
        "max_concurrent_calls",
        "call_timeout_seconds",
    ],
    "Per-minute rating of incoming calls": [
        "connection_fee",
        "rate_per_minute",
        "grace_seconds",
        "initial_increment_seconds",
        "increment_seconds",
    ],
    "Buy cost (platform staff only)": ["buy_setup_cost", "buy_monthly_cost"],
    "Labels": ["tag", "notes"],
}


class NumberBlockForm(CrispyForm, forms.ModelForm):
    """A block and its whole price plan."""

    class Meta:
        model = NumberBlock
        fields = [name for section in BLOCK_SECTIONS.values() for name in section]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "sms": "SMS",
            "call_timeout_seconds": "Call timeout (seconds)",
            "grace_seconds": "Grace period (seconds)",
            "initial_increment_seconds": "Initial increment (seconds)",
            "increment_seconds": "Increment (seconds)",
        }
        help_texts = {
            "monthly_price": "Empty: not offered monthly.",
            "weekly_price": "Empty: not offered weekly.",
            "daily_price": "Empty: not offered daily.",
            "buy_setup_cost": "What the operator charges us once per number.",
            "buy_monthly_cost": "What the operator charges us per month; margin = price − this.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # New blocks only from active operators; an existing block keeps its own.
        self.fields["operator"].queryset = Operator.objects.filter(
            Q(active=True) | Q(pk=self.instance.operator_id)
        )
        self.helper.layout = Layout(
            *(
                Fieldset(title, Row(*(Column(name, css_class="col-sm-6") for name in names)))
                for title, names in BLOCK_SECTIONS.items()
            )
        )


class AddNumbersForm(CrispyForm, forms.Form):
    submit_label = "Add numbers"
    spec_text = forms.CharField(
        label="Numbers",
        widget=forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
        help_text=(
            "One number, a list (one per line or separated by commas), or ranges lower-upper: "
            "+31205550000-+31205550999, or short 5550000-5550999 within the block's area code. "
            "At most 100,000 at once."
        ),
    )
    status = forms.ChoiceField(choices=AFTER_HOLD_CHOICES, initial=DIDStatus.IN_STOCK)
    after_hold_status = forms.ChoiceField(
        label="After hold",
        choices=AFTER_HOLD_CHOICES,
        initial=DIDStatus.IN_STOCK,
        help_text="Where a number goes when its hold ends.",
    )
    tag = forms.CharField(max_length=64, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class FilterForm(forms.Form):
    """A list's GET filters; every field optional, invalid values left out."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if is_select else "form-control"

    def filters(self):
        """Keyword arguments for the list's selector."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class BlockFilterForm(FilterForm):
    country = forms.ChoiceField(choices=[("", "All countries"), *countries], required=False)
    city = forms.CharField(required=False)
    operator = forms.ModelChoiceField(
        Operator.objects.all(), required=False, empty_label="All operators"
    )
    number_type = forms.ChoiceField(
        label="Type", choices=[("", "All types"), *NumberType.choices], required=False
    )


class DIDFilterForm(FilterForm):
    prefix = forms.CharField(label="Number starts with", required=False)
    contains = forms.CharField(label="Number contains", required=False)
    country = forms.ChoiceField(choices=[("", "All countries"), *countries], required=False)
    city = forms.CharField(required=False)
    operator = forms.ModelChoiceField(
        Operator.objects.all(), required=False, empty_label="All operators"
    )
    status = forms.ChoiceField(choices=[("", "All statuses"), *DIDStatus.choices], required=False)
    tag = forms.CharField(required=False)
    owner = forms.CharField(label="Owner name", required=False)
    block = forms.ModelChoiceField(
        NumberBlock.objects.select_related("operator"),
        required=False,
        widget=forms.HiddenInput,
    )


PAGE_SIZES = (25, 50, 100, 200)


def page_size(value, default=50):
    try:
        size = int(value)
    except (TypeError, ValueError):
        return default
    return size if size in PAGE_SIZES else default


# --- Bulk actions: each form knows the fields of one action ---------------------------------------


class BulkForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False, help_text=REASON_HELP)

    def __init__(self, *args, statuses=(), **kwargs):
        """``statuses``: the statuses of the selected numbers (for the forms that care)."""
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class BulkStatusForm(BulkForm):
    """Only the statuses every selected number can move to (assigning, which makes a number
    active for a customer, is done one number at a time from its page)."""

    to_status = forms.ChoiceField(label="New status")
    field_order = ["to_status", "reason"]

    def __init__(self, *args, statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [
            (s.value, s.label) for s in moves_without_owner(statuses)
        ]


class BulkTagForm(BulkForm):
    tag = forms.CharField(max_length=64, required=False, help_text="Empty: clear the tag.")
    field_order = ["tag", "reason"]


class BulkNotesForm(BulkForm):
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="Empty: clear."
    )
    field_order = ["notes", "reason"]


class BulkAfterHoldForm(BulkForm):
    after_hold_status = forms.ChoiceField(label="After hold", choices=AFTER_HOLD_CHOICES)
    field_order = ["after_hold_status", "reason"]


class BulkBlockForm(BulkForm):
    block = forms.ModelChoiceField(
        NumberBlock.objects.select_related("operator"),
        label="Move to block",
        help_text="Only a block in the same country as every selected number.",
    )
    field_order = ["block", "reason"]


class BulkDeleteForm(BulkForm):
    pass


# --- One number -----------------------------------------------------------------------------------


class DIDStatusForm(PostsElsewhere, forms.Form):
    """Only the moves the transition table allows; active needs an owner (see assign)."""

    submit_label = "Change status"
    to_status = forms.ChoiceField(label="New status")
    reason = forms.CharField(max_length=200, help_text=REASON_HELP)

    def __init__(self, *args, did, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [
            (s.value, s.label) for s in moves_without_owner([did.status])
        ]


class DIDAssignForm(PostsElsewhere, forms.Form):
    submit_label = "Assign"
    client_package = forms.ModelChoiceField(
        ClientPackage.objects.none(),
        label="Customer and package",
        help_text="Active client packages; a package allows a limited number of numbers.",
    )

    def __init__(self, *args, client_packages, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["client_package"]
        field.queryset = client_packages
        field.label_from_instance = lambda cp: (
            f"{cp.account.name} — {cp.package.name} ({cp.held} of {cp.package.max_dids} used)"
        )


class DIDDetailsForm(PostsElsewhere, forms.Form):
    submit_label = "Save details"
    tag = forms.CharField(max_length=64, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    destination = forms.CharField(
        max_length=255,
        required=False,
        validators=[validate_destination],
        help_text="E.164 or sip:user@host. Only for a number a customer holds.",
    )


# --- Packages -------------------------------------------------------------------------------------


class PackageForm(CrispyForm, forms.ModelForm):
    class Meta:
        model = Package
        fields = ["name", "max_dids", "limits_self_service", "number_price", "active"]
        labels = {
            "max_dids": "Maximum numbers",
            "limits_self_service": "Limits self-service purchases",
            "number_price": "Price per assigned number (monthly)",
        }


class ClientPackageForm(CrispyForm, forms.Form):
    submit_label = "Assign package"
    account = forms.ModelChoiceField(
        Account.objects.exclude(kind=Account.Kind.PLATFORM).order_by("name"),
        label="Customer account",
    )
    package = forms.ModelChoiceField(Package.objects.filter(active=True))
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


# --- Audit log ------------------------------------------------------------------------------------


class AuditFilterForm(FilterForm):
    CHANGE_TYPES = [("", "All changes"), ("+", "Added"), ("~", "Changed"), ("-", "Deleted")]

    number = forms.CharField(label="Number starts with", required=False)
    user = forms.CharField(label="User e-mail", required=False)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    change_type = forms.ChoiceField(label="Change", choices=CHANGE_TYPES, required=False)
