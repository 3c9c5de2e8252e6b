"""Reads for buyers: what a requirement asks for, in their words, and "check before you buy"
— whether an account's registration already covers the numbers it is about to buy — plus
where each sold number stands (for orders, My numbers and the confirmation e-mail).

The rule deciding at checkout is ``cart.orders``' (under the balance lock): a number whose
requirement ``needs_registration`` goes live at once only when the account's submission for
it is approved, else it is sold awaiting registration. This module shows the same answer
before the buyer pays; it decides nothing.
"""

from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from .models import NumberRegistration, Submission
from .needs import (
    address_phrase,
    identity_phrase,
    needs_sentence,
    proof_phrases,
    registration_needs,
)
from .selectors import requirements_for_blocks


def requirement_page(requirement):
    """What the public requirement page lists: ``identity``, ``address``, ``proofs`` (each
    "" / [] when not asked) and ``needs_registration``."""
    return {
        "needs_registration": requirement.needs_registration,
        "identity_need": identity_phrase(requirement),
        "address_need": address_phrase(requirement),
        "proof_needs": proof_phrases(requirement),
    }


# --- Check before you buy ---------------------------------------------------------------------


@dataclass
class RegistrationOutlook:
    """How numbers of ``requirement`` bought now by an account would be sold."""

    requirement: object
    submission_status: str  # "" (none yet), or the account's Submission.Status
    needs: list = field(default_factory=list)

    @property
    def covered(self):
        """Approved: numbers go live at once."""
        return self.submission_status == Submission.Status.APPROVED

    @property
    def under_review(self):
        return self.submission_status == Submission.Status.SUBMITTED

    @property
    def deadline_days(self):
        return self.requirement.deadline_days

    @property
    def needs_text(self):
        return needs_sentence(self.requirement)

    @property
    def headline(self):
        """The one line shown next to each item."""
        if self.covered:
            return "Registered: goes live at once"
        days = self.deadline_days
        if self.under_review:
            return (
                "Sold awaiting registration: yours is under review and covers it once "
                "approved (a number is never cancelled while we review)"
            )
        return (
            f"Sold awaiting registration: provide {self.needs_text} within {days} "
            f"day{'s' if days != 1 else ''}"
        )


def registration_outlooks(account, blocks):
    """``{requirement id: RegistrationOutlook}`` for the requirements of ``blocks`` that need
    a registration, as they stand for ``account`` now. Two queries at most (the
    requirements, then the account's submissions for them); none without requirements."""
    needed = [r for r in requirements_for_blocks(blocks) if r.needs_registration]
    if not needed:
        return {}
    statuses = dict(
        Submission.objects.filter(
            account=account, requirement_id__in=[r.pk for r in needed]
        ).values_list("requirement_id", "status")
    )
    return {
        r.pk: RegistrationOutlook(
            requirement=r, submission_status=statuses.get(r.pk, ""), needs=registration_needs(r)
        )
        for r in needed
    }


def policy_deadline_days(outlooks):
    """The deadline the billing policy sentence names: one number of days when every
    awaiting requirement has the same, else None (each item shows its own)."""
    days = {o.deadline_days for o in outlooks if not o.covered}
    return days.pop() if len(days) == 1 else None


# --- Where sold numbers stand -----------------------------------------------------------------


def registrations_of_order(order):
    """``{order item position: NumberRegistration}`` of ``order``'s numbers that needed a
    registration (one query). The order is already scoped to the viewer."""
    rows = NumberRegistration.objects.filter(order_id=order.pk).order_by("pk")
    return {r.order_item_position: r for r in rows if r.order_item_position is not None}


def awaiting_registration_count(order_ref="pk"):
    """An annotation for orders: how many of the order's numbers still await registration
    (a correlated subquery; 0 for none)."""
    counts = (
        NumberRegistration.objects.filter(
            order_id=OuterRef(order_ref), status=NumberRegistration.Status.AWAITING
        )
        .order_by()
        .values("order_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)
