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
# A reseller's team, with the same role rules as a customer's: admins (everything for the
# reseller and its customers), support (looks after its customers' numbers and orders; no
# money) and finance (balances, top-ups for its customers, statements, invoices, reports;
# changes no number).
is_reseller_admin = _role_in(Role.RESELLER_ADMIN)
is_reseller_support = _role_in(Role.RESELLER_SUPPORT)
is_reseller_finance = _role_in(Role.RESELLER_FINANCE)
is_reseller = _role_in(Role.RESELLER_ADMIN, Role.RESELLER_SUPPORT, Role.RESELLER_FINANCE)
# Any user of a customer account: admins (the owner: money, team, everything), members
# (look after the numbers assigned to them; buy only when allowed) and billing users
# (accountants: balance, invoices, top-up details; no number changes, no buying).
is_customer = _role_in(Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER, Role.CUSTOMER_BILLING)
is_customer_admin = _role_in(Role.CUSTOMER_ADMIN)
is_customer_member = _role_in(Role.CUSTOMER_MEMBER)
# Users of an account that buys and holds numbers itself: customers, and resellers, which
# buy for their own account at wholesale (My numbers, orders, balance and invoices).
holds_numbers = _role_in(
    Role.CUSTOMER_ADMIN,
    Role.CUSTOMER_MEMBER,
    Role.CUSTOMER_BILLING,
    Role.RESELLER_ADMIN,
    Role.RESELLER_SUPPORT,
    Role.RESELLER_FINANCE,
)
# Changes the numbers of its own account (cancels, assigns): a customer's or reseller's admin.
administers_own_numbers = _role_in(Role.CUSTOMER_ADMIN, Role.RESELLER_ADMIN)
# Looks after customer accounts: the platform for all of them, a reseller's team for its own.
manages_customers = _role_in(
    Role.PLATFORM_ADMIN,
    Role.PLATFORM_FINANCE,
    Role.RESELLER_ADMIN,
    Role.RESELLER_SUPPORT,
    Role.RESELLER_FINANCE,
)
# Changes a customer account's status or creates customers (finance only reads).
administers_customers = _role_in(Role.PLATFORM_ADMIN, Role.RESELLER_ADMIN)
# A reseller's users who look after its customers' numbers and orders (act for them, buy
# on their behalf).
serves_customers = _role_in(Role.RESELLER_ADMIN, Role.RESELLER_SUPPORT)
# A reseller's users who handle its customers' money (top-ups, statements, invoices).
handles_customer_money = _role_in(Role.RESELLER_ADMIN, Role.RESELLER_FINANCE)
# Collects money from other accounts and looks after it (bank statements, card payments,
# payouts): the platform's finance and admins, a reseller's admins and finance (from its
# customers). Each sees what its own account collected (``payments.models.collector_of``).
collects_money = _role_in(
    Role.PLATFORM_ADMIN, Role.PLATFORM_FINANCE, Role.RESELLER_ADMIN, Role.RESELLER_FINANCE
)
# Creates, revokes and agrees for the API keys of their own account (a key acts as its
# creator): the admins of customer and reseller accounts.
may_manage_api_keys = _role_in(Role.CUSTOMER_ADMIN, Role.RESELLER_ADMIN)
# Manages the users of their own account.
manages_team = _role_in(Role.PLATFORM_ADMIN, Role.RESELLER_ADMIN, Role.CUSTOMER_ADMIN)
# A reseller's price list: its admins change it; its finance members read it.
may_edit_price_list = _role_in(Role.RESELLER_ADMIN)
may_view_price_list = _role_in(Role.RESELLER_ADMIN, Role.RESELLER_FINANCE)
# Reviews registrations (approve, reject) and opens any account's compliance documents:
# the platform's compliance officers and admins. Admins also edit the requirements.
reviews_registrations = _role_in(Role.PLATFORM_ADMIN, Role.PLATFORM_COMPLIANCE)
# Provides its own account's registrations (identities, addresses, documents, submissions)
# and opens its documents: the admins of an account that holds numbers, and its members.
provides_registrations = _role_in(Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER, Role.RESELLER_ADMIN)
# Subscribes its own account's webhook endpoints and reads their deliveries: the admins of a
# customer or reseller account.
may_manage_webhooks = _role_in(Role.CUSTOMER_ADMIN, Role.RESELLER_ADMIN)
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


def _own_customer(user, account) -> bool:
    """``account`` is a customer of the user's reseller account."""
    return bool(
        account is not None
        and account.kind == account.Kind.CUSTOMER
        and account.parent_id is not None
        and account.parent_id == user.account_id
    )


def may_serve_customer(user, account) -> bool:
    """Acts for ``account`` on its numbers and orders, and buys on its behalf: the admins
    and support of the reseller the customer belongs to (never another reseller's)."""
    return serves_customers(user) and _own_customer(user, account)


def may_see_customer_money(user, account) -> bool:
    """Reads ``account``'s balance, statement and invoices: platform finance and admins
    (every account), or the admins and finance of the reseller it belongs to."""
    if is_finance(user):
        return True
    return handles_customer_money(user) and _own_customer(user, account)


def may_see_invoices_of(user, account) -> bool:
    """Opens ``account``'s invoices: its own users (customers and resellers), platform
    finance and admins, and the admins and finance of the reseller it belongs to."""
    if holds_numbers(user) and user.account_id == account.pk:
        return True
    return may_see_customer_money(user, account)


def may_record_topup_for(user, account) -> bool:
    """Records money received for ``account`` (a top-up, an adjustment). Whoever collects
    the money: the platform (finance, admins) for resellers and direct customers; a
    reseller's admins and finance for the reseller's own customers. The platform does not
    record top-ups for a reseller's customers (the reseller collects their money)."""
    if account is None or account.kind == account.Kind.PLATFORM:
        return False
    if is_finance(user):
        return account.kind == account.Kind.RESELLER or account.reseller is None
    return handles_customer_money(user) and _own_customer(user, account)


def may_fund_balance(user) -> bool:
    """Pays money into the user's own account's balance (card top-up, auto top-up) and
    asks for unused balance back: the people who handle an account's money — its admins
    and billing users (a reseller's finance), and members allowed to buy."""
    return (
        is_customer_admin(user)
        or _role_in(Role.CUSTOMER_BILLING, Role.RESELLER_ADMIN, Role.RESELLER_FINANCE)(user)
        or (is_customer_member(user) and user.may_buy)
    )


def may_buy_for(user, account) -> bool:
    """Places an order that ``account``'s balance pays (the account's own buyers, or its
    reseller's admins and support on its behalf)."""
    if user.account_id == account.pk:
        return may_buy(user)
    return may_serve_customer(user, account)


# --- What a customer's user may do with money and numbers ------------------------------------


def may_buy(user) -> bool:
    """Spends the account's balance on numbers: admins (a customer's; a reseller's, which buys
    for itself at wholesale), and members an admin allowed."""
    return (
        is_customer_admin(user)
        or is_reseller_admin(user)
        or (is_customer_member(user) and user.may_buy)
    )


def may_manage_number(user, did) -> bool:
    """Sets where calls to ``did`` go: the owner account's admins, its members for the
    numbers assigned to them, and the admins and support of the reseller the owner
    belongs to (acting for its customer)."""
    if did.owner_id is None:
        return False
    if serves_customers(user) and did.owner_id != user.account_id:
        return _own_customer(user, did.owner)
    if not holds_numbers(user) or user.account_id != did.owner_id:
        return False
    if administers_own_numbers(user):
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
    if not (is_customer(user) or is_reseller(user)):
        raise PermissionDenied("Only users of active customer accounts can buy numbers.")
    if not may_buy(user):
        raise PermissionDenied(
            "Your account's admin has not allowed you to buy numbers. Ask them to switch on "
            "“May buy numbers” for you on the Team page."
        )
    if seller_suspended(user.account):
        raise PermissionDenied(
            "Buying numbers is paused for your account: your provider's account is "
            "suspended. Your numbers keep working; please contact your provider."
        )


def seller_suspended(account) -> bool:
    """``account`` buys from a reseller that the platform suspended: it may not buy new
    numbers (what it has keeps working)."""
    reseller = account.reseller
    return reseller is not None and not reseller.is_active


def require_may_buy(user) -> None:
    """Guard at the top of the checkout: ``require_may_shop``, and ValidationError
    (something they can fix) while the user's e-mail address is unverified."""
    require_may_shop(user)
    if not user.email_verified:
        raise ValidationError(
            f"Confirm your e-mail address first: open the link we sent to {user.email} "
            "(or send it again from the banner at the top of the page)."
        )


def require_may_buy_for(user, account) -> None:
    """Guard at the top of a checkout that ``account``'s balance pays: the user's own
    (``require_may_buy``), or a customer's, bought on its behalf by its reseller's admins
    or support."""
    if user.account_id == account.pk:
        require_may_buy(user)
        return
    if not may_serve_customer(user, account):
        raise PermissionDenied("Only the customer's reseller may buy on its behalf.")
    if not user.email_verified:
        raise ValidationError(
            f"Confirm your e-mail address first: open the link sent to {user.email}."
        )


def require_may_manage_number(user, did) -> None:
    if not may_manage_number(user, did):
        raise PermissionDenied(
            "Only your account's admins, or the members it is assigned to, may change "
            f"{did.number}."
        )


# A reseller's money: the invoices it issues to its customers and receives from the
# platform, its margin. Its admins and finance members (support does not see money).
def may_void_invoice(user, invoice) -> bool:
    """Voids ``invoice`` (issuing its credit note): platform finance, any invoice; a
    reseller's admins and finance members, the invoices their reseller issued."""
    if is_finance(user):
        return True
    return handles_customer_money(user) and invoice.issuer_id == user.account_id


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
    admin (a customer's, or a reseller's for its own numbers), or the admins and support
    of the reseller the account belongs to."""
    if is_platform_admin(user):
        return True
    if administers_own_numbers(user) and user.account_id == account.pk:
        return True
    return may_serve_customer(user, account)


def customer_rights(user, account) -> dict:
    """What the customer's pages offer ``user`` for ``account`` (the console's tabs)."""
    return {
        "can_serve": may_serve_customer(user, account),
        "can_money": handles_customer_money(user) and _own_customer(user, account),
        "can_topup": may_record_topup_for(user, account) and not is_finance(user),
        "can_change_status": administers_customers(user),
    }


# --- Compliance: registrations ----------------------------------------------------------------


def may_provide_registration_for(user, account) -> bool:
    """Creates and submits ``account``'s identities, addresses, documents and registrations:
    its own admins and members (``provides_registrations``), nobody else — a reseller sees
    its customers' statuses, never their papers."""
    return provides_registrations(user) and account is not None and user.account_id == account.pk


def may_open_document_of(user, account) -> bool:
    """Downloads a compliance document of ``account``: its own providers and the platform's
    reviewers only."""
    return reviews_registrations(user) or may_provide_registration_for(user, account)


def may_see_registrations_of(user, account) -> bool:
    """Sees ``account``'s registration statuses (not its documents): its own users, the
    platform's reviewers, and the reseller it belongs to (to chase its customer)."""
    if reviews_registrations(user):
        return True
    if holds_numbers(user) and user.account_id == account.pk:
        return True
    return is_reseller(user) and _own_customer(user, account)
