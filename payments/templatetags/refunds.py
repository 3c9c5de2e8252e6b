"""``{% payout_panel %}``: the balance page's payouts section. A template tag, so billing's
page shows it without billing importing payments."""

from django import template

from accounts.permissions import may_fund_balance
from billing.selectors import balance_for

from ..selectors_refunds import open_payout, own_payouts

register = template.Library()


@register.inclusion_tag("payments/_refunds_balance_panel.html", takes_context=True)
def payout_panel(context):
    user = context["request"].user
    account = user.account
    return {
        "may_ask": may_fund_balance(user),
        "open_payout": open_payout(account),
        "balance": balance_for(account),
        "payouts": list(own_payouts(account)[:5]),
        "currency": account.currency,
    }
