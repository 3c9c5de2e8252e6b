"""Writes on accounts and users. Every caller (views, admin, commands, tests) goes through here."""

import secrets
from decimal import Decimal, InvalidOperation

from celery import signature
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from didportal.enqueue import enqueue

from .branding import brand_for_account, email_sender
from .models import ROLES_BY_ACCOUNT_KIND, Account, Role, User
from .throttles import signup_allow
from .verification import email_verification_send

REACTIVATION_RESUME_TASK = "billing.tasks.resume_subscriptions_after_reactivation"

ALLOWED_PARENT_KINDS = {
    Account.Kind.RESELLER: {Account.Kind.PLATFORM},
    Account.Kind.CUSTOMER: {Account.Kind.PLATFORM, Account.Kind.RESELLER},
}


def platform_account() -> Account:
    return Account.objects.get(kind=Account.Kind.PLATFORM)


def _check_parent(kind, parent):
    if kind == Account.Kind.PLATFORM:
        if parent is not None:
            raise ValidationError("The platform account has no parent.")
        return
    if parent is None or parent.kind not in ALLOWED_PARENT_KINDS[kind]:
        allowed = " or ".join(sorted(ALLOWED_PARENT_KINDS[kind]))
        raise ValidationError(f"A {kind} account must belong to the {allowed} account.")


def account_create(*, kind, name, parent=None, **identity) -> Account:
    _check_parent(kind, parent)
    account = Account(kind=kind, name=name, parent=parent, **identity)
    if kind == Account.Kind.RESELLER:
        account.signup_code = secrets.token_urlsafe(12)
    account.full_clean()
    account.save()
    return account


def account_update_identity(*, account, **identity) -> Account:
    """Change the billing identity (legal name, country, address, VAT number)."""
    for field, value in identity.items():
        setattr(account, field, value)
    account.full_clean()  # Account.clean checks and normalises the VAT number
    account.save()
    return account


def account_set_status(*, account, status, actor) -> Account:
    """Suspend or reactivate an account. Back to active, its subscriptions held while it was
    suspended are resumed by a task enqueued after commit (``REACTIVATION_RESUME_TASK``)."""
    if account.is_platform:
        raise ValidationError("The platform account cannot be suspended.")
    if status not in Account.Status.values:
        raise ValidationError(f"Unknown status “{status}”.")
    reactivated = account.status != status and status == Account.Status.ACTIVE
    account._change_reason = f"status set to {status} by {actor.email}"
    account.status = status
    account.save(update_fields=["status"])
    if reactivated:
        account_id = account.pk
        transaction.on_commit(lambda: _reactivation_resume_enqueue(account_id), robust=True)
    return account


def _reactivation_resume_enqueue(account_id):
    """Hand the reactivated account's held subscriptions to billing's task, named rather
    than imported: accounts sits below billing. A lost enqueue is caught up by the renewal
    run's resume pass (``subscriptions_resume_due``)."""
    enqueue(signature(REACTIVATION_RESUME_TASK), account_id, catch_up="renew_subscriptions")


def user_create(
    *, account, email, role, full_name="", password=None, may_buy=False, email_verified=True
) -> User:
    """A user of ``account``. ``email_verified=False`` for self-service sign-up (the address
    is confirmed by a link); admins' and invitations' users count as verified."""
    if role not in ROLES_BY_ACCOUNT_KIND[account.kind]:
        raise ValidationError(
            {"role": f"A {account.get_kind_display().lower()} account cannot have the role {role}."}
        )
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "A user with this e-mail address already exists."})
    return User.objects.create_user(
        email=email,
        password=password,
        full_name=full_name,
        account=account,
        role=role,
        may_buy=bool(may_buy) and role == Role.CUSTOMER_MEMBER,
        email_verified_at=timezone.now() if email_verified else None,
    )


def user_update(*, user, actor, role=None, is_active=None, full_name=None, may_buy=None) -> User:
    if user.pk == actor.pk and (is_active is False or (role and role != user.role)):
        raise ValidationError("You cannot change your own role or deactivate yourself.")
    if role is not None:
        if role not in ROLES_BY_ACCOUNT_KIND[user.account.kind]:
            raise ValidationError({"role": f"The role {role} does not fit this account."})
        user.role = role
    if is_active is not None:
        user.is_active = is_active
    if full_name is not None:
        user.full_name = full_name
    if may_buy is not None:
        user.may_buy = bool(may_buy)
    # Only members carry the switch: admins always may buy, other roles never.
    user.may_buy = user.may_buy and user.role == Role.CUSTOMER_MEMBER
    user.save()
    return user


def customer_signup(
    *, email, password, full_name, company_name, country, parent=None, ip_address=None
) -> User:
    """Self-service sign-up: a new customer account and its first (admin) user.

    ``parent`` is the reseller whose sign-up link was used, or the platform otherwise.
    Raises ``Throttled`` when this address or ``ip_address`` signed up too often lately;
    the attempt is counted before, and outside, the sign-up's transaction, so a refused
    one (a taken address, say) counts too.
    """
    signup_allow(email=email, ip_address=ip_address)
    return _customer_signup(
        email=email,
        password=password,
        full_name=full_name,
        company_name=company_name,
        country=country,
        parent=parent,
    )


@transaction.atomic
def _customer_signup(*, email, password, full_name, company_name, country, parent) -> User:
    parent = parent or platform_account()
    if not parent.is_active:
        raise ValidationError("This sign-up link is no longer active.")
    account = account_create(
        kind=Account.Kind.CUSTOMER,
        name=company_name,
        parent=parent,
        legal_name=company_name,
        country=country,
    )
    user = user_create(
        account=account,
        email=email,
        role=Role.CUSTOMER_ADMIN,
        full_name=full_name,
        password=password,
        email_verified=False,
    )
    email_verification_send(user=user)
    return user


def _send_invitation(user_id):
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = User.objects.select_related("account").get(pk=user_id)
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    brand = brand_for_account(user.account)
    from_email, reply_to = email_sender(user.account)
    context = {"user": user, "link": brand.site_url + path, "site": brand.name}
    EmailMessage(
        subject=f"You have been invited to {brand.name}",
        body=render_to_string("accounts/email/invitation.txt", context),
        from_email=from_email or None,
        reply_to=reply_to or None,
        to=[user.email],
    ).send()


def user_invite(*, account, email, role, full_name="", may_buy=False) -> User:
    """Create a user without a password and e-mail them a link to choose one."""
    user = user_create(
        account=account, email=email, role=role, full_name=full_name, may_buy=may_buy
    )
    transaction.on_commit(lambda: _send_invitation(user.pk))
    return user


@transaction.atomic
def customer_create(*, parent, company_name, country, admin_name, admin_email) -> User:
    """A platform admin or reseller opens a customer account and invites its admin."""
    account = account_create(
        kind=Account.Kind.CUSTOMER,
        name=company_name,
        parent=parent,
        legal_name=company_name,
        country=country,
    )
    return user_invite(
        account=account, email=admin_email, role=Role.CUSTOMER_ADMIN, full_name=admin_name
    )


# --- The platform's resellers ----------------------------------------------------------------


def _require_platform_admin(actor):
    from .permissions import is_platform_admin

    if not is_platform_admin(actor):
        raise PermissionDenied("Only platform admins may create or change resellers.")


def _check_discount(discount):
    try:
        discount = Decimal(discount)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"wholesale_discount": "Enter a percentage."}) from None
    if not discount.is_finite() or not (0 <= discount < 100):
        raise ValidationError(
            {"wholesale_discount": "The discount is a percentage from 0 up to (not including) 100."}
        )
    if discount != discount.quantize(Decimal("0.01")):
        raise ValidationError({"wholesale_discount": "At most two decimals."})
    return discount.quantize(Decimal("0.01"))


@transaction.atomic
def reseller_create(
    *,
    actor,
    name,
    country,
    admin_name,
    admin_email,
    legal_name="",
    address="",
    vat_number="",
    wholesale_discount=Decimal("0"),
) -> Account:
    """A platform admin opens a reseller account (under the platform) and invites its first
    reseller admin, who chooses a password from the e-mailed link. The identity goes through
    ``Account.clean`` (VAT number valid for the country, stored compact)."""
    _require_platform_admin(actor)
    account = account_create(
        kind=Account.Kind.RESELLER,
        name=name,
        parent=platform_account(),
        legal_name=legal_name or name,
        country=country,
        address=address,
        vat_number=vat_number,
        wholesale_discount=_check_discount(wholesale_discount),
    )
    user_invite(account=account, email=admin_email, role=Role.RESELLER_ADMIN, full_name=admin_name)
    return account


@transaction.atomic
def reseller_discount_set(*, actor, reseller, discount) -> Account:
    """Set a reseller's wholesale discount (percent off list, 0 ≤ d < 100). Recorded in the
    account's history with who changed it, from what to what. New purchases and renewals
    priced after this use it (``catalog.pricing.wholesale_prices``)."""
    _require_platform_admin(actor)
    discount = _check_discount(discount)
    locked = Account.objects.select_for_update().get(pk=reseller.pk)
    if not locked.is_reseller:
        raise ValidationError("Only resellers have a wholesale discount.")
    if locked.wholesale_discount == discount:
        return locked
    before = locked.wholesale_discount
    locked.wholesale_discount = discount
    locked._history_user = actor
    locked._change_reason = f"wholesale discount {before}% → {discount}% by {actor.email}"
    locked.save(update_fields=["wholesale_discount"])
    return locked


@transaction.atomic
def reseller_status_set(*, actor, reseller, status) -> Account:
    """Suspend or reactivate a reseller (platform admins).

    Suspended means: the reseller's users are refused every page that acts (each permission
    predicate wants an active account) and see the "suspended" page; its customers cannot
    put numbers in a cart or check out (``permissions.require_may_shop``), and its sign-up
    link stops working. Numbers already sold keep working; nothing is cancelled, so
    reactivating restores everything as it was.
    """
    _require_platform_admin(actor)
    if status not in Account.Status.values:
        raise ValidationError(f"Unknown status “{status}”.")
    locked = Account.objects.select_for_update().get(pk=reseller.pk)
    if not locked.is_reseller:
        raise ValidationError("Only a reseller can be suspended here.")
    if locked.status == status:
        return locked
    locked._history_user = actor
    return account_set_status(account=locked, status=status, actor=actor)
