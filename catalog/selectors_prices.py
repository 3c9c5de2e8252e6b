"""Reads of a reseller's price list: its rules, the preview of a change, its history.

What a reseller sees here is its wholesale price (what it pays) and its retail prices;
never the platform's buy cost.
"""

import operator
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce

from django.db.models import Count, Q

from didportal.templatetags.portal import money
from inventory.models import NumberBlock

from .models import MarkupRule, RenewalPriceChange
from .pricing import PriceList, price_list_of, retail_prices, wholesale_prices

PARTS = dict(MarkupRule.PARTS)
SCOPE_ORDER = {"default": 0, "number_type": 1, "country": 2, "block": 3}


def price_list_rules(reseller):
    """``reseller``'s rules, default first, then number types, countries and blocks (the
    order in which they grow more specific)."""
    rules = MarkupRule.objects.filter(reseller=reseller).select_related("block__operator")
    return sorted(
        rules,
        key=lambda r: (SCOPE_ORDER[r.scope], r.number_type, str(r.country), r.block_id or 0),
    )


def rule_summary(rule):
    """The rule's price parts for people: "Setup fee +10 % · Recurring +30 % +1.00 …";
    works on a rule and on one of its history rows."""
    parts = []
    for part, label in MarkupRule.PARTS:
        percent = getattr(rule, f"{part}_percent")
        fixed = getattr(rule, f"{part}_fixed")
        if not percent and not fixed:
            continue
        text = []
        if percent:
            text.append(f"+{money(percent, 0)} %")
        if fixed:
            sign = "+" if fixed > 0 else "−"
            text.append(f"{sign}{money(abs(fixed))}")
        parts.append(f"{label.split(' (')[0]} {' '.join(text)}")
    if rule.rounding and rule.rounding != MarkupRule.Rounding.NONE:
        parts.append(f"rounded {MarkupRule.Rounding(rule.rounding).label.lower()}")
    return " · ".join(parts) or "Wholesale price (no markup)"


@dataclass(frozen=True)
class PreviewRow:
    """One block a change reaches: its wholesale, retail now and retail after, for the
    first period it is offered (``period``; "one_time": setup only) and for the setup fee."""

    block: NumberBlock
    period: str
    wholesale: Decimal | None
    now: Decimal | None
    after: Decimal | None
    setup_wholesale: Decimal
    setup_now: Decimal
    setup_after: Decimal

    @property
    def margin(self):
        if self.after is None:
            return None
        return self.after - self.wholesale

    @property
    def margin_percent(self):
        """The margin as a percent of the retail price after the change."""
        if self.after is None or not self.after:
            return None
        return (self.margin * 100 / self.after).quantize(Decimal("0.1"))

    @property
    def setup_margin(self):
        return self.setup_after - self.setup_wholesale

    @property
    def changed(self):
        return (self.now, self.setup_now) != (self.after, self.setup_after)


def _scope_q(rule):
    if rule.scope == MarkupRule.Scope.BLOCK:
        return Q(pk=rule.block_id)
    if rule.scope == MarkupRule.Scope.COUNTRY:
        return Q(country=str(rule.country))
    if rule.scope == MarkupRule.Scope.NUMBER_TYPE:
        return Q(number_type=rule.number_type)
    return Q()


def price_list_preview(*, reseller, rule, delete=False):
    """The blocks ``rule`` (saved or not; ``delete``: its removal) reaches, before and after
    the change: a list of ``PreviewRow`` by country, city and type. A block is reached when
    the rule decides its price now (the saved version) or after."""
    current = price_list_of(reseller)
    kept = [r for r in current.rules if rule.pk is None or r.pk != rule.pk]
    after = PriceList(kept if delete else [*kept, rule])
    saved = next((r for r in current.rules if rule.pk and r.pk == rule.pk), None)
    # Q() | X is X (Django drops an empty side), so a default rule must widen explicitly.
    scopes = [_scope_q(r) for r in (rule, saved) if r is not None]
    blocks = NumberBlock.objects.select_related("operator")
    if all(scopes):
        blocks = blocks.filter(reduce(operator.or_, scopes))
    rows = []
    for block in blocks.order_by("country", "city", "number_type", "pk"):
        old_rule, new_rule = current.rule_for(block), after.rule_for(block)
        reached_now = saved is not None and old_rule is saved
        if not (reached_now or (not delete and new_rule is rule)):
            continue
        wholesale = wholesale_prices(block, reseller)
        now = retail_prices(block, reseller, price_list=current)
        then = retail_prices(block, reseller, price_list=after)
        period = "one_time" if wholesale.one_time else block.billing_periods[0]

        def pick(prices, period=period):
            return None if period == "one_time" else prices.for_period(period)

        rows.append(
            PreviewRow(
                block=block,
                period=period,
                wholesale=pick(wholesale),
                now=pick(now),
                after=pick(then),
                setup_wholesale=wholesale.setup_fee,
                setup_now=now.setup_fee,
                setup_after=then.setup_fee,
            )
        )
    return rows


def price_list_history(reseller):
    """Every change to ``reseller``'s rules, newest first, with who made it."""
    return (
        MarkupRule.history.filter(reseller_id=reseller.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )


def renewal_price_changes(reseller):
    """``reseller``'s scheduled, applied and cancelled renewal price changes, newest
    first, with how many subscriptions each reprices."""

    return (
        RenewalPriceChange.objects.filter(reseller=reseller)
        .select_related("created_by", "cancelled_by")
        .annotate(line_count=Count("lines"))
        .order_by("-effective_on", "-pk")
    )
