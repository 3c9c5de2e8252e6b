from decimal import Decimal

import phonenumbers
from django import template

from catalog.pricing import PER_PERIOD

register = template.Library()


@register.filter
def money(value, places=2):
    """A price for people: at least ``places`` decimals, more only where they matter
    (0.00850 → 0.0085, 3 → 3.00). Empty for None."""
    if value in (None, ""):
        return ""
    amount = Decimal(value).normalize()
    exponent = -amount.as_tuple().exponent
    return f"{amount:.{max(int(places), exponent)}f}"


@register.filter
def phone(number):
    """An E.164 number as people read it: "+33155500000" → "+33 1 55 50 00 00" (as given
    when it does not parse)."""
    try:
        parsed = phonenumbers.parse(str(number))
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def per_period(period):
    """A billing period ("monthly", "weekly", "daily", "one_time") or a subscription's unit
    ("month", …) as price wording: "per month", "per week", "per day", "once"."""
    return PER_PERIOD.get(period, "")


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (None or "" removes them)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"
