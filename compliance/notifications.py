"""E-mails compliance sends, queued in the outbox inside the transaction of the change they
report (``outbox.services.email_queue``), each with a key so a repeat queues nothing new.

Who hears: the account's admins and members who provide its registrations (and whoever
submitted it). A reseller's customer gets them under its reseller's brand.
"""

import math
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from accounts.branding import brand_for_account
from accounts.models import Role
from billing.services.registration import pending_refund_due
from outbox.services import email_queue

from .models import RejectionReason, Submission

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


def _when(moment):
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _days_left(deadline, now):
    """Whole days until ``deadline``, rounded up ("3 days" three days before, give or take
    the hour the reminder job waits); at least one."""
    seconds = (deadline - now).total_seconds()
    days = max(1, math.ceil(seconds / 86400 - 1e-9))
    return f"{days} day{'s' if days != 1 else ''}"


def _where_it_stands(requirement, account, submission=None):
    """What the account should do now, by the state of its submission, and the link to it."""
    submission = submission or (
        Submission.objects.filter(account=account, requirement=requirement).first()
    )
    if submission is None or submission.status == Submission.Status.DRAFT:
        return (
            "You have not sent this registration yet. Choose or add an identity and an "
            "address and upload the documents it asks for, then submit it:\n"
            f"{_link(account, reverse('compliance:registrations'))}\n"
        )
    link = _link(account, reverse("compliance:submission", args=[submission.pk]))
    if submission.status == Submission.Status.SUBMITTED:
        sent = timezone.localtime(submission.submitted_at)
        return (
            f"You sent the registration on {sent:%Y-%m-%d} and it is awaiting review by our "
            "compliance team; there is nothing more to do unless we ask you for a fix. "
            f"You can follow it here:\n{link}\n"
        )
    if submission.status == Submission.Status.REJECTED:
        reasons = ", ".join(
            RejectionReason(code).label.lower() for code in submission.rejection_reasons
        )
        return (
            f"We could not approve the registration you sent ({reasons}). Fix what the "
            f"reviewer pointed out and submit it again:\n{link}\n"
        )
    return f"See the registration here:\n{link}\n"


def registration_deadline_soon(registrations, *, now=None):
    """The one reminder about an account's numbers awaiting the same requirement whose
    deadline is near (``registrations``, soonest first): how long is left, what happens
    then (cancelled, and how much comes back), and what to do now."""
    first = registrations[0]
    account, requirement = first.account, first.requirement
    now = now or timezone.now()
    many = len(registrations) > 1
    refund = sum(
        (pending_refund_due(did_id=r.did_id, account=account) for r in registrations),
        start=Decimal("0.00"),
    )
    if len({r.deadline_at for r in registrations}) == 1:
        numbers = "".join(f"  {r.did.number}\n" for r in registrations)
        deadline = (
            f"Deadline: {_when(first.deadline_at)}, in {_days_left(first.deadline_at, now)}.\n"
        )
    else:
        numbers = "".join(f"  {r.did.number}: by {_when(r.deadline_at)}\n" for r in registrations)
        deadline = f"The first deadline is in {_days_left(first.deadline_at, now)}.\n"
    these = "These numbers are" if many else "This number is"
    them = "they are" if many else "it is"
    subject_what = f"{len(registrations)} numbers" if many else first.did.number
    _send(
        account,
        key=f"registration-reminder:{first.pk}",
        subject=f"Registration due in {_days_left(first.deadline_at, now)}: {subject_what}",
        text=(
            f"{these} yours but not routed yet: waiting for the registration "
            f"“{requirement.title}”.\n{numbers}\n{deadline}"
            f"If the registration is not approved by then, {them} cancelled and the "
            f"{refund} {account.currency} you paid is refunded to your balance in full.\n\n"
            f"{_where_it_stands(requirement, account, first.submission)}"
        ),
    )


def registration_cancelled(registration):
    """A number cancelled because its registration never came: why, and the refund."""
    account = registration.account
    number = registration.did.number
    again = (
        "If you still want a number there, buy one again and provide the registration within "
        f"{registration.requirement.deadline_days} days; once a registration is approved, "
        "every later number under it goes live at once.\n"
    )
    _send(
        account,
        key=f"registration-cancelled:{registration.pk}",
        subject=f"{number} cancelled and refunded {registration.refunded} {account.currency}",
        text=(
            f"{number} is cancelled: {registration.cancel_reason} "
            f"({_when(registration.cancelled_at)}). It is no longer yours and was never "
            "routed.\n\n"
            f"We refunded {registration.refunded} {account.currency} to your balance: "
            "everything you paid for it (setup fee and first period, tax included). You "
            "will not be invoiced for it.\n\n"
            f"{again}"
        ),
    )
