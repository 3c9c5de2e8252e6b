"""E-mails compliance sends, queued in the outbox inside the transaction of the change they
report (``outbox.services.email_queue``), each with a key so a repeat queues nothing new.

Who hears: the account's admins and members who provide its registrations (and whoever
submitted it). A reseller's customer gets them under its reseller's brand.
"""

from django.urls import reverse
from django.utils import timezone

from accounts.branding import brand_for_account
from accounts.models import Role
from outbox.services import email_queue

from .models import RejectionReason

PROVIDER_ROLES = (Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER, Role.RESELLER_ADMIN)


def _contacts(account, also=None):
    emails = set(
        account.users.filter(role__in=PROVIDER_ROLES, is_active=True).values_list(
            "email", flat=True
        )
    )
    if also is not None and also.is_active and also.account_id == account.pk:
        emails.add(also.email)
    return sorted(emails)


def _send(account, *, key, subject, text, also=None):
    recipients = _contacts(account, also)
    if not recipients:
        return None
    site = brand_for_account(account).name
    return email_queue(
        to=recipients, account=account, key=key, subject=f"[{site}] {subject}", text=text
    )


def _link(account, path):
    return f"{brand_for_account(account).site_url}{path}"


def submission_received(submission, *, again=False):
    account = submission.account
    what = submission.requirement.title
    _send(
        account,
        key=f"registration-submitted:{submission.pk}:{submission.submitted_at.isoformat()}",
        subject=f"Registration received: {what}",
        also=submission.submitted_by,
        text=(
            f"We received {'the corrected' if again else 'your'} registration for “{what}”.\n\n"
            "Our compliance team reviews it, usually within one working day; we e-mail you "
            "the decision. Numbers waiting for it stay reserved for you meanwhile.\n\n"
            f"See it: {_link(account, reverse('compliance:submission', args=[submission.pk]))}\n"
        ),
    )


def submission_approved(submission, *, numbers=()):
    account = submission.account
    what = submission.requirement.title
    listed = "".join(f"  {did.number}\n" for did in numbers)
    activated = (
        f"These numbers are now active and their first period starts today:\n{listed}\n"
        if numbers
        else "Numbers you buy under it from now on go live at once.\n\n"
    )
    _send(
        account,
        key=f"registration-approved:{submission.pk}",
        subject=f"Registration approved: {what}",
        text=f"Your registration for “{what}” is approved.\n\n{activated}",
    )


def submission_rejected(submission):
    account = submission.account
    what = submission.requirement.title
    reasons = "".join(
        f"  - {RejectionReason(code).label}\n" for code in submission.rejection_reasons
    )
    comment = f"\nThe reviewer's note:\n{submission.comment}\n" if submission.comment else ""
    url = _link(account, reverse("compliance:submission", args=[submission.pk]))
    _send(
        account,
        key=f"registration-rejected:{submission.pk}:{submission.decided_at.isoformat()}",
        subject=f"Registration needs a fix: {what}",
        also=submission.submitted_by,
        text=(
            f"We could not approve your registration for “{what}”:\n{reasons}{comment}\n"
            f"Fix it and submit it again here: {url}\n\n"
            "Your numbers stay reserved until their deadline.\n"
        ),
    )


def registration_deadline_soon(registration):
    account = registration.account
    deadline = timezone.localtime(registration.deadline_at)
    _send(
        account,
        key=f"registration-reminder:{registration.pk}",
        subject=f"Registration due by {deadline:%Y-%m-%d}: {registration.did.number}",
        text=(
            f"{registration.did.number} is waiting for the registration “"
            f"{registration.requirement.title}”. If it is not approved by "
            f"{deadline:%Y-%m-%d %H:%M} {deadline.tzname()}, the number is cancelled and "
            "refunded in full.\n\n"
            f"Provide it here: {_link(account, reverse('compliance:registrations'))}\n"
        ),
    )


def registration_cancelled(registration):
    account = registration.account
    _send(
        account,
        key=f"registration-cancelled:{registration.pk}",
        subject=f"Number cancelled and refunded: {registration.did.number}",
        text=(
            f"{registration.did.number} is cancelled: {registration.cancel_reason}.\n\n"
            f"We refunded {registration.refunded} {account.currency} to your balance.\n"
        ),
    )
