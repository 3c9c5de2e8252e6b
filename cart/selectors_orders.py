"""Reads for checkout and orders, scoped to the requesting user."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q

from accounts.scoping import get_scoped_or_404, scoped
from billing.selectors import balance_for
from compliance.selectors import requirements_for_blocks
from compliance.selectors_checkout import (
    awaiting_registration_count,
    policy_deadline_days,
    registration_outlooks,
    registrations_of_order,
)
from didportal.forms import parse_id

from .models_orders import Order
from .orders import CheckoutRefused, code_required
from .selectors import CartView, cart_view


@dataclass
class CheckoutPage:
    cart: CartView
    requirements: list  # Requirement objects, each with ``.agreed`` (ticked in this form)
    balance: object
    minimum: object
    currency: str
    code_required: bool
    # ``{requirement id: RegistrationOutlook}``: what each registration needs and whether
    # the account's is approved ("check before you buy"); each line has ``.registration``.
    registrations: dict

    @property
    def awaiting(self):
        """The outlooks of requirements whose numbers would be sold awaiting registration."""
        return [o for o in self.registrations.values() if not o.covered]

    @property
    def policy_days(self):
        return policy_deadline_days(self.registrations.values())

    @property
    def total(self):
        return self.cart.quote.gross

    @property
    def refusal(self):
        """The balance rule's answer before the buyer even tries (order_place decides)."""
        if self.balance >= self.minimum and self.balance >= self.total:
            return None
        return CheckoutRefused(
            balance=self.balance, total=self.total, minimum=self.minimum, currency=self.currency
        )


def checkout_page(user, *, agreed=None):
    view = cart_view(user)
    requirements = requirements_for_blocks({line.item.block for line in view.lines})
    for requirement in requirements:
        requirement.agreed = requirement.pk in (agreed or {})
    registrations = registration_outlooks(user.account, {line.item.block for line in view.lines})
    for line in view.lines:
        line.registration = registrations.get(line.item.block.requirement_id)
    for requirement in requirements:
        requirement.registration = registrations.get(requirement.pk)
    return CheckoutPage(
        cart=view,
        requirements=requirements,
        balance=balance_for(user.account),
        minimum=settings.MIN_PURCHASE_BALANCE,
        currency=user.account.currency,
        code_required=code_required(view.quote.gross),
        registrations=registrations,
    )


def orders_for(user, *, search="", status=""):
    """Orders the user may see, newest first, with their item counts."""
    found = scoped(Order.objects.select_related("account", "placed_by", "invoice"), user)
    if search:
        found = found.filter(Q(account__name__icontains=search) | Q(pk=_int(search)))
    if status in Order.Status.values:
        found = found.filter(status=status)
    return found.annotate(
        completed_count=Count("items", filter=Q(items__status="completed")),
        failed_count=Count("items", filter=Q(items__status="failed")),
        awaiting_count=awaiting_registration_count(),
    ).order_by("-created_at", "-pk")


def _int(text):
    return parse_id(text.upper().removeprefix("ORD-")) or 0


def order_for(user, pk):
    order = get_scoped_or_404(
        Order.objects.select_related("account", "placed_by", "invoice"), user, pk=pk
    )
    order.item_list = list(order.items.select_related("did", "block").order_by("position"))
    registrations = registrations_of_order(order)
    for item in order.item_list:
        item.registration = registrations.get(item.position)
    order.awaiting_items = [
        item
        for item in order.item_list
        if item.registration is not None and item.registration.status == "awaiting"
    ]
    order.history = list(order.status_changes.select_related("actor"))
    return order
