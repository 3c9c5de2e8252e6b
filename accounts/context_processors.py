from .branding import brand_for_request
from .navigation import navigation_for
from .permissions import manages_team, may_manage_api_keys, may_manage_webhooks


def navigation(request):
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    items = navigation_for(user, request.path) if signed_in else []
    return {
        "nav_items": items,
        "manages_team": signed_in and manages_team(user),
        # The account menu's tools for scripts (the main bar has no room for them).
        "manages_api_keys": signed_in and may_manage_api_keys(user),
        "manages_webhooks": signed_in and may_manage_webhooks(user),
    }


def brand(request):
    """``brand`` (an ``accounts.branding.BrandView``: name, logo and CSS URLs, support
    contacts) and ``portal_name`` (its name) for the page: a reseller's on its host and
    for its customers' users, the platform's otherwise."""
    current = brand_for_request(request)
    return {"brand": current, "portal_name": current.name}
