"""The catalog's query strings, parsed (the pages are public: anything may arrive), and the
forms of a reseller's price list."""

from decimal import Decimal

from django import forms
from django_countries import countries

from didportal.forms import IdListField, QueryForm, parse_id
from inventory.choices import NumberType
from inventory.models import NumberBlock

from .models import MAX_PERCENT, MarkupRule
from .search import MATCH_MODES
from .services import RULE_FIELDS


class NumberSearchQuery(QueryForm):
    match = forms.ChoiceField(required=False, choices=[(mode, mode) for mode in MATCH_MODES])
    block = IdListField(required=False)
    after = forms.CharField(required=False, max_length=16)
    before = forms.CharField(required=False, max_length=16)


# --- A reseller's price list ------------------------------------------------------------------

MAX_FIXED = Decimal("100000")


def _percent_field(label):
    return forms.DecimalField(
        label=f"{label}: percent",
        required=False,
        min_value=0,
        max_value=MAX_PERCENT,
        max_digits=7,
        decimal_places=2,
        error_messages={
            "invalid": f"{label}: enter the percent as a number, e.g. 25 or 12.5.",
            "min_value": f"{label}: the percent cannot be negative (the floor is wholesale).",
            "max_value": f"{label}: the percent can be at most {MAX_PERCENT}.",
            "max_decimal_places": f"{label}: at most 2 decimals in the percent.",
            "max_digits": f"{label}: the percent can be at most {MAX_PERCENT}.",
            "max_whole_digits": f"{label}: the percent can be at most {MAX_PERCENT}.",
        },
    )


def _fixed_field(label):
    return forms.DecimalField(
        label=f"{label}: fixed amount",
        required=False,
        min_value=-MAX_FIXED,
        max_value=MAX_FIXED,
        max_digits=14,
        decimal_places=5,
        error_messages={
            "invalid": f"{label}: enter the fixed amount as a number, e.g. 1.50 or -0.20.",
            "min_value": f"{label}: the fixed amount must be at least -{MAX_FIXED}.",
            "max_value": f"{label}: the fixed amount must be at most {MAX_FIXED}.",
            "max_decimal_places": f"{label}: at most 5 decimals in the fixed amount.",
            "max_digits": f"{label}: the fixed amount is too large.",
            "max_whole_digits": f"{label}: the fixed amount is too large.",
        },
    )


class MarkupRuleForm(forms.Form):
    """One rule of a reseller's price list. Every field says what is wrong with it: an
    unknown country, a block that does not exist, a negative or too large percent."""

    scope = forms.ChoiceField(
        label="Applies to",
        choices=MarkupRule.Scope.choices,
        error_messages={"invalid_choice": "Applies to: choose one of the scopes listed."},
    )
    country = forms.ChoiceField(
        label="Country",
        required=False,
        choices=[("", "—"), *countries],
        error_messages={"invalid_choice": "Country: “%(value)s” is not a country we know."},
    )
    number_type = forms.ChoiceField(
        label="Number type",
        required=False,
        choices=[("", "—"), *NumberType.choices],
        error_messages={"invalid_choice": "Number type: choose one of the types listed."},
    )
    block = forms.CharField(
        label="Block id",
        required=False,
        max_length=20,
        help_text="The block's number, as in the catalog's links (…/search/?block=12).",
    )
    rounding = forms.ChoiceField(
        label="Rounding",
        choices=MarkupRule.Rounding.choices,
        initial=MarkupRule.Rounding.NONE,
        help_text="Only ever up, never below wholesale; per-minute prices are not rounded.",
        error_messages={"invalid_choice": "Rounding: choose one of the options listed."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for part, label in MarkupRule.PARTS:
            short = label.split(" (")[0]
            self.fields[f"{part}_percent"] = _percent_field(short)
            self.fields[f"{part}_fixed"] = _fixed_field(short)
        self.fields[
            "recurring_fixed"
        ].help_text = "Per month: weekly plans add it × 12 / 52, daily plans × 12 / 365."

    def clean_block(self):
        text = self.cleaned_data.get("block", "")
        if self.data.get(self.add_prefix("scope")) != MarkupRule.Scope.BLOCK:
            return None
        block_id = parse_id(text)
        block = NumberBlock.objects.filter(pk=block_id).first() if block_id else None
        if block is None:
            raise forms.ValidationError(f"Block id: there is no block “{text}”.")
        return block

    def clean(self):
        cleaned = super().clean()
        target = {"country": "country", "number_type": "number_type"}.get(cleaned.get("scope"))
        if target and not cleaned.get(target) and target not in self.errors:
            self.add_error(target, f"{self.fields[target].label}: choose the one this rule is for.")
        for name, field in self.fields.items():
            if isinstance(field, forms.DecimalField) and cleaned.get(name) is None:
                if name not in self.errors:
                    cleaned[name] = Decimal(0)
        return cleaned

    def rule_fields(self):
        """The cleaned values as ``catalog.services.markup_rule_save`` takes them."""
        return {name: self.cleaned_data[name] for name in RULE_FIELDS}

    @classmethod
    def initial_of(cls, rule):
        """The form's initial data for ``rule``."""
        initial = {name: getattr(rule, name) for name in RULE_FIELDS if name != "block"}
        initial["country"] = str(rule.country)
        initial["block"] = rule.block_id or ""
        return initial


class PreviewPage(QueryForm):
    page = forms.IntegerField(required=False, min_value=1, max_value=100000)
