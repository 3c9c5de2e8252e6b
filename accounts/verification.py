"""E-mail verification after self-service sign-up: a signed link, sent through the outbox.

The link carries the user's id and address, signed with ``SECRET_KEY`` and valid for
``EMAIL_VERIFICATION_DAYS``; opening it marks the address verified (idempotent). Until then
the user may look around but not buy (``accounts.permissions.require_may_buy``). A resend
is throttled per user (``EMAIL_VERIFICATION_SENDS_PER_HOUR``, the first e-mail included).
"""

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from outbox.services import email_queue

from .branding import brand_for_account
from .models import User
from .throttles import HOUR, Throttled, normalized_email, throttle_hit

SALT = "accounts.verification.email"


def _token(user) -> str:
    return signing.dumps({"u": user.pk, "e": normalized_email(user.email)}, salt=SALT)


def email_verification_send(*, user) -> None:
    """Queue the verification e-mail (inside the caller's transaction, if any).

    Raises ``Throttled`` once this user was sent ``EMAIL_VERIFICATION_SENDS_PER_HOUR``
    e-mails in the hour; ``ValidationError`` when the address is verified already."""
    if user.email_verified:
        raise ValidationError("Your e-mail address is confirmed already.")
    if not throttle_hit(
        scope="verify-email",
        value=str(user.pk),
        limit=settings.EMAIL_VERIFICATION_SENDS_PER_HOUR,
        window_seconds=HOUR,
    ):
        raise Throttled(
            "We sent you several confirmation e-mails in the last hour already. Please check "
            "your inbox and spam folder, or try again later."
        )
    path = reverse("accounts:verify_email", args=[_token(user)])
    brand = brand_for_account(user.account)
    context = {
        "user": user,
        "link": brand.site_url + path,
        "days": settings.EMAIL_VERIFICATION_DAYS,
        "site": brand.name,
    }
    email_queue(
        to=[user.email],
        account=user.account,
        subject=f"[{brand.name}] Confirm your e-mail address",
        text=render_to_string("accounts/email/verify_email.txt", context),
    )


@transaction.atomic
def email_verify(*, token) -> User:
    """Mark the address in ``token`` verified and return its user; ``ValidationError`` for
    a link that is broken, expired, or for an address the user no longer has."""
    max_age = settings.EMAIL_VERIFICATION_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ValidationError(
            "This confirmation link has expired. Sign in and send a new one from the banner."
        ) from exc
    except signing.BadSignature as exc:
        raise ValidationError("This confirmation link is not valid.") from exc
    user = User.objects.select_for_update().filter(pk=data.get("u")).first()
    if user is None or normalized_email(user.email) != data.get("e"):
        raise ValidationError("This confirmation link is not valid.")
    if not user.email_verified:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user
