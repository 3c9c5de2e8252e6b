"""catalog.pricing with resellers' price lists: precedence, rounding, floor, percent +
fixed, weekly/daily spreading and the list → wholesale → retail chain."""

from decimal import Decimal

import pytest

from accounts.models import Account
from catalog.models import MarkupRule
from catalog.pricing import (
    PriceList,
    block_prices,
    price_list_of,
    retail_prices,
    round_up,
    rule_apply,
    wholesale_prices,
)
from tests.factories import AccountFactory, MarkupRuleFactory, reseller_account
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db
D = Decimal


def fresh(account):
    """Another instance of ``account``: its price list is read afresh."""
    return Account.objects.get(pk=account.pk)


@pytest.fixture
def reseller(db):
    return reseller_account(wholesale_discount=D("10"))


@pytest.fixture
def block(db):
    return NumberBlockFactory(
        setup_fee=D("10.00"),
        monthly_price=D("2.00"),
        weekly_price=D("0.50"),
        daily_price=D("0.10"),
        extra_channel_monthly_price=D("1.00"),
        connection_fee=D("0.01000"),
        rate_per_minute=D("0.00600"),
        buy_monthly_cost=D("0.80"),
    )


def test_a_reseller_without_rules_sells_at_wholesale(reseller, block):
    assert retail_prices(block, reseller) == wholesale_prices(block, reseller)
    assert wholesale_prices(block, reseller).monthly == D("1.80000")


def test_percent_and_fixed_per_part(reseller, block):
    MarkupRuleFactory(
        reseller=reseller,
        setup_percent=D("50"),
        setup_fixed=D("1"),
        recurring_percent=D("30"),
        recurring_fixed=D("0.52"),
        extra_channel_percent=D("100"),
        rate_percent=D("10"),
        rate_fixed=D("0.001"),
        connection_fixed=D("0.002"),
    )
    retail = retail_prices(block, reseller)
    assert retail.setup_fee == D("9.00") * D("1.5") + 1  # 14.50
    assert retail.monthly == D("1.80") * D("1.3") + D("0.52")  # 2.86
    # The fixed amount is per month: × 12 / 52 a week and × 12 / 365 a day.
    assert retail.weekly == D("0.45") * D("1.3") + D("0.12000")
    assert retail.daily == (D("0.09") * D("1.3") + D("0.01710")).quantize(D("0.00001"))
    assert retail.extra_channel_monthly == D("1.80")
    assert retail.extra_channel_price("weekly") == D("0.41538")
    assert retail.rate_per_minute == D("0.00540") * D("1.1") + D("0.001")
    assert retail.connection_fee == D("0.00900") + D("0.002")


def test_the_most_specific_rule_wins_alone(reseller, block):
    other = NumberBlockFactory(country="DE", city="Berlin", number_type="mobile")
    MarkupRuleFactory(reseller=reseller, recurring_percent=D("10"))
    MarkupRuleFactory(
        reseller=reseller, scope="number_type", number_type="local", recurring_percent=D("20")
    )
    MarkupRuleFactory(reseller=reseller, scope="country", country="NL", recurring_percent=D("30"))
    rules = PriceList(MarkupRule.objects.filter(reseller=reseller))
    assert rules.rule_for(block).recurring_percent == D("30")  # country beats type
    assert rules.rule_for(other).recurring_percent == D("10")  # only the default reaches it
    MarkupRuleFactory(reseller=reseller, scope="block", block=block, recurring_percent=D("40"))
    MarkupRuleFactory(
        reseller=reseller, scope="number_type", number_type="mobile", recurring_percent=D("50")
    )
    rules = PriceList(MarkupRule.objects.filter(reseller=reseller))
    assert rules.rule_for(block).recurring_percent == D("40")  # block beats country
    assert rules.rule_for(other).recurring_percent == D("50")  # type beats default
    assert retail_prices(block, fresh(reseller)).monthly == D("2.52000")  # 1.80 × 1.4


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        ("none", "1.234564", "1.23456"),
        ("x9", "1.2301", "1.29"),
        ("x9", "1.30", "1.39"),
        ("x9", "1.29", "1.29"),
        ("x9", "0.001", "0.09"),
        ("x5", "1.2301", "1.25"),
        ("x5", "1.26", "1.35"),
        ("x5", "1.25", "1.25"),
        ("whole", "1.01", "2"),
        ("whole", "2.00", "2"),
        ("x9", "0", "0"),
        ("whole", "0", "0"),
    ],
)
def test_rounding_modes_only_go_up(mode, value, expected):
    assert round_up(D(value), mode) == D(expected)


def test_rounding_applies_to_prices_but_not_per_minute_parts(reseller, block):
    MarkupRuleFactory(
        reseller=reseller, recurring_percent=D("30"), rate_percent=D("30"), rounding="x9"
    )
    retail = retail_prices(block, reseller)
    assert retail.monthly == D("2.39")  # 2.34 up to .x9
    assert retail.weekly == D("0.59")  # 0.585 up to .x9
    assert retail.setup_fee == D("9.09")  # 9.00 (no markup) up to .x9
    assert retail.rate_per_minute == D("0.00702")  # never rounded


def test_retail_is_never_below_wholesale(reseller, block):
    rule = MarkupRuleFactory(
        reseller=reseller, recurring_percent=D("10"), recurring_fixed=D("-5"), setup_fixed=D("-1")
    )
    wholesale, retail = wholesale_prices(block, reseller), retail_prices(block, reseller)
    assert retail.monthly == wholesale.monthly == D("1.80")  # 1.98 − 5 stops at wholesale
    assert retail.setup_fee == wholesale.setup_fee == D("9.00")
    assert retail.daily == wholesale.daily
    # Rounding comes after the floor, and only up.
    rule.rounding = "x5"
    rule.save()
    assert retail_prices(block, fresh(reseller)).monthly == D("1.85")


def test_a_one_time_block_has_no_period_price_to_mark_up(reseller):
    once = NumberBlockFactory(
        billing_type="one_time",
        monthly_price=None,
        setup_fee=D("20"),
        extra_channel_monthly_price=1,
    )
    MarkupRuleFactory(reseller=reseller, recurring_percent=D("50"), setup_percent=D("50"))
    retail = retail_prices(once, reseller)
    assert retail.monthly is None and retail.setup_fee == D("27.00")


def test_chain_list_discount_wholesale_retail(reseller, block):
    """The platform's list → the reseller's discount → its price list, per viewer."""
    MarkupRuleFactory(reseller=reseller, recurring_percent=D("50"))
    customer = AccountFactory(parent=reseller)
    direct = AccountFactory()
    assert block_prices(block, direct).monthly == D("2.00")  # list
    assert block_prices(block, reseller).monthly == D("1.80")  # list − 10 %
    assert block_prices(block, customer).monthly == D("2.70")  # wholesale + 50 %
    assert block_prices(block, None).monthly == D("2.00")
    assert block_prices(block, None, host_reseller=reseller).monthly == D("2.70")


def test_the_price_list_is_read_once_per_reseller_instance(
    reseller, block, django_assert_num_queries
):
    MarkupRuleFactory(reseller=reseller, recurring_percent=D("50"))
    reseller = fresh(reseller)
    with django_assert_num_queries(1):
        for _ in range(5):
            retail_prices(block, reseller)
    assert price_list_of(reseller).default.recurring_percent == D("50")


def test_an_unsaved_rule_previews_like_a_saved_one(reseller, block):
    rule = MarkupRule(reseller=reseller, scope="default", recurring_percent=D("100"))
    preview = rule_apply(rule, wholesale_prices(block, reseller))
    assert preview.monthly == D("3.60")
    assert retail_prices(block, reseller, price_list=PriceList([rule])) == preview


def test_the_preview_of_a_new_default_rule_reaches_every_block():
    """Q() | Q(pk__in=[]) is the empty set: a new default rule once previewed no block."""
    from catalog.selectors_prices import price_list_preview

    voxel = reseller_account(wholesale_discount=Decimal("10"))
    blocks = [NumberBlockFactory(), NumberBlockFactory(country="DE")]
    draft = MarkupRule(reseller=voxel, scope="default", recurring_percent=Decimal("50"))
    rows = price_list_preview(reseller=voxel, rule=draft)
    assert sorted(r.block.pk for r in rows) == sorted(b.pk for b in blocks)
    saved = MarkupRuleFactory(reseller=voxel, scope="country", country="DE")
    saved.scope, saved.country = "default", ""  # widened while being edited
    assert len(price_list_preview(reseller=voxel, rule=saved)) == 2
