"""Validation of billing identity fields (country codes, VAT numbers)."""

import re

from django.core.exceptions import ValidationError
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)


def normalize_vat_number(vat_number, country):
    """Return the VAT number in its compact form, or raise ValidationError naming the problem.

    EU numbers are checked with their country prefix (and must match the account's country);
    elsewhere the country's own format is checked where python-stdnum knows it.
    """
    vat_number = (vat_number or "").strip()
    if not vat_number:
        return ""
    if country in EU_COUNTRIES:
        compact = re.sub(r"[\s.\-/]", "", vat_number).upper()
        if compact[:2].isdigit():
            compact = ("EL" if country == "GR" else country) + compact
        try:
            eu_vat.validate(compact)
        except StdnumError as exc:
            raise ValidationError(f"“{vat_number}” is not a valid EU VAT number ({exc}).") from exc
        prefix_country = "GR" if compact[:2] == "EL" else compact[:2]
        if prefix_country != country:
            raise ValidationError(
                f"The VAT number is from {prefix_country} but the account's country is {country}."
            )
        return compact
    module = get_cc_module(country.lower(), "vat") if country else None
    if module is None:
        return vat_number.upper()
    try:
        return module.validate(vat_number)
    except StdnumError as exc:
        raise ValidationError(f"“{vat_number}” is not a valid VAT number ({exc}).") from exc
