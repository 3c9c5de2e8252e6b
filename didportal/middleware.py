from django.db import connection
from django.http import HttpResponse


def healthcheck(get_response):
    """Answer /healthz before host checks and the HTTPS redirect, for container healthchecks."""

    def middleware(request):
        if request.path == "/healthz":
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return HttpResponse("ok", content_type="text/plain")
        return get_response(request)

    return middleware
