"""The OpenAPI document of /v3/ (drf-spectacular), in JSON:API's shapes.

Every DRF view under ``/v3/`` is described from what it already declares, so the parts of
the API other lanes add appear without any work here:

- the primary data is a resource object of the view's type (``resource_name``, as
  djangorestframework-jsonapi's renderer names it): ``type``, ``id``, ``attributes`` from
  the serializer's fields, ``relationships`` from its related fields (with the related
  type), ``links``/``meta``; requests send ``{"data": {"type", "id"?, "attributes",
  "relationships"}}`` of the same type;
- lists are ``{"data": [...], "included", "meta": {"total_records", "pagination"},
  "links": {"first", "last", "next", "prev"}}`` (``api.pagination.Pagination``);
- query parameters from the view: ``filter[...]`` from its django-filter FilterSet (a
  filter named ``did_group__id`` is ``filter[did_group.id]``, as the JSON:API backend reads
  it), ``sort`` (the view's ``ordering_fields``), ``include`` (the serializer's
  ``included_serializers``), ``page[number]``/``page[size]``;
- errors: every operation documents the JSON:API error document for 400, 401, 403, 404,
  406 and 429 (with ``Retry-After``); writes also 409, 415 and 422.

drf-spectacular-jsonapi was evaluated and not used: it needs drf-extensions, describes
DJA's ``meta.pagination`` with ``additionalProperties: false`` (our lists carry DIDWW's
``meta.total_records``, so every list would fail validation), and documents neither the
error document, ``included``, nor links/meta on resources.
"""

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import (
    ComponentIdentity,
    ResolvedComponent,
    force_instance,
    get_manager,
    get_view_model,
    is_list_serializer,
    is_serializer,
    safe_ref,
)
from rest_framework import serializers as drf_serializers
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.settings import api_settings
from rest_framework_json_api.django_filters import DjangoFilterBackend as JsonApiFilterBackend
from rest_framework_json_api.filters import QueryParameterValidationFilter
from rest_framework_json_api.relations import ManySerializerMethodResourceRelatedField
from rest_framework_json_api.utils import (
    format_field_name,
    get_related_resource_type,
    get_resource_name,
    get_resource_type_from_serializer,
    is_relationship_field,
)

MEDIA_TYPE = "application/vnd.api+json"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# What each error status means in this API (the descriptions in the document).
ERRORS = {
    "400": "The request could not be read: an unknown or malformed query parameter "
    "(filter, sort, include, page), or a body that is not a JSON:API document.",
    "401": "No API key, an unknown or revoked one, or a source address outside its ranges.",
    "403": "The key may not do this (a read-only key writing, or the key's role).",
    "404": "No such resource for this key (another account's id is unknown too), or a page "
    "past the last.",
    "406": "The Accept header does not allow application/vnd.api+json.",
    "409": "The body's type (or, when changing, its id) is not this endpoint's.",
    "415": "The body is not sent as application/vnd.api+json.",
    "422": "Understood, and refused by the business rules (the detail says why: balance, "
    "availability, a requirement).",
    "429": "Over the key's rate limit: wait the Retry-After seconds.",
}
READ_ERRORS = ("400", "401", "403", "404", "406", "429")
WRITE_ERRORS = (*READ_ERRORS, "409", "415", "422")

DESCRIPTION = """
didportal's REST API follows DIDWW's API v3 (resource names, attributes, relationships,
filters, `include`, sorting, paging and error objects), so DIDWW's official SDKs work by
changing only the base URL and the key.

**Authentication.** Send your key in the `Api-Key` header. Keys are created by your
account's admins on the *API keys* page; a key acts as the user who created it. Read-only
keys may list and show; writing with one answers 403. A key may be limited to source IP
ranges.

**Media type.** Requests and responses are JSON:API (`application/vnd.api+json`):
`{"data": {"type", "id", "attributes", "relationships"}}`.

**Lists** take `page[number]` and `page[size]` (50 by default, at most 100) and answer the
total in `meta.total_records`; `filter[...]`, `sort` (a comma-separated list of fields, `-`
for descending) and `include` as each endpoint lists them. An unknown parameter, filter or
sort field is a 400.

**Errors** are `{"errors": [{"title", "detail", "status", "code", "source"}]}`. 401: no or
bad key; 403: not allowed for this key; 404: unknown id (another account's ids are unknown
too); 422: refused by the business rules, with the reason; 429: over the rate limit, with
`Retry-After` in seconds.

**Money** is a decimal string in the account's currency, never a float.
"""

# drf-spectacular settings of the /v3/ document (api.views_docs serves it with them).
SPECTACULAR = {
    "TITLE": "didportal API v3",
    "DESCRIPTION": DESCRIPTION,
    "VERSION": "3",
    "OAS_VERSION": "3.0.3",
    "SCHEMA_PATH_PREFIX": r"/v3/",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["api.schema.v3_endpoints_only"],
    "ENUM_GENERATE_CHOICE_DESCRIPTION": True,
    "SORT_OPERATIONS": True,
}


def v3_endpoints_only(endpoints, **kwargs):
    """The document describes /v3/ only (not the portal's pages or other DRF views)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/v3/")]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Api-Key",
            "description": "An API key of your account (API keys page).",
        }


def _string(**extra):
    return {"type": "string", **extra}


ERROR_OBJECT = {
    "type": "object",
    "required": ["status", "detail"],
    "properties": {
        "title": _string(description="A short summary of the kind of problem."),
        "detail": _string(description="What went wrong, for a person."),
        "status": _string(pattern=r"^[1-5][0-9][0-9]$", description="The HTTP status."),
        "code": _string(description="A stable code for the kind of problem."),
        "source": {
            "type": "object",
            "properties": {
                "pointer": _string(description="Where in the body (e.g. /data/attributes/x)."),
                "parameter": _string(description="Which query parameter."),
            },
        },
        "meta": {"type": "object"},
    },
}
ERROR_DOCUMENT = {
    "type": "object",
    "required": ["errors"],
    "properties": {"errors": {"type": "array", "minItems": 1, "items": ERROR_OBJECT}},
}
# Any resource object (what ``included`` holds: resources of the types ``include`` names).
RESOURCE_OBJECT = {
    "type": "object",
    "required": ["type", "id"],
    "properties": {
        "type": _string(),
        "id": _string(),
        "attributes": {"type": "object"},
        "relationships": {"type": "object"},
        "links": {"type": "object"},
        "meta": {"type": "object"},
    },
}
LINK = _string(nullable=True, format="uri")
PAGE_LINKS = {
    "type": "object",
    "properties": {name: LINK for name in ("first", "last", "next", "prev")},
}
PAGE_META = {
    "type": "object",
    "required": ["total_records"],
    "properties": {
        "total_records": {
            "type": "integer",
            "minimum": 0,
            "description": "How many records the list has in all pages.",
        },
        "pagination": {
            "type": "object",
            "properties": {
                "page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
                "count": {"type": "integer", "minimum": 0},
            },
        },
    },
}


class JsonApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, speaking JSON:API (see the module's docstring)."""

    # --- tags ------------------------------------------------------------------------------

    def get_tags(self):
        resource = self._resource_type()
        return [resource] if resource else super().get_tags()

    def _resource_type(self):
        """The ``type`` of the view's primary data, as the JSON:API renderer and parser
        name it (None: the view renders plain JSON)."""
        try:
            name = get_resource_name({"view": self.view})
        except Exception:  # noqa: BLE001 (a view that cannot say: no type in the document)
            return None
        return name if isinstance(name, str) and name else None

    # --- parameters -------------------------------------------------------------------------

    def _get_parameters(self):
        parameters = super()._get_parameters()
        if self.method == "GET" and not any(p["name"] == "include" for p in parameters):
            include = self._include_parameter()
            if include:
                parameters.append(include)
        return parameters

    def _get_filter_parameters(self):
        if not self._is_list_view():
            return []
        parameters = []
        for backend in self.get_filter_backends():
            if issubclass(backend, QueryParameterValidationFilter):
                continue  # validates the others' names; adds none
            if issubclass(backend, JsonApiFilterBackend):
                parameters += self._filter_parameters(backend)
            elif issubclass(backend, OrderingFilter):
                parameters.append(self._sort_parameter(backend))
            else:
                parameters += backend().get_schema_operation_parameters(self.view)
        return parameters

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        for parameter in parameters:
            if parameter["name"] == "page[number]":
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = str(_("The page to return, from 1."))
            elif parameter["name"] == "page[size]":
                paginator = self._get_paginator()
                maximum = getattr(paginator, "max_page_size", None)
                parameter["schema"] = {"type": "integer", "minimum": 1}
                if maximum:
                    parameter["schema"]["maximum"] = maximum
                parameter["description"] = str(
                    _("Records per page (default %(size)s, at most %(max)s).")
                    % {"size": getattr(paginator, "page_size", ""), "max": maximum}
                )
        return parameters

    def _filter_parameters(self, backend):
        """``filter[a.b]`` for each filter ``a__b`` of the view's FilterSet (the JSON:API
        backend turns the dotted name back into the FilterSet's)."""
        model = get_view_model(self.view)
        if model is None:
            return []
        extension = DjangoFilterExtension(backend())
        filterset = backend().get_filterset_class(self.view, get_manager(model).none())
        if filterset is None:
            return []
        parameters = []
        for field_name, filter_field in filterset.base_filters.items():
            for parameter in extension.resolve_filter_field(
                self, model, filterset, field_name, filter_field
            ):
                dotted = format_field_name(parameter["name"].replace("__", "."))
                parameter["name"] = f"filter[{dotted}]"
                parameters.append(parameter)
        return parameters

    def _sort_parameter(self, backend):
        parameter = {
            "name": backend.ordering_param,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": str(
                _("Fields to sort by, comma-separated; a leading - sorts descending.")
            ),
        }
        fields = getattr(self.view, "ordering_fields", None)
        if isinstance(fields, (list, tuple)) and fields:
            names = [format_field_name(str(f).replace("__", ".")) for f in fields]
            term = "-?(?:" + "|".join(re.escape(n) for n in names) + ")"
            parameter["schema"]["pattern"] = f"^{term}(?:,{term})*$"
            parameter["description"] += " " + str(_("Fields: %s.") % ", ".join(names))
        return parameter

    def _include_parameter(self):
        if not self._declares_serializer():
            return None  # a file or a plain answer (@extend_schema): nothing to include
        serializer = force_instance(self._get_serializer())
        if is_list_serializer(serializer):
            serializer = serializer.child
        included = getattr(serializer, "included_serializers", None) or {}
        names = [format_field_name(name) for name in included]
        if not names:
            return None
        term = "(?:" + "|".join(re.escape(n) for n in names) + ")"
        return {
            "name": "include",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "pattern": f"^{term}(?:,{term})*$"},
            "description": str(
                _("Related resources to add under included: %s.") % ", ".join(names)
            ),
        }

    def _declares_serializer(self):
        """Whether the view names a serializer (drf-spectacular reports one that does not
        as an error when asked for it)."""
        view = self.view
        return (
            isinstance(view, GenericAPIView)
            or callable(getattr(view, "get_serializer", None))
            or callable(getattr(view, "get_serializer_class", None))
            or hasattr(view, "serializer_class")
        )

    # --- responses --------------------------------------------------------------------------

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = WRITE_ERRORS if self.method in WRITE_METHODS else READ_ERRORS
        for code in codes:
            responses.setdefault(code, self._error_response(code))
        return responses

    def _error_response(self, code):
        ref = self._component("ErrorDocument", ERROR_DOCUMENT).ref
        response = {"description": ERRORS[code], "content": {MEDIA_TYPE: {"schema": ref}}}
        if code == "429":
            response["headers"] = {
                "Retry-After": {
                    "required": True,
                    "description": "Seconds to wait before the next request.",
                    "schema": {"type": "string", "pattern": r"^[0-9]+$"},
                }
            }
        return response

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        instance = force_instance(serializer)
        resource = self._resource_type()
        if not (resource and is_serializer(instance) and status_code.startswith("2")):
            # an explicit answer (@extend_schema: a CSV download, an empty 204…) as declared
            return super()._get_response_for_code(serializer, status_code, media_types, direction)
        many = is_list_serializer(instance) or (
            self._is_list_view(instance) and status_code == "200"
        )
        single = instance.child if is_list_serializer(instance) else instance
        resource_ref = self._resource_component(single, resource, "response").ref
        if many:
            paginated = self._get_paginator() is not None
            schema = self._document(single, resource, resource_ref, many=True, paginated=paginated)
        else:
            schema = self._document(single, resource, resource_ref, many=False, paginated=False)
        return {
            "description": "",
            "content": {MEDIA_TYPE: {"schema": schema}},
        }

    def _document(self, serializer, resource, resource_ref, *, many, paginated):
        name = self._name(serializer, resource, "response")
        if many:
            properties = {
                "data": {"type": "array", "items": resource_ref},
                "included": {"type": "array", "items": self._resource_object_ref()},
                "meta": PAGE_META if paginated else {"type": "object"},
                "links": PAGE_LINKS if paginated else {"type": "object"},
            }
            required = ["data", "meta", "links"] if paginated else ["data"]
            suffix = "ListDocument"
        else:
            properties = {
                "data": resource_ref,
                "included": {"type": "array", "items": self._resource_object_ref()},
                "meta": {"type": "object"},
                "links": {"type": "object"},
            }
            required = ["data"]
            suffix = "Document"
        schema = {"type": "object", "required": required, "properties": properties}
        return self._component(f"{name}{suffix}", schema, (serializer, resource, suffix)).ref

    def _type_ref(self, resource):
        """The type's name as a component of its own (an inline enum would be merged with
        every other type's by drf-spectacular's enum naming)."""
        name = "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", resource))
        schema = {"type": "string", "enum": [resource]}
        return self._component(f"{name}Type", schema, ("type", resource)).ref

    def _resource_object_ref(self):
        return self._component("Resource", RESOURCE_OBJECT).ref

    # --- request bodies ---------------------------------------------------------------------

    def _get_request_for_media_type(self, serializer, direction="request"):
        instance = force_instance(serializer)
        resource = self._resource_type()
        if not (resource and is_serializer(instance) and not is_list_serializer(instance)):
            return super()._get_request_for_media_type(serializer, direction)
        data = self._resource_schema(instance, resource, "request")
        schema = {"type": "object", "required": ["data"], "properties": {"data": data}}
        name = self._name(instance, resource, "request")
        key = (instance, resource, "request", self.method)
        return self._component(f"{name}Document", schema, key).ref, True

    # --- resource objects -------------------------------------------------------------------

    def _resource_component(self, serializer, resource, direction):
        name = self._name(serializer, resource, direction)
        schema = self._resource_schema(serializer, resource, direction)
        return self._component(f"{name}Resource", schema, (serializer, resource, direction))

    def _resource_schema(self, serializer, resource, direction):
        """A resource object of type ``resource`` built from ``serializer``'s fields, as
        the JSON:API renderer writes it (response) or the parser reads it (request)."""
        partial = direction == "request" and self.method == "PATCH"
        # fields the renderer moves into the resource's meta (DJA's Meta.meta_fields)
        in_meta = set(getattr(getattr(serializer, "Meta", None), "meta_fields", ()) or ())
        attributes, required_attributes = {}, []
        relationships, required_relationships = {}, []
        for field in serializer.fields.values():
            name = field.field_name
            if name in ("id", api_settings.URL_FIELD_NAME) or isinstance(
                field, drf_serializers.HiddenField
            ):
                continue
            if (direction == "response" and field.write_only) or (
                direction == "request" and field.read_only
            ):
                continue
            if direction == "response" and name in in_meta:
                continue
            member = format_field_name(name)
            required = field.required and not partial if direction == "request" else True
            if is_relationship_field(field):
                relationships[member] = self._relationship_schema(field, direction)
                if direction == "request" and required:
                    required_relationships.append(member)
                continue
            schema = self._map_serializer_field(field, direction)
            if schema is None:
                continue
            self._insert_field_validators(field, schema)
            schema.pop("readOnly", None)
            schema.pop("writeOnly", None)
            attributes[member] = safe_ref(schema)
            if required:
                required_attributes.append(member)

        properties = {"type": self._type_ref(resource), "id": _string()}
        required = ["type", "id"]
        if direction == "request":
            required = ["type", "id"] if self.method in ("PATCH", "PUT") else ["type"]
        if attributes:
            properties["attributes"] = _object(attributes, required_attributes)
            if direction == "request" and required_attributes:
                required.append("attributes")
        if relationships:
            properties["relationships"] = _object(relationships, required_relationships)
            if direction == "request" and required_relationships:
                required.append("relationships")
        if direction == "response":
            properties["links"] = {"type": "object"}
            properties["meta"] = {"type": "object"}
        return {"type": "object", "required": required, "properties": properties}

    def _relationship_schema(self, field, direction):
        related = _related_type(field)
        identifier = {
            "type": "object",
            "required": ["type", "id"],
            "properties": {
                "type": self._type_ref(related) if related else _string(),
                "id": _string(),
            },
        }
        many = isinstance(
            field, (drf_serializers.ManyRelatedField, ManySerializerMethodResourceRelatedField)
        )
        data = (
            {"type": "array", "items": identifier}
            if many
            else {**identifier, "nullable": bool(field.allow_null or direction == "response")}
        )
        if direction == "request":
            return {"type": "object", "required": ["data"], "properties": {"data": data}}
        # linkage (data), links, meta: which ones depends on the renderer (linkage may be
        # sent only for included resources) and the field
        return {
            "type": "object",
            "properties": {
                "data": data,
                "links": {"type": "object"},
                "meta": {"type": "object"},
            },
        }

    # --- components -------------------------------------------------------------------------

    def _name(self, serializer, resource, direction):
        name = self._get_serializer_name(serializer, direction)
        if direction == "request" and self.method == "PATCH" and not name.startswith("Patched"):
            name = f"Patched{name}"
        return name

    def _component(self, name, schema, key=None):
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            schema=schema,
            object=ComponentIdentity(_identity(key if key is not None else name)),
        )
        self.registry.register_on_missing(component)
        return self.registry[component]


def _related_type(field):
    """The type the renderer writes in a relationship: the included serializer's when the
    field can be included (djangorestframework-jsonapi prefers it), else the related
    model's or the field's own; None when nothing says."""
    included = getattr(field.parent, "included_serializers", None) or {}
    if field.field_name in included:
        try:
            return get_resource_type_from_serializer(included[field.field_name])
        except AttributeError:
            pass
    try:
        return get_related_resource_type(field)
    except Exception:  # noqa: BLE001 (an undeclared type: any string)
        return None


def _object(properties, required):
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _identity(key):
    """A comparable identity for a component: serializer instances by their class."""
    if isinstance(key, tuple):
        return tuple(_identity(part) for part in key)
    if isinstance(key, drf_serializers.BaseSerializer):
        return type(key)
    return key
