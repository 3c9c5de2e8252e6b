import logging

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


def healthcheck(get_response):
    """Answer /healthz before host checks and the HTTPS redirect, for container healthchecks."""

    def middleware(request):
        if request.path == "/healthz":
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return HttpResponse("ok", content_type="text/plain")
        return get_response(request)

    return middleware


def brand_host(get_response):
    """Refuse a request for a host we do not serve; tell the rest which brand it came for.

    The platform's own hosts are ``PLATFORM_HOSTS`` (the ``ALLOWED_HOSTS`` variable);
    resellers' hosts are the ``BrandHost`` registry (cached). Sets ``request.host_reseller``
    (the reseller ``Account``, loaded on first use, or None on a platform host) and
    ``request.host_reseller_id``. Anything else answers the 400 page before any other
    middleware reads the host: Django's own ``ALLOWED_HOSTS`` is "*" because this check
    replaces it (see README, "Reseller host names").
    """
    from django.utils.functional import SimpleLazyObject  # noqa: PLC0415

    from accounts.branding import UnknownHost, host_lookup  # noqa: PLC0415
    from accounts.models import Account  # noqa: PLC0415

    def middleware(request):
        try:
            reseller_id = host_lookup(request._get_raw_host())
        except UnknownHost:
            request.host_reseller = request.host_reseller_id = None
            logger.warning("refused a request for unknown host %r", request.META.get("HTTP_HOST"))
            return render(request, "400.html", {"unknown_host": True}, status=400)
        request.host_reseller_id = reseller_id
        if reseller_id is None:
            request.host_reseller = None
        else:
            request.host_reseller = SimpleLazyObject(lambda: Account.objects.get(pk=reseller_id))
        return get_response(request)

    return middleware


def brand_host_user(get_response):
    """After authentication: a signed-in user on a reseller's host that is not theirs gets
    a page saying where to sign in (``accounts.permissions.may_use_host``)."""
    from django.urls import reverse  # noqa: PLC0415

    from accounts.permissions import may_use_host  # noqa: PLC0415

    def middleware(request):
        host_reseller_id = getattr(request, "host_reseller_id", None)
        if host_reseller_id is not None and request.path != reverse("accounts:logout"):
            if not may_use_host(request.user, host_reseller_id):
                return render(request, "accounts/wrong_host.html", status=403)
        return get_response(request)

    return middleware
