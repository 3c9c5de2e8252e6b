"""Pure parsing of phone numbers and number specs (no database access).

A number spec is what an admin types to add numbers to a block: tokens separated by
newlines or commas, each token being

- one number in E.164 form: ``+31205550000`` (spaces inside are ignored);
- one number in short form: digits without ``+``, which are appended to the block's
  country calling code and area code (``5550000`` in an Amsterdam block, area code 20,
  is ``+31205550000``; in a block without an area code they are the whole national number);
- an inclusive range ``lower-upper`` whose ends use either form:
  ``+31205550000-+31205550999`` or ``5550000-5550999``.

Every number must be valid for the block's country according to ``phonenumbers`` and, when
the block has an area code, start with it. For a range only the two ends are checked with
``phonenumbers`` (validating 100,000 numbers one by one takes seconds); the ends must have
the same number of digits, so every number in between shares their length and the longest
common prefix, including the country and area code.
"""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

E164_RE = re.compile(r"^\+[1-9]\d{1,14}$")
SIP_URI_RE = re.compile(r"^sips?:[^\s@:]+@[^\s@]+$", re.IGNORECASE)
MAX_REPORTED_ERRORS = 20


def validate_destination(value):
    """A routing destination: an E.164 number or a SIP URI (``sip:user@host``)."""
    if value and not (E164_RE.match(value) or SIP_URI_RE.match(value)):
        raise ValidationError(
            "Enter an E.164 number (+31205550000) or a SIP URI (sip:user@example.com)."
        )


def local_prefix(block):
    """``+`` + country calling code + area code: what short-form digits are appended to."""
    calling_code = phonenumbers.country_code_for_region(block.country.code)
    return f"+{calling_code}{block.area_code}"


def parse_number_spec(text, *, block, max_count=None):
    """Turn a number spec into a list of E.164 strings, in input order.

    Raises ValidationError naming each offending line and token; nothing is returned
    unless the whole spec is good.
    """
    if max_count is None:
        max_count = getattr(settings, "DID_ADD_MAX", 100_000)
    prefix = local_prefix(block)
    numbers = []
    first_seen_on = {}
    errors = []
    for line_no, token in _tokens(text):
        where = f"Line {line_no} “{token}”"
        try:
            lower, upper = _parse_token(token, block=block, prefix=prefix)
        except ValidationError as exc:
            errors.append(f"{where}: {exc.messages[0]}")
            continue
        count = int(upper[1:]) - int(lower[1:]) + 1
        if len(numbers) + count > max_count:
            raise ValidationError(
                f"{where}: too many numbers. At most {max_count:,} can be added at once; "
                f"this line brings the total to {len(numbers) + count:,}."
            )
        for number in _expand(lower, upper):
            if number in first_seen_on:
                errors.append(
                    f"{where}: {number} is already listed on line {first_seen_on[number]}."
                )
                break
            first_seen_on[number] = line_no
            numbers.append(number)
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    if errors:
        raise ValidationError(errors[:MAX_REPORTED_ERRORS])
    if not numbers:
        raise ValidationError("Enter at least one number.")
    return numbers


def _tokens(text):
    for line_no, line in enumerate(text.splitlines(), start=1):
        for raw in line.split(","):
            token = "".join(raw.split())
            if token:
                yield line_no, token


def _parse_token(token, *, block, prefix):
    parts = token.split("-")
    if len(parts) == 1:
        number = _parse_number(parts[0], block=block, prefix=prefix)
        return number, number
    if len(parts) != 2 or not all(parts):
        raise ValidationError("a range is written lower-upper, e.g. 5550000-5550999.")
    lower = _parse_number(parts[0], block=block, prefix=prefix)
    upper = _parse_number(parts[1], block=block, prefix=prefix)
    if len(lower) != len(upper):
        raise ValidationError(
            f"both ends of a range need the same number of digits ({lower}, {upper})."
        )
    if int(upper[1:]) < int(lower[1:]):
        raise ValidationError(f"the range is reversed: {upper} is below {lower}.")
    return lower, upper


def _parse_number(text, *, block, prefix):
    if text.startswith("+"):
        candidate = text
    elif text.isdigit():
        candidate = prefix + text
    else:
        raise ValidationError(f"{text} is not a phone number.")
    if not E164_RE.match(candidate):
        raise ValidationError(f"{text} is not a phone number.")
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"{candidate} is not a phone number ({exc}).") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(f"{candidate} is not a valid phone number.")
    country = block.country.code
    region = phonenumbers.region_code_for_number(parsed)
    if region != country:
        raise ValidationError(f"{candidate} is a {region} number; this block is in {country}.")
    canonical = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if canonical != candidate:
        raise ValidationError(f"write {candidate} as {canonical}.")
    if not candidate.startswith(prefix):
        raise ValidationError(
            f"{candidate} does not start with {prefix}, this block's country and area code."
        )
    return candidate


def _expand(lower, upper):
    """Every number from lower to upper. E.164 digits never start with 0, so ``+{n}`` has
    the same length as both ends."""
    for value in range(int(lower[1:]), int(upper[1:]) + 1):
        yield f"+{value}"
