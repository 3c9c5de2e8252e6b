from django.conf import settings

from .navigation import navigation_for
from .permissions import manages_team


def navigation(request):
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    items = navigation_for(user, request.path) if signed_in else []
    return {
        "nav_items": items,
        "portal_name": settings.SITE_NAME,
        "manages_team": signed_in and manages_team(user),
    }
