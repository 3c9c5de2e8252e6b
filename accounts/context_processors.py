from django.conf import settings

from .navigation import navigation_for


def navigation(request):
    user = getattr(request, "user", None)
    items = navigation_for(user, request.path) if user and user.is_authenticated else []
    return {"nav_items": items, "portal_name": settings.SITE_NAME}
