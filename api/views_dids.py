"""``/v3/dids`` (list, show, update) and ``/v3/customers`` (list, show; resellers).

Reads come from My numbers' selectors (``cart.selectors_numbers``), scoped in the query to the
key's account or, for a reseller's key with ``filter[customer.id]``, to that customer
(``api.selectors_resellers``). A show or update reaches the key's own numbers and, for a
reseller's admins and support, its customers' numbers (as the number pages do); any other id
answers 404. Updates go through the number page's services, which check the key user's role:
``description``, ``destination`` and ``ring_timeout`` whoever may set where calls go;
``capacity_limit`` whoever may change channels (more is a purchase charged pro rata now,
fewer takes effect at the end of the paid period); ``terminated`` / ``billing_cycles_count``
whoever may cancel the number (released at the end of the paid period; ``false`` / null keeps
it while that is possible).
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Exists, OuterRef, Subquery, Value, When
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError as BadRequest
from rest_framework.renderers import JSONRenderer as PlainJSONRenderer
from rest_framework.response import Response
from rest_framework_json_api.django_filters import DjangoFilterBackend
from rest_framework_json_api.filters import OrderingFilter, QueryParameterValidationFilter

from accounts.models import Account
from billing.models import Subscription
from cart.models_orders import OrderItem
from cart.selectors_numbers import my_number, my_numbers_queryset, number_rows
from inventory.choices import DIDStatus
from inventory.models import DID

from .base import ApiMixin
from .exceptions import Unprocessable
from .linkage import IncludedLinkageRenderer
from .selectors_resellers import CustomerFilterSet, customer_for, customers_of, records_owner
from .serializers_dids import CustomerSerializer, DidResource, DidSerializer, DidUpdateSerializer
from .services_dids import did_update

Kind = Subscription.Kind
SubStatus = Subscription.Status
ID_MAX_DIGITS = 18


# A service's field name → the attribute a client sent.
ATTRIBUTE_OF = {"channels": "capacity_limit", "extra_channels": "capacity_limit"}


def refusal(exc: ValidationError) -> Unprocessable:
    """A service's refusal as a 422 that points at the attribute it is about."""
    if not hasattr(exc, "error_dict"):
        return Unprocessable(detail=exc.messages)
    detail = {}
    for name, errors in exc.message_dict.items():
        attribute = ATTRIBUTE_OF.get(name, name)
        detail.setdefault(attribute, []).extend(errors)
    return Unprocessable(detail=detail)


def parse_id(value) -> int:
    """A URL's id as our primary key, or 404 (not a number, or out of range)."""
    text = str(value or "")
    if not text.isdigit() or len(text) > ID_MAX_DIGITS:
        raise Http404("Not found.")
    return int(text)


# --- Filters and sorting --------------------------------------------------------------------


class ListField(forms.CharField):
    """DIDWW's array filters: comma-separated values, each cleaned by ``item``."""

    def __init__(self, *, item, **kwargs):
        self.item = item
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return []
        return [self.item(part.strip()) for part in text.split(",")[:100] if part.strip()]


def _id(text):
    if not text.isdigit() or len(text) > ID_MAX_DIGITS:
        raise forms.ValidationError(f"“{text[:30]}” is not an id.")
    return int(text)


def _number(text):
    digits = text.removeprefix("+")
    if not digits.isdigit() or len(digits) > 15:
        raise forms.ValidationError(f"“{text[:30]}” is not a number (digits, E.164).")
    return f"+{digits}"


def _country(text):
    code = text.upper()
    if len(code) != 2 or not code.isalpha():
        raise forms.ValidationError(f"“{text[:30]}” is not a country id (ISO 3166 code).")
    return code


def _list_of(pattern, what):
    """The OpenAPI schema of an array filter: ``pattern`` values, comma-separated."""
    return {
        "type": "string",
        "pattern": rf"^\s*{pattern}\s*(,\s*{pattern}\s*)*$",
        "description": f"One or more {what}, comma-separated.",
    }


IDS = _list_of(r"[0-9]{1,18}", "ids")
NUMBERS = _list_of(r"\+?[0-9]{1,15}", "numbers (digits, E.164, with or without +)")
COUNTRIES = _list_of(r"[A-Za-z]{2}", "country ids (ISO 3166 alpha-2 codes)")


class ListFilter(django_filters.Filter):
    """An array filter (``ListField``); ``schema`` describes it in the OpenAPI document
    (drf-spectacular cannot read it from the model: it is not one field's lookup)."""

    def __init__(self, *, item, schema, **kwargs):
        self.item = item
        super().__init__(**kwargs)
        extend_schema_field(schema)(self)

    @property
    def field(self):
        if not hasattr(self, "_field"):
            self._field = ListField(item=self.item, required=False)
        return self._field


class TruthField(forms.CharField):
    """DIDWW's boolean filters: true / false (any case; 1 / 0 too)."""

    def to_python(self, value):
        text = (super().to_python(value) or "").strip().lower()
        if text in ("", None):
            return None
        if text not in ("true", "false", "1", "0"):
            raise forms.ValidationError("Send true or false.")
        return "true" if text in ("true", "1") else "false"


@extend_schema_field(
    {
        "type": "string",
        "enum": ["true", "false"],
        "description": "true or false (1 and 0, in any case, too).",
    }
)
class TruthFilter(django_filters.Filter):
    field_class = TruthField


def _terminated():
    return Exists(
        Subscription.objects.filter(
            did=OuterRef("pk"),
            account_id=OuterRef("owner_id"),
            kind=Kind.NUMBER,
            status=SubStatus.CANCELLED,
        )
    )


class DidFilterSet(CustomerFilterSet):
    id = ListFilter(item=_id, schema=IDS, method="_in", field_name="pk")
    number = ListFilter(item=_number, schema=NUMBERS, method="_in", field_name="number")
    description = django_filters.CharFilter(method="_description", max_length=100)
    terminated = TruthFilter(method="_terminated")
    awaiting_registration = TruthFilter(method="_status")
    blocked = TruthFilter(method="_status")
    did_group__id = ListFilter(item=_id, schema=IDS, method="_in", field_name="block_id")
    country__id = ListFilter(
        item=_country, schema=COUNTRIES, method="_in", field_name="block__country"
    )
    order__id = ListFilter(item=_id, schema=IDS, method="_order")

    class Meta:
        model = DID
        fields = []

    def _in(self, queryset, name, values):
        return queryset.filter(**{f"{name}__in": values}) if values else queryset

    def _description(self, queryset, name, value):
        return queryset.filter(description__icontains=value.strip())

    def _terminated(self, queryset, name, value):
        return queryset.filter(_terminated() if value == "true" else ~_terminated())

    def _status(self, queryset, name, value):
        status = DIDStatus.HOLD if name == "blocked" else DIDStatus.AWAITING_REGISTRATION
        return (
            queryset.filter(status=status) if value == "true" else queryset.exclude(status=status)
        )

    def _order(self, queryset, name, values):
        if not values:
            return queryset
        bought = OrderItem.objects.filter(
            did=OuterRef("pk"),
            order_id__in=values,
            status=OrderItem.Status.COMPLETED,
            order__account_id=OuterRef("owner_id"),
        )
        return queryset.filter(Exists(bought))


class SortFilter(OrderingFilter):
    """``sort`` by the view's ``sort_fields`` (API name → queryset expression name); an
    unknown name is a 400, ties are broken by id."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if not params:
            return [*view.ordering, "pk"]
        terms = [term.strip() for term in params.split(",") if term.strip()]
        ordering, bad = [], []
        for term in terms:
            name = term.lstrip("-")
            if name not in view.sort_fields:
                bad.append(term)
                continue
            ordering.append(("-" if term.startswith("-") else "") + view.sort_fields[name])
        if bad or not ordering:
            raise BadRequest(f"invalid sort parameter: {','.join(bad) or params}")
        return [*ordering, "pk"]


FILTERS = (QueryParameterValidationFilter, SortFilter, DjangoFilterBackend)


class _DropEmptyRelationships(PlainJSONRenderer):
    """Leaves out a relationship that linkage pruning left with neither data nor links
    (JSON:API wants one of them); runs after the pruning (see ``DidRenderer``'s MRO)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data.get("data") if isinstance(data, dict) else None
        for row in rows if isinstance(rows, list) else [rows] if rows else []:
            relationships = row.get("relationships") if isinstance(row, dict) else None
            for name in [n for n, rel in (relationships or {}).items() if not rel]:
                del relationships[name]
        return super().render(data, accepted_media_type, renderer_context)


class DidRenderer(IncludedLinkageRenderer, _DropEmptyRelationships):
    """DIDWW's linkage (``api.linkage``): a relationship carries ``data`` only when it is
    included, otherwise a ``links.related`` URL where the related resource has one."""


# --- DIDs -----------------------------------------------------------------------------------


def _rental(field):
    live = Subscription.objects.filter(
        did=OuterRef("pk"),
        account_id=OuterRef("owner_id"),
        kind=Kind.NUMBER,
        status__in=Subscription.RUNNING_STATUSES,
    )
    return Subquery(live.values(field)[:1])


def _resources(rows):
    """``DidResource``s of ``rows`` with the order each number was bought in (one query)."""
    rental_ids = [row.rental.pk for row in rows if row.rental is not None]
    orders = {
        item.subscription_id: item.order
        for item in OrderItem.objects.filter(subscription_id__in=rental_ids).select_related("order")
    }
    return [
        DidResource(row=row, order=orders.get(row.rental.pk) if row.rental else None)
        for row in rows
    ]


class DidViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The account's numbers, as DIDWW's ``dids``.

    ``number`` is written as DIDWW writes it (digits: country code, area code, subscriber
    number); filters accept it with or without "+". There are no trunks here: calls to a
    number are forwarded to its ``destination`` (an E.164 number or a SIP URI), ringing
    ``ring_timeout`` seconds (null: until answered); both are attributes of the number,
    changed with PATCH. ``capacity_limit`` is the number's channels from the next period on
    (raising it buys channels, charged pro rata now; lowering it gives them up at the end of
    the paid period). ``terminated: true`` (or ``billing_cycles_count: 0``) cancels the
    number: it is released at the end of the paid period (``expires_at``), at once when it
    is on hold; ``false`` (or null) keeps it while the paid period runs. ``blocked`` is a
    number on hold. A reseller's key reads its customers' numbers with
    ``filter[customer.id]``.
    """

    resource_name = "dids"
    serializer_class = DidSerializer
    renderer_classes = (DidRenderer,)
    filter_backends = FILTERS
    filterset_class = DidFilterSet
    ordering = ["number"]
    sort_fields = {
        "number": "number",
        "description": "description",
        "created_at": "sold_at",
        "expires_at": "paid_until",
        "terminated": "is_terminated",
        "blocked": "is_blocked",
        "awaiting_registration": "is_awaiting",
    }
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI document
            return DID.objects.none()
        owner = records_owner(self.request, "dids")
        return my_numbers_queryset(self.request.user, owners=[owner.pk]).annotate(
            sold_at=_rental("created_at"),
            paid_until=_rental("current_period_end"),
            is_terminated=_terminated(),
            is_blocked=Case(
                When(status=DIDStatus.HOLD, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            is_awaiting=Case(
                When(status=DIDStatus.AWAITING_REGISTRATION, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        resources = _resources(number_rows(page))
        return self.get_paginated_response(self.get_serializer(resources, many=True).data)

    def _resource(self, pk):
        return _resources([my_number(self.request.user, parse_id(pk))])[0]

    def retrieve(self, request, pk=None, **kwargs):
        return Response(self.get_serializer(self._resource(pk)).data)

    @extend_schema(request=DidUpdateSerializer, responses=DidSerializer)
    def partial_update(self, request, pk=None, **kwargs):
        resource = self._resource(pk)
        changes = DidUpdateSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        try:
            released = did_update(row=resource.row, actor=request.user, **changes.validated_data)
        except ValidationError as exc:
            raise refusal(exc) from exc
        if released:
            resource.released = True
            return Response(self.get_serializer(resource).data)
        return Response(self.get_serializer(self._resource(pk)).data)


# --- Customers (resellers) ------------------------------------------------------------------


class CustomerFilters(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=200)
    status = django_filters.ChoiceFilter(
        field_name="status", choices=[("active", "active"), ("suspended", "suspended")]
    )

    class Meta:
        model = Account
        fields = []


class CustomerViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """``GET /v3/customers`` and ``/v3/customers/<id>``: a reseller's customers (none for
    any other key)."""

    resource_name = "customers"
    serializer_class = CustomerSerializer
    filter_backends = FILTERS
    filterset_class = CustomerFilters
    ordering = ["name"]
    sort_fields = {"name": "name", "created_at": "created_at"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI document
            return Account.objects.none()
        return customers_of(self.request.user)

    def get_object(self):
        return customer_for(self.request.user, self.kwargs.get("pk"))
