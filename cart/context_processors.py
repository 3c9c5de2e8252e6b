from functools import cache

from django.urls import reverse

from accounts.permissions import holds_numbers

from .selectors import cart_count


def cart_badge(request):
    """The nav badge: how many numbers the customer's cart holds. One query, made only when
    a page shows the badge (templates call the function; its answer is kept), customers only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not holds_numbers(user):
        return {}
    return {"cart_url": reverse("cart:cart"), "cart_count": cache(lambda: cart_count(user))}
