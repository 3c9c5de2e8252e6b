"""Who may use what: the one authorization layer every view goes through.

Predicates take a user and answer yes or no. Views declare them with ``@allow(...)``;
templates and navigation ask the same predicates, so a rule lives in one place.
Object-level visibility (which rows a user may see) is the job of ``accounts.scoping``.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .models import Role


def _role_in(*roles):
    def predicate(user):
        return bool(
            user.is_authenticated
            and user.is_active
            and user.account_id
            and user.role in roles
            and user.account.is_active
        )

    predicate.roles = roles
    return predicate


is_platform_admin = _role_in(Role.PLATFORM_ADMIN)
is_finance = _role_in(Role.PLATFORM_FINANCE, Role.PLATFORM_ADMIN)
is_platform_staff = _role_in(Role.PLATFORM_ADMIN, Role.PLATFORM_FINANCE)
is_reseller_admin = _role_in(Role.RESELLER_ADMIN)
is_customer = _role_in(Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER)
is_customer_admin = _role_in(Role.CUSTOMER_ADMIN)
# Looks after customer accounts: the platform for all of them, a reseller for its own.
manages_customers = _role_in(Role.PLATFORM_ADMIN, Role.PLATFORM_FINANCE, Role.RESELLER_ADMIN)
# Changes a customer account's status or creates customers (finance only reads).
administers_customers = _role_in(Role.PLATFORM_ADMIN, Role.RESELLER_ADMIN)
# Manages the users of their own account.
manages_team = _role_in(Role.PLATFORM_ADMIN, Role.RESELLER_ADMIN, Role.CUSTOMER_ADMIN)
# Any signed-in portal user of an active account.
is_portal_user = _role_in(*Role.values)


def allow(*predicates):
    """View decorator: sign-in required, then at least one predicate must hold (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(p(request.user) for p in predicates):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapped.allowed_predicates = predicates
        return wrapped

    return decorator


def may_manage_numbers_of(user, account) -> bool:
    """Cancels, resizes or releases ``account``'s numbers: the platform, the account's own
    admin, or the reseller the account belongs to."""
    if is_platform_admin(user):
        return True
    if is_customer_admin(user) and user.account_id == account.pk:
        return True
    return is_reseller_admin(user) and account.parent_id == user.account_id
