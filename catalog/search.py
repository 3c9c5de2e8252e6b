"""What a buyer typed into the number search, read the way people write phone numbers.

"+33 4 72", "0033 4 72", "33472", "04 72" and "472" all mean the same prefix in France: a
leading ``+`` (or ``00`` and the country's calling code) marks international digits, a
leading national (trunk) prefix such as France's ``0`` is dropped where the country has one
(Italy keeps its ``0``: phonenumbers knows which), and spaces, dashes, dots, slashes and
brackets are formatting. Anything else (letters, symbols) is ignored and the page says so.
"""

import re
from dataclasses import dataclass

import phonenumbers
from django.db.models import Q
from django.db.models.functions import Reverse

MATCH_MODES = ("starts", "contains", "ends")
FORMATTING = re.compile(r"[\s\-./()]")
MAX_LENGTH = 40  # longer input is cut: no phone number has that many characters


@dataclass(frozen=True)
class NumberQuery:
    text: str = ""  # as typed (cut to MAX_LENGTH), shown back in the search box
    digits: str = ""  # the digits searched for
    international: bool = False  # digits start with the calling code (typed with + or 00)
    ignored: str = ""  # characters dropped that are not formatting

    @property
    def notice(self):
        """Tells the visitor what was ignored ("" when nothing was)."""
        if not self.ignored:
            return ""
        what = "Letters are" if self.ignored.isalpha() else "Characters other than digits are"
        shown = f"{'+' if self.international else ''}{self.digits}"
        target = f"searching for {shown}" if self.digits else "showing all numbers"
        return f"{what} ignored: {target}."


def number_query_parse(text, country):
    """Read the search text for ``country`` (ISO code) into a NumberQuery."""
    text = (text or "")[:MAX_LENGTH].strip()
    body = FORMATTING.sub("", text)
    plus = body.startswith("+")
    body = body.removeprefix("+")
    digits = "".join(ch for ch in body if ch.isascii() and ch.isdigit())
    ignored = "".join(ch for ch in body if not (ch.isascii() and ch.isdigit()))
    calling_code = str(phonenumbers.country_code_for_region(country))
    international = plus
    if not plus and digits.startswith(f"00{calling_code}"):
        digits, international = digits[2:], True
    return NumberQuery(text=text, digits=digits, international=international, ignored=ignored)


def _national_prefix(country):
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    return (metadata.national_prefix or "") if metadata else ""


def number_condition(query, country, mode):
    """A Q on DID.number (E.164) for the query in ``mode`` (starts, contains or ends).

    International digits are the number from its start, so they match as a prefix (starts,
    contains) or the whole number (ends). National digits match the digits after the
    calling code (starts), anywhere (contains) or at the end (ends); typed with the
    national prefix they also match as that national number's start (or the whole of it
    for "ends"). Digits that begin with the calling code may be either, so "starts" tries
    both: "33472" in France finds +33 4 72… as well as +33 3 34 72…."""
    digits = query.digits
    if query.international:
        return Q(number=f"+{digits}") if mode == "ends" else Q(number__startswith=f"+{digits}")
    calling_code = str(phonenumbers.country_code_for_region(country))
    trunk = _national_prefix(country)
    national = digits.removeprefix(trunk) if trunk else digits
    if mode == "starts":
        condition = Q(number__startswith=f"+{calling_code}{national}")
        if digits.startswith(calling_code):
            condition |= Q(number__startswith=f"+{digits}")
        return condition
    if mode == "contains":
        condition = Q(number__contains=digits)
    else:
        condition = Q(reversed_number__startswith=digits[::-1])
    if trunk and digits.startswith(trunk) and national:
        lookup = "number__startswith" if mode == "contains" else "number"
        condition |= Q(**{lookup: f"+{calling_code}{national}"})
    return condition


def numbers_matching(numbers, query, country, mode):
    """``numbers`` (a DID queryset) narrowed to the query; all of them without digits."""
    if not query.digits:
        return numbers
    if mode == "ends":  # answered by the index on reverse(number) (catalog migration 0003)
        numbers = numbers.alias(reversed_number=Reverse("number"))
    return numbers.filter(number_condition(query, country, mode))
