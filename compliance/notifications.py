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

from .models import NumberRegistration
from .rejections import explained

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


def _waiting(submission):
    """The account's numbers awaiting the submission's requirement, nearest deadline first."""
    return list(
        NumberRegistration.objects.filter(
            account_id=submission.account_id,
            requirement_id=submission.requirement_id,
            status=NumberRegistration.Status.AWAITING,
        )
        .select_related("did")
        .order_by("deadline_at", "pk")
    )


def _day(moment):
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y}"


def submission_received(submission, *, again=False):
    account = submission.account
    requirement = submission.requirement
    what = requirement.title
    waiting = _waiting(submission)
    numbers = ""
    if waiting:
        listed = "".join(f"  {r.did.number} (deadline {_day(r.deadline_at)})\n" for r in waiting)
        numbers = (
            f"Waiting for it:\n{listed}"
            "They are yours meanwhile, but not routed until the registration is approved.\n\n"
        )
    url = _link(account, reverse("compliance:submission", args=[submission.pk]))
    _send(
        account,
        key=f"registration-submitted:{submission.pk}:{submission.submitted_at.isoformat()}",
        subject=f"Registration {'sent again' if again else 'received'}: {what}",
        also=submission.submitted_by,
        text=(
            f"Thank you: we received {'your corrected' if again else 'your'} registration for "
            f"“{what}” ({requirement.applies_to}).\n\n"
            "What happens next: our compliance team checks the identity, the address and the "
            "documents, usually within one working day, and e-mails you the decision.\n\n"
            f"{numbers}"
            f"Follow it here: {url}\n"
        ),
    )


def submission_approved(submission, *, numbers=()):
    account = submission.account
    what = submission.requirement.title
    if numbers:
        listed = "".join(f"  {did.number}\n" for did in numbers)
        activated = (
            f"These numbers are live now:\n{listed}"
            "Their first billing period starts today; the invoice follows.\n\n"
        )
    else:
        activated = ""
    note = (
        f"A note from our compliance team:\n  {submission.comment}\n\n"
        if submission.comment
        else ""
    )
    _send(
        account,
        key=f"registration-approved:{submission.pk}",
        subject=f"Registration approved: {what}",
        also=submission.submitted_by,
        text=(
            f"Your registration for “{what}” is approved.\n\n{activated}{note}"
            "It also covers the numbers you buy later under the same requirement: they go "
            "live at once, with nothing more to send.\n\n"
            f"Your registrations: {_link(account, reverse('compliance:registrations'))}\n"
        ),
    )


def submission_rejected(submission):
    """Each reason in words with what to do and a link straight to the part of the page
    that fixes it, the reviewer's comment, and how long the numbers keep waiting."""
    account = submission.account
    what = submission.requirement.title
    url = _link(account, reverse("compliance:submission", args=[submission.pk]))
    steps = []
    for reason in explained(submission.rejection_reasons):
        fix = f"\n    Fix it here: {url}#{reason['field']}" if reason["field"] else ""
        steps.append(f"  - {reason['label']}: {reason['advice']}{fix}\n")
    comment = ""
    if submission.comment:
        quoted = "".join(f"  {line}\n" for line in submission.comment.splitlines())
        comment = f"\nThe reviewer's comment:\n{quoted}"
    waiting = _waiting(submission)
    keep = (
        f"Your numbers waiting for it stay yours until {_day(waiting[0].deadline_at)}; if the "
        "registration is not approved by then, they are cancelled and refunded in full.\n"
        if waiting
        else ""
    )
    _send(
        account,
        key=f"registration-rejected:{submission.pk}:{submission.decided_at.isoformat()}",
        subject=f"Action needed: registration for {what}",
        also=submission.submitted_by,
        text=(
            f"We could not approve your registration for “{what}” yet. What to fix:\n\n"
            f"{''.join(steps)}{comment}\n"
            f"Fix it and send it again from the same page: {url}\n"
            "It goes back to our review queue as soon as you send it.\n\n"
            f"{keep}"
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
