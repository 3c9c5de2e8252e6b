"""What every /v3/ view shares. Views parse and render; reads go through selectors scoped
to ``request.auth.account`` (the key's account), writes through the apps' services.

Every write (POST, PUT, PATCH, DELETE) made with a key is recorded as an ``ApiWrite`` row
(key, user, method, path, status, resource type and id, source address) whatever its answer
— refusals too — by ``finalize_response`` here: every view built on these classes gets it
(``tests/api/keys/test_audit.py`` fails for a /v3/ view that is not). History rows written
by services during the request name the key's user: DRF sets the Django request's ``user``
when it authenticates, and django-simple-history's middleware reads that request.
"""

import logging

from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_json_api.utils import get_resource_type_from_serializer

from accounts.throttles import client_ip

from .models import ApiKey
from .services import api_write_record

logger = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ApiMixin:
    """The key's account is the tenant of every query (``self.account``)."""

    @property
    def account(self):
        return self.request.auth.account

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in WRITE_METHODS:
            key = request.__dict__.get("_auth")  # set only once authentication ran
            if isinstance(key, ApiKey):
                self._audit(request, response, key)
        return response

    def _audit(self, request, response, key):
        try:
            api_write_record(
                key=key,
                user=key.created_by,
                method=request.method,
                path=request.path,
                status_code=response.status_code,
                resource_type=self._audit_resource_type(),
                resource_id=self._audit_resource_id(response),
                ip_address=client_ip(request),
            )
        except Exception:  # the answer stands; a lost audit row is logged loudly
            logger.exception("API write not recorded: %s %s", request.method, request.path)

    def _audit_resource_type(self) -> str:
        name = getattr(self, "resource_name", None)
        if name:
            return name
        serializer_class = getattr(self, "serializer_class", None)
        if serializer_class is None:
            return ""
        try:
            return get_resource_type_from_serializer(serializer_class)
        except AttributeError:
            return ""

    def _audit_resource_id(self, response) -> str:
        kwargs = getattr(self, "kwargs", None) or {}
        lookup = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk")
        if kwargs.get(lookup) is not None:
            return str(kwargs[lookup])
        data = response.data if isinstance(response, Response) else None
        instance = getattr(getattr(data, "serializer", None), "instance", None)
        if getattr(instance, "pk", None) is not None:
            return str(instance.pk)
        if isinstance(data, dict) and data.get("id") is not None:
            return str(data["id"])
        return ""


class ApiView(ApiMixin, APIView):
    pass


class ReadOnlyViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ModelViewSet(ApiMixin, viewsets.ModelViewSet):
    pass
