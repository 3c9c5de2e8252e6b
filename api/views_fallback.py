"""Any other path under /v3/: a JSON:API 404, as a script expects (not the HTML page)."""

from django.http import JsonResponse


def not_found(request, path=""):
    return JsonResponse(
        {"errors": [{"title": "Not found", "detail": "No such API resource.", "status": "404"}]},
        status=404,
        content_type="application/vnd.api+json",
    )
