"""A reseller's own Stripe keys: its customers then pay the reseller by card.

The secret key and the webhook signing secret are stored encrypted and never shown again
(only their kind, mode and last four characters). Each reseller gets a webhook URL named by
a random token (made on the first save, kept when the keys change, so the endpoint in
Stripe stays valid); every change is kept in the keys' history with who made it. Removing
the keys turns card payments off for the reseller's customers: they see bank transfer.
"""

import logging
import re
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.branding import brand_of_reseller
from accounts.models import Account
from accounts.permissions import is_reseller_admin
from didportal.crypto import DecryptionError, decrypt, encrypt

from ..models import StripeKeys

logger = logging.getLogger(__name__)

# What a Stripe key looks like: a prefix, the mode, then letters and digits. The body's
# bounds are ours (Stripe's keys are about 100 characters): enough to refuse a truncated
# paste or a whole paragraph, with room for longer keys.
PUBLISHABLE_RE = re.compile(r"pk_(live|test)_[A-Za-z0-9]{16,200}")
SECRET_RE = re.compile(r"(sk|rk)_(live|test)_[A-Za-z0-9]{16,200}")
WEBHOOK_SECRET_RE = re.compile(r"whsec_[A-Za-z0-9+/=]{16,200}")
MAX_INPUT = 255

# The events the reseller's webhook endpoint in Stripe must send.
WEBHOOK_EVENTS = (
    "checkout.session.completed",
    "checkout.session.expired",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.funds_withdrawn",
)


def _may_change(actor, account):
    if account.kind != Account.Kind.RESELLER:
        raise ValidationError("Only a reseller can take card payments with its own Stripe keys.")
    if not (is_reseller_admin(actor) and actor.account_id == account.pk):
        raise PermissionDenied("Only the reseller's admins may change its Stripe keys.")


def _clean(value) -> str:
    return (value or "").strip()


def _mode(key) -> str:
    return "live" if "_live_" in key[:8] else "test"


def looks_secret(value) -> bool:
    """A secret pasted into the wrong field: a page must not echo it back."""
    value = _clean(value)
    return bool(SECRET_RE.match(value) or WEBHOOK_SECRET_RE.match(value))


def _check_publishable(value):
    if len(value) > MAX_INPUT:
        return f"That is {len(value)} characters: a publishable key is about 100."
    if SECRET_RE.fullmatch(value):
        return "That is a secret key: paste it in the secret key field, not here."
    if not PUBLISHABLE_RE.fullmatch(value):
        return "A publishable key starts with pk_live_ or pk_test_, followed by letters and digits."
    return ""


def _check_secret(value):
    if len(value) > MAX_INPUT:
        return f"That is {len(value)} characters: a secret key is about 100."
    if PUBLISHABLE_RE.fullmatch(value):
        return "That is the publishable key: paste the secret key (sk_… or rk_…) here."
    if not SECRET_RE.fullmatch(value):
        return (
            "A secret key starts with sk_live_, sk_test_ (or rk_live_, rk_test_ for a "
            "restricted key), followed by letters and digits."
        )
    return ""


def _check_webhook_secret(value):
    if len(value) > MAX_INPUT:
        return f"That is {len(value)} characters: a signing secret is far shorter."
    if not WEBHOOK_SECRET_RE.fullmatch(value):
        return "The webhook signing secret starts with whsec_ (Stripe shows it on the endpoint)."
    return ""


def _stored_secret(stored):
    try:
        return decrypt(stored.secret_key_encrypted)
    except DecryptionError:
        return None


def stripe_keys_set(
    *, actor, account, publishable_key, secret_key="", webhook_secret=""
) -> StripeKeys:
    """Save ``account``'s Stripe keys. The first time all three are needed; afterwards an
    empty secret key or webhook secret keeps the stored one. The publishable and secret
    keys must both be live or both test keys. ValidationError (by field) saves nothing."""
    _may_change(actor, account)
    publishable_key, secret_key, webhook_secret = (
        _clean(publishable_key),
        _clean(secret_key),
        _clean(webhook_secret),
    )
    with transaction.atomic():
        # The account row serialises two admins saving at once (one keys row per reseller).
        Account.objects.select_for_update().get(pk=account.pk)
        stored = StripeKeys.objects.filter(account=account).first()
        current_secret = _stored_secret(stored) if stored else None
        errors = {}
        if not publishable_key:
            errors["publishable_key"] = "Enter the publishable key."
        elif message := _check_publishable(publishable_key):
            errors["publishable_key"] = message
        for field, value, check, name in (
            ("secret_key", secret_key, _check_secret, "secret key"),
            ("webhook_secret", webhook_secret, _check_webhook_secret, "webhook signing secret"),
        ):
            if value:
                if message := check(value):
                    errors[field] = message
            elif stored is None or current_secret is None:
                # Nothing stored, or stored keys we can no longer read: enter them again.
                errors[field] = f"Enter the {name}."
        effective_secret = secret_key or current_secret
        if not errors and _mode(publishable_key) != _mode(effective_secret):
            errors["secret_key"] = (
                f"The publishable key is a {_mode(publishable_key)} key and the secret key a "
                f"{_mode(effective_secret)} key: use both keys of the same mode."
            )
        if errors:
            raise ValidationError(errors)
        replaced = [
            name
            for name, value in (("secret key", secret_key), ("webhook secret", webhook_secret))
            if value
        ]
        if stored is None:
            stored = StripeKeys(account=account, webhook_token=secrets.token_urlsafe(32))
            reason = "keys added"
        else:
            changed = replaced
            if publishable_key != stored.publishable_key:
                changed = ["publishable key", *replaced]
            reason = ("replaced: " + ", ".join(changed)) if changed else "saved unchanged"
        stored.publishable_key = publishable_key
        if secret_key:
            stored.secret_key_encrypted = encrypt(secret_key)
        if webhook_secret:
            stored.webhook_secret_encrypted = encrypt(webhook_secret)
        stored.updated_by = actor
        stored._history_user = actor
        stored._change_reason = reason
        stored.save()
    logger.info(
        "Stripe keys of reseller %s saved by user %s (%s, %s mode)",
        account.pk,
        actor.pk,
        reason,
        _mode(publishable_key),
    )
    return stored


def stripe_keys_remove(*, actor, account) -> bool:
    """Delete ``account``'s Stripe keys (its webhook URL stops answering); its customers
    pay by bank transfer from now on. False when there were none."""
    _may_change(actor, account)
    with transaction.atomic():
        stored = StripeKeys.objects.select_for_update().filter(account=account).first()
        if stored is None:
            return False
        stored._history_user = actor
        stored._change_reason = "keys removed"
        stored.delete()
    logger.info("Stripe keys of reseller %s removed by user %s", account.pk, actor.pk)
    return True


# --- What the keys page shows ------------------------------------------------------------


def _masked(value):
    """``sk_live_…abcd``: the kind and mode, and the last four characters."""
    cut = value.find("_", 3)
    return f"{value[: cut + 1] if cut > 0 else ''}…{value[-4:]}"


@dataclass(frozen=True)
class KeysSummary:
    publishable_key: str
    mode: str
    # "sk_live_…abcd"; empty when the stored secret cannot be decrypted.
    secret_key_hint: str
    webhook_secret_hint: str
    readable: bool
    webhook_url: str
    updated_at: object
    updated_by: object


def webhook_url_for(keys: StripeKeys) -> str:
    """The URL Stripe must call: on the reseller's own host if it has one."""
    path = reverse("payments:stripe_webhook_seller", args=[keys.webhook_token])
    return brand_of_reseller(keys.account_id).site_url + path


def stripe_keys_summary(account) -> KeysSummary | None:
    stored = StripeKeys.objects.select_related("updated_by").filter(account=account).first()
    if stored is None:
        return None
    try:
        secret, webhook = (
            decrypt(stored.secret_key_encrypted),
            decrypt(stored.webhook_secret_encrypted),
        )
    except DecryptionError:
        logger.error("Stripe keys of reseller %s cannot be decrypted", account.pk)
        secret = webhook = None
    return KeysSummary(
        publishable_key=stored.publishable_key,
        mode=_mode(stored.publishable_key),
        secret_key_hint=_masked(secret) if secret else "",
        webhook_secret_hint=_masked(webhook) if webhook else "",
        readable=secret is not None,
        webhook_url=webhook_url_for(stored),
        updated_at=stored.updated_at,
        updated_by=stored.updated_by,
    )


def stripe_keys_history(account, limit=10):
    return (
        StripeKeys.history.filter(account_id=account.pk)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
