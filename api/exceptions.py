"""Errors as DIDWW sends them: ``{"errors": [{"title", "detail", "status", "code",
"source": {"pointer"|"parameter"}}]}``.

A service's refusal (Django's ``ValidationError``: balance short, number taken, a rule) is
422 Unprocessable Entity with the service's own words; a request that cannot be parsed
(a bad filter, attribute or id) is 400; an unknown or another tenant's id is 404; a
read-only key writing is 403; a missing or bad key 401; over the rate limit 429.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework_json_api.exceptions import exception_handler as jsonapi_exception_handler

logger = logging.getLogger(__name__)


class Unprocessable(exceptions.APIException):
    """The request was understood, and the business said no (422)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request could not be carried out."
    default_code = "unprocessable"


def refused(error: DjangoValidationError) -> Unprocessable:
    """A service's ``ValidationError`` as the API's 422, its messages kept."""
    return Unprocessable(detail=error.messages if len(error.messages) > 1 else error.messages[0])


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = refused(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = jsonapi_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in the API", exc_info=exc)
        view = context.get("view")
        if view is not None:
            view.resource_name = "errors"  # the JSON:API renderer wraps the list in "errors"
        return Response([_error("Internal error", "Something went wrong on our side.", 500)], 500)
    errors = response.data if isinstance(response.data, list) else []
    for error in errors:
        if isinstance(error, dict):
            error.setdefault("title", _title(response.status_code))
    return response


def _error(title, detail, status_code):
    return {"title": title, "detail": detail, "status": str(status_code)}


def _title(status_code) -> str:
    return {
        400: "Bad request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        406: "Not acceptable",
        409: "Conflict",
        415: "Unsupported media type",
        422: "Unprocessable entity",
        429: "Too many requests",
    }.get(status_code, "Error")
