"""``/v3/`` catalog: countries, regions, cities, did_group_types, did_groups (with their
stock keeping units) and available_dids, read-only, as DIDWW's API v3 lists them.

Every list takes DIDWW's ``filter[...]`` (``api.filters_catalog``), ``sort``, ``include``
and ``page[number]`` / ``page[size]``; a detail takes ``include``. The coverage is the same
for every caller; prices are the caller's (its account's price chain), and available
numbers leave out what others hold in their carts.
"""

from functools import cached_property

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework_json_api.filters import QueryParameterValidationFilter

from . import filters_catalog as f
from . import selectors_catalog as catalog
from . import serializers_catalog as s
from .base import ReadOnlyViewSet
from .linkage import IncludedLinkageRenderer


class CatalogViewSet(ReadOnlyViewSet):
    """List and show plain rows: ``rows(filters, order)`` and ``row(pk)`` say which."""

    filter_backends = [QueryParameterValidationFilter]  # parameter names; values: forms
    renderer_classes = [IncludedLinkageRenderer]  # linkage only for included resources
    filter_form = f.NO_FILTERS
    sorts: dict = {}
    default_sort = ()

    def get_queryset(self):  # the rows are not a queryset; schema generation asks
        return []

    @cached_property
    def coverage(self):
        return catalog.Coverage()

    @cached_property
    def pricing(self):
        return catalog.Pricing(self.account)

    def list(self, request, *args, **kwargs):
        self.filter_queryset([])
        filters = f.parse_filters(request, self.filter_form)
        order = f.parse_sort(request, list(self.sorts), self.default_sort)
        page = self.paginate_queryset(self.rows(filters, order))
        serializer = self.get_serializer(self.rendered(page), many=True)
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request, pk=None, *args, **kwargs):
        self.filter_queryset([])
        f.parse_filters(request, f.NO_FILTERS)
        if "sort" in request.query_params:
            raise f.BadParameter("sort", "A single resource is not sorted.")
        row = self.row(str(pk))
        if row is None:
            raise exceptions.NotFound()
        return Response(self.get_serializer(self.rendered([row])[0]).data)

    def rendered(self, rows):
        """The page's rows as the serializer reads them."""
        return rows

    def rows(self, filters, order):
        raise NotImplementedError

    def row(self, pk):
        raise NotImplementedError

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, f.BadParameter) and isinstance(response.data, list):
            for error in response.data:  # about a query parameter, not the (absent) body
                error.get("source", {}).pop("pointer", None)
        return response


def _matches(values, value):
    return values is None or value in values


def _upper(values):
    return None if values is None else {v.upper() for v in values}


class CountryViewSet(CatalogViewSet):
    """Countries we have numbers in (``is_available``: some of them buyable now)."""

    resource_name = "countries"
    serializer_class = s.CountrySerializer
    filter_form = f.COUNTRY_FILTERS
    sorts = {
        "name": lambda c: c.name,
        "iso": lambda c: c.iso,
        "prefix": lambda c: int(c.prefix or 0),
    }
    default_sort = (("name", False),)

    def rows(self, filters, order):
        ids = _upper(filters.get("id"))
        isos = _upper(filters.get("iso"))
        names = filters.get("name")
        prefixes = {p.removeprefix("+") for p in filters.get("prefix", [])} or None
        available = filters.get("is_available")
        rows = [
            c
            for c in self.coverage.countries.values()
            if _matches(ids, c.pk)
            and _matches(isos, c.iso)
            and _matches(names, f.names(c.name))
            and _matches(prefixes, c.prefix)
            and (available is None or c.is_available == available)
        ]
        return f.sorted_rows(rows, order, self.sorts)

    def row(self, pk):
        return self.coverage.countries.get(pk.upper())


class RegionViewSet(CatalogViewSet):
    """The blocks' regions (no ISO 3166-2 codes: ``iso`` is null)."""

    resource_name = "regions"
    serializer_class = s.RegionSerializer
    filter_form = f.REGION_FILTERS
    sorts = {"name": lambda r: r.name}
    default_sort = (("name", False),)

    def rows(self, filters, order):
        ids, names = filters.get("id"), filters.get("name")
        country_ids = _upper(filters.get("country.id"))
        rows = [
            r
            for r in self.coverage.regions.values()
            if _matches(ids, r.pk)
            and _matches(names, f.names(r.name))
            and _matches(country_ids, r.country.pk)
        ]
        return f.sorted_rows(rows, order, self.sorts)

    def row(self, pk):
        return self.coverage.regions.get(pk)


class CityViewSet(CatalogViewSet):
    """The blocks' cities, each within its region."""

    resource_name = "cities"
    serializer_class = s.CitySerializer
    filter_form = f.CITY_FILTERS
    sorts = {"name": lambda c: c.name}
    default_sort = (("name", False),)

    def rows(self, filters, order):
        ids, names = filters.get("id"), filters.get("name")
        country_ids = _upper(filters.get("country.id"))
        region_ids = filters.get("region.id")
        available = filters.get("is_available")
        rows = [
            c
            for c in self.coverage.cities.values()
            if _matches(ids, c.pk)
            and _matches(names, f.names(c.name))
            and _matches(country_ids, c.country.pk)
            and _matches(region_ids, c.region.pk if c.region else None)
            and (available is None or c.is_available == available)
        ]
        return f.sorted_rows(rows, order, self.sorts)

    def row(self, pk):
        return self.coverage.cities.get(pk)


class DidGroupTypeViewSet(CatalogViewSet):
    """Our number types: local, national, mobile, toll-free, shared cost."""

    resource_name = "did_group_types"
    serializer_class = s.DidGroupTypeSerializer
    filter_form = f.GROUP_TYPE_FILTERS
    sorts = {"name": lambda t: t.name}
    default_sort = ()

    def rows(self, filters, order):
        ids, names = filters.get("id"), filters.get("name")
        rows = [
            t
            for t in catalog.group_types()
            if _matches(ids, t.pk) and _matches(names, f.names(t.name))
        ]
        return f.sorted_rows(rows, order, self.sorts)

    def row(self, pk):
        return catalog.group_type(pk)


def _block_pk(text):
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


class DidGroupViewSet(CatalogViewSet):
    """Number blocks, with their stock (meta) and their channel options priced for the
    caller (``include=stock_keeping_units``). Blocks without buyable numbers are listed too,
    with ``is_available`` false, as DIDWW lists its coverage (``filter[is_available]=true``
    keeps the buyable ones)."""

    resource_name = "did_groups"
    serializer_class = s.DidGroupSerializer
    filter_form = f.GROUP_FILTERS
    sorts = {
        "country.name": lambda g: g.country.name,
        "area_name": lambda g: g.area_name,
        "prefix": lambda g: g.prefix,
        "did_group_type.name": lambda g: g.did_group_type.name,
        "is_metered": lambda g: g.is_metered,
        "allow_additional_channels": lambda g: g.allow_additional_channels,
        "service_restrictions": lambda g: g.service_restrictions,
    }
    default_sort = (("country.name", False), ("area_name", False), ("prefix", False))

    def rows(self, filters, order):
        groups = [
            g for g in catalog.groups(self.coverage, self.pricing) if _group_passes(g, filters)
        ]
        return f.sorted_rows(groups, order, self.sorts)

    def row(self, pk):
        pk = _block_pk(pk)
        place = self.coverage.places.get(pk)
        return None if place is None else catalog.DidGroup(place, self.pricing)


def _group_passes(group, filters) -> bool:
    checks = {
        "id": lambda v: group.pk in v,
        "prefix": lambda v: group.prefix in v,
        "area_name": lambda v: f.names(group.area_name) in v,
        "is_metered": lambda v: group.is_metered == v,
        "allow_additional_channels": lambda v: group.allow_additional_channels == v,
        "available_dids_enabled": lambda v: group.available_dids_enabled == v,
        "needs_registration": lambda v: group.needs_registration == v,
        "is_available": lambda v: group.is_available == v,
        "features": lambda v: set(v) <= set(group.features),
        "country.id": lambda v: group.country.pk in {c.upper() for c in v},
        "region.id": lambda v: group.region is not None and group.region.pk in v,
        "city.id": lambda v: group.city is not None and group.city.pk in v,
        "did_group_type.id": lambda v: group.did_group_type.pk in v,
        "meta.total_count_gteq": lambda v: group.total_count >= v,
    }
    return all(checks[name](value) for name, value in filters.items())


# Filters of available_dids that pick blocks, as the did_groups filter of the same meaning.
BLOCK_FILTERS = {
    "did_group.id": "id",
    "did_group.features": "features",
    "did_group.needs_registration": "needs_registration",
    "did_group_type.id": "did_group_type.id",
    "country.id": "country.id",
    "region.id": "region.id",
    "city.id": "city.id",
}


class AvailableDidViewSet(CatalogViewSet):
    """Numbers the caller could buy now, in number order (``sort=-number`` backwards), with
    their DID group (``include=did_group`` or ``did_group.stock_keeping_units``)."""

    resource_name = "available_dids"
    serializer_class = s.AvailableDidSerializer
    filter_form = f.AVAILABLE_DID_FILTERS
    sorts = {"number": None}
    default_sort = (("number", False),)

    def rows(self, filters, order):
        block_ids = None
        picks = {BLOCK_FILTERS[k]: v for k, v in filters.items() if k in BLOCK_FILTERS}
        if picks:
            groups = catalog.groups(self.coverage, self.pricing)
            block_ids = [g.pk for g in groups if _group_passes(g, picks)]
        return catalog.AvailableDids(
            holder=self.request.user,
            block_ids=block_ids,
            ids=filters.get("id"),
            contains=filters.get("number_contains", ""),
            descending=order[0][1],
        )

    def rendered(self, rows):
        return catalog.with_groups(rows, self.pricing)

    def row(self, pk):
        pk = _block_pk(pk)
        return None if pk is None else catalog.available_did(pk, holder=self.request.user)


# --- OpenAPI -----------------------------------------------------------------------------------


def _include_parameter(viewset):
    paths = []

    def walk(serializer, prefix, depth):
        for name, included in getattr(serializer, "included_serializers", {}).items():
            paths.append(f"{prefix}{name}")
            if depth < 1:
                walk(included, f"{prefix}{name}.", depth + 1)

    walk(viewset.serializer_class, "", 0)
    if not paths:
        return None
    return OpenApiParameter(
        "include",
        str,
        description="Comma-separated relationships to include: " + ", ".join(paths),
    )


def _document(viewset):
    """The filters, sorts and includes of ``viewset`` as OpenAPI query parameters."""
    filters = [
        OpenApiParameter(
            f"filter[{name}]",
            str,
            description="Comma-separated values match any of them"
            if isinstance(field, f.ListField)
            else "",
        )
        for name, field in viewset.filter_form.base_fields.items()
    ]
    sort = OpenApiParameter(
        "sort",
        str,
        description="Comma-separated, - for descending: " + ", ".join(viewset.sorts),
    )
    includes = [p for p in (_include_parameter(viewset),) if p is not None]
    return extend_schema_view(
        list=extend_schema(parameters=[*filters, sort, *includes]),
        retrieve=extend_schema(parameters=includes),
    )(viewset)


for _viewset in (
    CountryViewSet,
    RegionViewSet,
    CityViewSet,
    DidGroupTypeViewSet,
    DidGroupViewSet,
    AvailableDidViewSet,
):
    _document(_viewset)
