"""The API's own description: ``/v3/openapi.json`` (OpenAPI 3, public), ``/v3/docs``
(Swagger UI from drf-spectacular-sidecar's files: no CDN, no inline script; its start-up
code is ``static/api/docs.js``), and a JSON:API 404 for any other path under /v3/."""

import threading

from django.conf import settings
from django.shortcuts import render
from django.urls import get_resolver, get_urlconf, reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2
from drf_spectacular.settings import patched_settings
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .schema import SPECTACULAR

_lock = threading.Lock()
_cached = {"resolver": None, "document": None}


def openapi_document():
    """The OpenAPI document of /v3/ as a dict. Built once per URL configuration (it is
    public: a request must not cost a walk over every view), again when the URLs change
    (tests swap them) or under DEBUG."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    resolver = get_resolver(urlconf)
    with _lock:  # also serialises patched_settings, which changes a global
        if _cached["resolver"] is not resolver or settings.DEBUG:
            with patched_settings(SPECTACULAR):
                generator = SchemaGenerator(urlconf=urlconf)
                document = generator.get_schema(request=None, public=True)
            _cached.update(resolver=resolver, document=document)
        return _cached["document"]


class PublicView(APIView):
    """No key, no throttle: what anyone may read about the API."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    schema = None  # not itself in the document


class OpenApiView(PublicView):
    """``GET /v3/openapi.json``: the OpenAPI 3 document of every /v3/ endpoint."""

    renderer_classes = (OpenApiJsonRenderer2, OpenApiJsonRenderer)

    def perform_content_negotiation(self, request, force=False):
        # JSON whatever the Accept header asks (a client set up for the API's media type
        # still gets its description).
        return super().perform_content_negotiation(request, force=True)

    def get(self, request):
        return Response(
            openapi_document(),
            headers={"Content-Disposition": 'inline; filename="didportal-api-v3.json"'},
        )


class NotFoundView(PublicView):
    """Any other path under /v3/, any method: 404 as a JSON:API error (not the portal's
    HTML page), so a script (or the fuzzer) always reads the API's own error format."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound("There is no such endpoint in this API.")


def docs(request):
    """``/v3/docs``: browsable docs of the document (Swagger UI)."""
    return render(
        request,
        "api/docs.html",
        {"schema_url": reverse("api:openapi")},
    )
