"""Who may use what: the one authorization layer every view goes through.

Predicates take a user and answer yes or no. Views declare them with ``@allow(...)``;
templates and navigation ask the same predicates, so a rule lives in one place.
Object-level visibility (which rows a user may see) is the job of ``accounts.scoping``.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError

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
# Any user of a customer account: admins (the owner: money, team, everything), members
# (look after the numbers assigned to them; buy only when allowed) and billing users
# (accountants: balance, invoices, top-up details; no number changes, no buying).
is_customer = _role_in(Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER, Role.CUSTOMER_BILLING)
is_customer_admin = _role_in(Role.CUSTOMER_ADMIN)
is_customer_member = _role_in(Role.CUSTOMER_MEMBER)
# Looks after customer accounts: the platform for all of them, a reseller for its own.
manages_customers = _role_in(Role.PLATFORM_ADMIN, Role.PLATFORM_FINANCE, Role.RESELLER_ADMIN)
# Changes a customer account's status or creates customers (finance only reads).
administers_customers = _role_in(Role.PLATFORM_ADMIN, Role.RESELLER_ADMIN)
# Manages the users of their own account.
manages_team = _role_in(Role.PLATFORM_ADMIN, Role.RESELLER_ADMIN, Role.CUSTOMER_ADMIN)
# A reseller's price list: its admins change it; its finance members read it.
may_edit_price_list = _role_in(Role.RESELLER_ADMIN)
may_view_price_list = _role_in(Role.RESELLER_ADMIN, Role.RESELLER_FINANCE)
# Any signed-in portal user of an active account.
is_portal_user = _role_in(*Role.values)


def may_use_host(user, host_reseller_id) -> bool:
    """Signs in on a host: anyone on the platform's own hosts (``host_reseller_id`` None);
    on a reseller's host only that reseller's users and its customers' users. (A user on
    another reseller's host would see that reseller's brand over their own account's data
    and prices; we refuse instead, with a message saying where to sign in.)"""
    if host_reseller_id is None or not user.is_authenticated:
        return True
    account = user.account
    if account is None:
        return False
    return account.pk == host_reseller_id or (
        account.kind == "customer" and account.parent_id == host_reseller_id
    )


# --- What a customer's user may do with money and numbers ------------------------------------


def may_buy(user) -> bool:
    """Spends the account's balance on numbers: admins, and members an admin allowed."""
    return is_customer_admin(user) or (is_customer_member(user) and user.may_buy)


def may_manage_number(user, did) -> bool:
    """Sets where calls to ``did`` go: the owner account's admins, and its members for the
    numbers assigned to them."""
    if did.owner_id is None or not is_customer(user) or user.account_id != did.owner_id:
        return False
    if is_customer_admin(user):
        return True
    return is_customer_member(user) and did.assigned_users.filter(pk=user.pk).exists()


def may_change_channels(user, account, did) -> bool:
    """Adds or removes channels of ``did`` (a purchase): whoever manages the account's
    numbers, or a member allowed to buy, on a number assigned to them."""
    if may_manage_numbers_of(user, account):
        return True
    return may_buy(user) and did is not None and may_manage_number(user, did)


def require_may_shop(user) -> None:
    """Guard at the top of the cart's services (adding, holding numbers): PermissionDenied
    for a user who may not buy. An unverified e-mail address may fill a cart (the picks of
    a newcomer who just signed up land in it); only the checkout needs it confirmed."""
    if not is_customer(user):
        raise PermissionDenied("Only users of active customer accounts can buy numbers.")
    if not may_buy(user):
        raise PermissionDenied(
            "Your account's admin has not allowed you to buy numbers. Ask them to switch on "
            "“May buy numbers” for you on the Team page."
        )


def require_may_buy(user) -> None:
    """Guard at the top of the checkout: ``require_may_shop``, and ValidationError
    (something they can fix) while the user's e-mail address is unverified."""
    require_may_shop(user)
    if not user.email_verified:
        raise ValidationError(
            f"Confirm your e-mail address first: open the link we sent to {user.email} "
            "(or send it again from the banner at the top of the page)."
        )


def require_may_manage_number(user, did) -> None:
    if not may_manage_number(user, did):
        raise PermissionDenied(
            "Only your account's admins, or the members it is assigned to, may change "
            f"{did.number}."
        )


# A reseller's money: the invoices it issues to its customers and receives from the
# platform, its margin. Its admins and finance members (support does not see money).
is_reseller_billing = _role_in(Role.RESELLER_ADMIN, Role.RESELLER_FINANCE)


def may_void_invoice(user, invoice) -> bool:
    """Voids ``invoice`` (issuing its credit note): platform finance, any invoice; a
    reseller's admins and finance members, the invoices their reseller issued."""
    if is_finance(user):
        return True
    return is_reseller_billing(user) and invoice.issuer_id == user.account_id


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
