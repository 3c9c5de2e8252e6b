"""The catalog's query parameters, parsed by forms: ``filter[<name>]`` as DIDWW names its
filters, and ``sort``. Anything else is refused with 400 and says which parameter.

Values: a comma-separated list matches any of its values (``filter[country.id]=DE,FR``);
booleans are ``true`` / ``false``; names compare without case or accents. A filter
DIDWW has but we cannot honour (NANPA prefixes, areas) is refused like an unknown one,
rather than silently matching everything.

Forms, not django-filter FilterSets: half of these resources are not querysets (countries,
regions and cities come from the blocks' texts), and one parser keeps the errors alike.
"""

import re

from django import forms
from rest_framework import exceptions, status

from .ids import place_key

FILTER = re.compile(r"^filter\[([\w.\-]+)\]$")
SORT_TERM = re.compile(r"^-?[\w.]+$")
MAX_VALUES = 100


class BadParameter(exceptions.APIException):
    """A query parameter we cannot use: 400, naming it in ``source.parameter``."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_parameter"

    def __init__(self, parameter, detail, title="Invalid parameter"):
        super().__init__(
            [
                {
                    "title": title,
                    "detail": detail,
                    "status": "400",
                    "code": self.default_code,
                    "source": {"parameter": parameter},
                }
            ]
        )


# --- Fields -----------------------------------------------------------------------------------


class ListField(forms.CharField):
    """Comma-separated values: a list of the non-empty ones (at most MAX_VALUES)."""

    def __init__(self, *, item=str, max_item_length=100, **kwargs):
        self.item = item
        self.max_item_length = max_item_length
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 5000)
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        values = [part.strip() for part in text.split(",") if part.strip()]
        if not values:
            return None  # not sent (a sent one is refused by parse_filters)
        if len(values) > MAX_VALUES:
            raise forms.ValidationError(f"At most {MAX_VALUES} values.")
        if any(len(v) > self.max_item_length for v in values):
            raise forms.ValidationError(f"A value is longer than {self.max_item_length}.")
        return [self.item(v) for v in values]


def _id(text):
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise forms.ValidationError(f"“{text[:30]}” is not an id.")
    return int(text)


def IdListField():  # noqa: N802 (a field factory, named like one)
    return ListField(item=_id)


def _choice(allowed):
    def check(text):
        if text not in allowed:
            raise forms.ValidationError(f"“{text[:30]}” is not one of {', '.join(allowed)}.")
        return text

    return check


class BooleanFilter(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=[("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")],
            coerce=lambda v: v in ("true", "1"),
            required=False,
            **kwargs,
        )

    def to_python(self, value):
        return super().to_python(value).strip().lower()


class DigitsField(forms.CharField):
    """Digits of a phone number (spaces, dashes, dots, brackets and a leading + dropped)."""

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=40, **kwargs)

    def to_python(self, value):
        text = re.sub(r"[\s\-.()/]", "", super().to_python(value)).removeprefix("+")
        if not value:
            return None
        if not text or not text.isascii() or not text.isdigit():
            raise forms.ValidationError("Give the digits to look for, e.g. 4930.")
        return text


def form(name, fields):
    """A form whose field names are DIDWW's filter names (dots and all)."""
    form_class = type(name, (forms.Form,), {})
    form_class.base_fields = form_class.declared_fields = fields
    return form_class


def names(text):
    """Folded names, as place names compare."""
    return place_key(text)


COUNTRY_FILTERS = form(
    "CountryFilters",
    {
        "id": ListField(),
        "iso": ListField(),
        "name": ListField(item=names),
        "prefix": ListField(),
        "is_available": BooleanFilter(),
    },
)
REGION_FILTERS = form(
    "RegionFilters",
    {"id": ListField(), "name": ListField(item=names), "country.id": ListField()},
)
CITY_FILTERS = form(
    "CityFilters",
    {
        "id": ListField(),
        "name": ListField(item=names),
        "country.id": ListField(),
        "region.id": ListField(),
        "is_available": BooleanFilter(),
    },
)
GROUP_TYPE_FILTERS = form("GroupTypeFilters", {"id": ListField(), "name": ListField(item=names)})
FEATURES = ("voice_in", "sms_in", "t38")
GROUP_FILTERS = form(
    "DidGroupFilters",
    {
        "id": IdListField(),
        "prefix": ListField(),
        "area_name": ListField(item=names),
        "is_metered": BooleanFilter(),
        "allow_additional_channels": BooleanFilter(),
        "available_dids_enabled": BooleanFilter(),
        "needs_registration": BooleanFilter(),
        "is_available": BooleanFilter(),
        "features": ListField(),
        "country.id": ListField(),
        "region.id": ListField(),
        "city.id": ListField(),
        "did_group_type.id": ListField(),
        "meta.total_count_gteq": forms.IntegerField(required=False, min_value=0, max_value=10**9),
    },
)
AVAILABLE_DID_FILTERS = form(
    "AvailableDidFilters",
    {
        "id": IdListField(),
        "number_contains": DigitsField(),
        "did_group.id": IdListField(),
        "did_group.features": ListField(),
        "did_group.needs_registration": BooleanFilter(),
        "did_group_type.id": ListField(),
        "country.id": ListField(),
        "region.id": ListField(),
        "city.id": ListField(),
    },
)
NO_FILTERS = form("NoFilters", {})


def parse_filters(request, form_class) -> dict:
    """``{filter name: cleaned value}`` for the ``filter[...]`` parameters sent (only those)."""
    data = {}
    for key, values in request.query_params.lists():
        if not key.startswith("filter"):
            continue
        match = FILTER.match(key)
        if match is None:
            raise BadParameter(key, f"“{key[:60]}” is not a filter: use filter[<name>].")
        name = match[1]
        if name not in form_class.base_fields:
            allowed = ", ".join(sorted(form_class.base_fields)) or "none"
            raise BadParameter(
                key, f"{name} is not a filter here. Filters: {allowed}.", "Filter not allowed"
            )
        if len(values) > 1:
            raise BadParameter(key, f"Send {key} once (a list is comma-separated).")
        data[name] = values[0]
    bound = form_class(data)
    if not bound.is_valid():
        name, errors = next(iter(bound.errors.items()))
        raise BadParameter(f"filter[{name}]", " ".join(errors))
    cleaned = {name: bound.cleaned_data[name] for name in data}
    for name, value in cleaned.items():
        if value in ("", None):
            raise BadParameter(f"filter[{name}]", "Give a value.")
    return cleaned


def parse_sort(request, allowed, default) -> list[tuple[str, bool]]:
    """``sort=a,-b`` as ``[("a", False), ("b", True)]`` (True: descending), each one of
    ``allowed``; ``default`` when not sent."""
    text = request.query_params.get("sort")
    if text is None:
        return list(default)
    terms = [term.strip() for term in text.split(",")]
    if not all(terms) or len(terms) > 10 or not all(SORT_TERM.match(t) for t in terms):
        raise BadParameter("sort", "Sort by field names, comma-separated (- for descending).")
    order = []
    for term in terms:
        name = term.removeprefix("-")
        if name not in allowed:
            raise BadParameter(
                "sort", f"Cannot sort by {name}. Sort by: {', '.join(allowed)}.", "Invalid sort"
            )
        order.append((name, term.startswith("-")))
    return order


def sorted_rows(rows, order, keys):
    """``rows`` sorted by ``order`` (from parse_sort); ``keys[name](row)`` gives the value.
    Stable, so earlier terms win; a None sorts first ascending."""
    rows = list(rows)
    for name, descending in reversed(order):
        key = keys[name]
        rows.sort(key=lambda row, key=key: _comparable(key(row)), reverse=descending)
    return rows


def _comparable(value):
    if isinstance(value, str):
        return (value is not None, place_key(value))
    return (value is not None, value)
