"""Fast, exact checks of E.164 numbers for a file import (a million rows in about a second).

``inventory.numbers`` runs ``phonenumbers.parse`` + ``is_valid_number`` + ``region_code_for_number``
per number: about 55 µs, a minute for a million rows. Here phonenumbers' own metadata and rules
are compiled once per country (and area code) into one regular expression over the whole
``+…`` number, matched in one C call:

- a number is valid for a region when its national significant number matches the region's
  general pattern and at least one number-type pattern (fixed line, mobile, toll-free, …),
  each with its possible lengths — what ``phonenumbers._number_type_helper`` checks one
  pattern at a time;
- a country calling code shared by several regions (+1, +44, +7, …) belongs to the first
  region in phonenumbers' list whose leading digits (or, without them, patterns) claim the
  number — what ``region_code_for_number`` does;
- a national part that starts like a national prefix (``+310…``) is left to phonenumbers,
  whose parser may read it differently.

A number the regex refuses goes to ``slow_error``, phonenumbers itself, which has the last
word and the message. ``tests/inventory/test_import_phone.py`` checks both agree.
"""

import re
from functools import cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

NUMBER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def _desc_pattern(desc):
    """The regex text of one number description, its possible lengths included."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = desc.possible_length
    if lengths:
        lookahead = "|".join(f"\\d{{{n}}}" for n in lengths if n > 0)
        if not lookahead:
            return None
        return f"(?=(?:{lookahead})\\Z)(?:{desc.national_number_pattern})"
    return f"(?:{desc.national_number_pattern})"


@cache
def _valid_pattern(region):
    """Regex text: a full match means "a valid national number of ``region``"."""
    metadata = PhoneMetadata.metadata_for_region(region)
    general = _desc_pattern(metadata.general_desc) if metadata else None
    types = [_desc_pattern(getattr(metadata, name)) for name in NUMBER_TYPES] if metadata else []
    types = [t for t in types if t]
    if not general or not types:
        return "(?!)"
    return f"(?={general}\\Z)(?:{'|'.join(types)})"


class CountryNumbers:
    """Checks the E.164 numbers of one country (ISO code), e.g. ``CountryNumbers("NL")``."""

    def __init__(self, region):
        self.region = region
        self.calling_code = phonenumbers.country_code_for_region(region)
        self.prefix = f"+{self.calling_code}"
        regions = COUNTRY_CODE_TO_REGION_CODE.get(self.calling_code, ())
        position = regions.index(region) if region in regions else 0
        own = PhoneMetadata.metadata_for_region(region)
        main = PhoneMetadata.metadata_for_region(
            phonenumbers.region_code_for_country_code(self.calling_code)
        )
        national_prefix = main.national_prefix_for_parsing if main else None
        guards = [f"(?!(?:{national_prefix}))"] if national_prefix else []
        for earlier in regions[:position]:
            metadata = PhoneMetadata.metadata_for_region(earlier)
            if metadata is None:
                continue
            if metadata.leading_digits is not None:
                guards.append(f"(?!(?:{metadata.leading_digits}))")
            else:
                guards.append(f"(?!(?:{_valid_pattern(earlier)})\\Z)")
        if own and own.leading_digits:
            guards.append(f"(?=(?:{own.leading_digits}))")
        self._guards = "".join(guards)

    @cache  # noqa: B019 (one checker per country, kept for the life of the process)
    def matcher(self, area_code=""):
        """``fullmatch`` of the valid numbers of this country that start with ``area_code``
        (except those left to phonenumbers' parser, see above)."""
        pattern = (
            re.escape(self.prefix)
            + self._guards
            + (f"(?={re.escape(area_code)})" if area_code else "")
            + f"(?:{_valid_pattern(self.region)})"
        )
        return re.compile(pattern).fullmatch

    def error(self, number):
        """None when ``number`` (``+`` and digits) is a valid number of this country, else why."""
        if not number.startswith(self.prefix):
            return f"{number} is not a {self.region} number (they start {self.prefix})."
        if self.matcher()(number):
            return None
        return slow_error(number, self.region)


def slow_error(number, region):
    """What ``phonenumbers`` itself has against ``number`` as a number of ``region``."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return f"{number} is not a phone number."
    valid = phonenumbers.is_valid_number(parsed)
    found = phonenumbers.region_code_for_number(parsed)
    if valid and found != region:
        return f"{number} is a {found} number, not {region}."
    if not valid:
        return f"{number} is not a valid {region} number."
    canonical = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if canonical != number:
        return f"write {number} as {canonical}."
    return None


@cache
def country_numbers(region):
    """The checker of ``region``, or None when phonenumbers knows no calling code for it."""
    if not phonenumbers.country_code_for_region(region):
        return None
    return CountryNumbers(region)
