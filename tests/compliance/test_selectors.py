"""Which requirements apply to blocks, and who sees which agreements."""

import pytest

from compliance import selectors
from compliance.models import Requirement
from compliance.services import agreements_record
from tests.compliance.factories import RequirementFactory
from tests.factories import AccountFactory, UserFactory
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db


def test_requirements_for_blocks_are_the_blocks_own_active_ones_once_in_a_stable_order(
    django_assert_num_queries,
):
    fr = RequirementFactory(country="FR", title="Adresse")
    de_b = RequirementFactory(country="DE", title="B")
    de_a = RequirementFactory(country="DE", title="A")
    retired = RequirementFactory(country="DE", title="Old", active=False)
    blocks = [
        NumberBlockFactory(country="FR", requirement=fr),
        NumberBlockFactory(country="DE", requirement=de_b),
        NumberBlockFactory(country="DE", requirement=de_a),
        NumberBlockFactory(country="DE", requirement=de_b),  # the same one twice
        NumberBlockFactory(country="DE", requirement=retired),
        NumberBlockFactory(country="DE", requirement=None),
    ]
    with django_assert_num_queries(1):
        found = selectors.requirements_for_blocks(blocks)
    assert found == [de_a, de_b, fr]
    assert selectors.requirements_for_blocks(list(reversed(blocks))) == found


def test_a_block_without_a_requirement_needs_none_even_if_one_matches_its_country(
    django_assert_num_queries,
):
    RequirementFactory(country="NL", number_type="")  # matches by country and type only
    block = NumberBlockFactory(country="NL", requirement=None)
    with django_assert_num_queries(0):
        assert selectors.requirements_for_blocks([block]) == []


def test_requirements_at_versions_carry_the_version_shown():
    requirement = RequirementFactory(version=3)
    (shown,) = selectors.requirements_at_versions({requirement.pk: 2})
    assert (shown.pk, shown.version) == (requirement.pk, 2)


def test_console_counts_blocks_and_agreements_without_multiplying(customer_admin):
    used = RequirementFactory(title="Used")
    unused = RequirementFactory(title="Unused")
    NumberBlockFactory(country="DE", requirement=used)
    NumberBlockFactory(country="DE", requirement=used)
    for order_id in (1, 2, 3):
        agreements_record(
            user=customer_admin,
            account=customer_admin.account,
            requirements=[used],
            order_id=order_id,
            ip_address=None,
        )
    rows = {
        r.title: (r.block_count, r.agreement_count) for r in selectors.requirements_for_console()
    }
    assert rows == {"Used": (2, 3), "Unused": (0, 0)}
    assert list(selectors.requirements_for_console(active=False)) == []
    Requirement.objects.filter(pk=unused.pk).update(active=False)
    assert [r.title for r in selectors.requirements_for_console(active=False)] == ["Unused"]
    assert list(selectors.requirements_for_console(country="FR")) == []


@pytest.fixture
def agreements(reseller):
    """One agreement each for a direct customer, a reseller's customer and a stranger."""
    requirement = RequirementFactory()
    users = {
        "direct": UserFactory(role="customer_admin"),
        "resold": UserFactory(role="customer_admin", account=AccountFactory(parent=reseller)),
        "stranger": UserFactory(role="customer_admin"),
    }
    made = {}
    for key, user in users.items():
        (made[key],) = agreements_record(
            user=user, account=user.account, requirements=[requirement], order_id=1, ip_address=None
        )
    return users, made


def test_agreements_for_a_customer_are_its_accounts_only(agreements):
    users, made = agreements
    teammate = UserFactory(account=users["direct"].account, role="customer_member")
    assert list(selectors.agreements_for(users["direct"])) == [made["direct"]]
    assert list(selectors.agreements_for(teammate)) == [made["direct"]]


def test_agreements_for_a_reseller_are_its_customers(agreements, reseller_admin):
    users, made = agreements
    assert list(selectors.agreements_for(reseller_admin)) == [made["resold"]]


def test_agreements_for_platform_staff_are_all_and_filter_by_account(
    agreements, platform_admin, finance_user
):
    users, made = agreements
    assert set(selectors.agreements_for(finance_user)) == set(made.values())
    only = selectors.agreements_for(platform_admin, account=users["stranger"].account)
    assert list(only) == [made["stranger"]]


def test_account_filter_cannot_widen_the_scope(agreements):
    users, made = agreements
    other = users["stranger"].account
    assert list(selectors.agreements_for(users["direct"], account=other)) == []
