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

from .models import NumberRegistration, RejectionReason, Submission
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
