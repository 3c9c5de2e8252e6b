"""The reseller's price list editor: rules with a preview first, bad input named by field,
history, and who may do what."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import MarkupRule
from tests.factories import AccountFactory, MarkupRuleFactory, UserFactory, reseller_account
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db
D = Decimal
LIST = reverse("catalog:reseller_pricing")
NEW = reverse("catalog:price_rule_new")


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def rule_data(**fields):
    return {"scope": "default", "rounding": "none", **fields}


@pytest.fixture
def voxel(db):
    return reseller_account(name="Voxel", wholesale_discount=D("10"))


@pytest.fixture
def voxel_admin(voxel):
    return UserFactory(account=voxel, role="reseller_admin", full_name="Vera Voxel")


@pytest.fixture
def editor(client, voxel_admin):
    client.force_login(voxel_admin)
    return client


def test_the_nav_leads_to_the_price_list(editor):
    page = text(editor.get(reverse("dashboard"), follow=True))
    assert f'href="{LIST}"' in page
    assert "No rules yet: your customers pay your wholesale price." in text(editor.get(LIST))


def test_preview_shows_wholesale_retail_now_and_after_and_margin(editor, voxel, stock):
    response = editor.post(
        NEW, rule_data(scope="country", country="DE", recurring_percent="50", setup_fixed="1")
    )
    assert response.status_code == 200
    (row,) = response.context["page"].object_list
    assert row.block == stock["munich"] and row.period == "monthly"
    assert (row.wholesale, row.now, row.after) == (D("2.70"), D("2.70"), D("4.05"))
    assert row.margin == D("1.35") and row.margin_percent == D("33.3")
    assert (row.setup_wholesale, row.setup_after) == (D("4.50"), D("5.50"))
    page = text(response)
    assert (
        "4.05" in page and "33.3 %" in page and "1 block reached, 1 with a new retail price" in page
    )
    assert not MarkupRule.objects.exists()  # nothing saved by a preview


def test_save_after_preview_records_who_and_when(editor, voxel, voxel_admin, stock):
    data = rule_data(scope="country", country="DE", recurring_percent="50")
    response = editor.post(NEW, {**data, "action": "save"})
    assert response.status_code == 302 and response.url == LIST
    rule = MarkupRule.objects.get()
    assert (rule.reseller, rule.country.code, rule.recurring_percent) == (voxel, "DE", D("50"))
    assert "Germany" in text(editor.get(LIST)) and "Recurring +50 %" in text(editor.get(LIST))
    # Changed, then removed: every step in the history with its author.
    edit = reverse("catalog:price_rule_edit", args=[rule.pk])
    changed = editor.post(edit, {**data, "recurring_percent": "60", "action": "preview"})
    (row,) = changed.context["page"].object_list
    assert (row.now, row.after) == (D("4.05"), D("4.32"))
    editor.post(edit, {**data, "recurring_percent": "60", "action": "save"})
    rule.refresh_from_db()
    assert rule.recurring_percent == D("60")
    delete = reverse("catalog:price_rule_delete", args=[rule.pk])
    preview = editor.get(delete)
    (row,) = preview.context["page"].object_list
    assert (row.now, row.after) == (D("4.32"), D("2.70"))
    assert editor.post(delete, {"action": "delete"}).status_code == 302
    assert not MarkupRule.objects.exists()
    history = editor.get(reverse("catalog:price_list_history"))
    records = [(r.history_type, r.history_user) for r, _ in history.context["rows"]]
    assert records == [("-", voxel_admin), ("~", voxel_admin), ("+", voxel_admin)]
    assert "Vera Voxel" in text(history) and "Removed" in text(history)


def test_preview_pages_by_25(editor, voxel):
    for n in range(30):
        NumberBlockFactory(country="BE", city=f"City {n:02d}")
    data = rule_data(scope="country", country="BE", recurring_percent="10")
    first = editor.post(NEW, data)
    assert first.context["count"] == 30 and len(first.context["page"].object_list) == 25
    second = editor.post(NEW, {**data, "page": "2"})
    assert len(second.context["page"].object_list) == 5
    assert "Page 2 of 2" in text(second)


def test_only_blocks_the_rule_decides_are_previewed(editor, voxel, stock):
    MarkupRuleFactory(reseller=voxel, scope="block", block=stock["amsterdam"], recurring_percent=1)
    response = editor.post(NEW, rule_data(scope="country", country="NL", recurring_percent="5"))
    assert [row.block for row in response.context["page"].object_list] == [stock["dutch_mobile"]]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"recurring_percent": "-5"}, "recurring_percent", "the percent cannot be negative"),
        ({"setup_percent": "1000.01"}, "setup_percent", "the percent can be at most 1000"),
        ({"rate_fixed": "abc"}, "rate_fixed", "enter the fixed amount as a number"),
        ({"scope": "country", "country": "XX"}, "country", "“XX” is not a country we know"),
        ({"scope": "country"}, "country", "choose the one this rule is for"),
        ({"scope": "number_type", "number_type": "pager"}, "number_type", "choose one of"),
        ({"scope": "block", "block": "999999999"}, "block", "there is no block “999999999”"),
        ({"scope": "block", "block": "12; DROP"}, "block", "there is no block"),
        ({"scope": "galaxy"}, "scope", "choose one of the scopes"),
        ({"rounding": "x7"}, "rounding", "choose one of the options"),
    ],
)
def test_bad_input_is_named_by_field(editor, voxel, data, field, message):
    for action in ("preview", "save"):
        response = editor.post(NEW, {**rule_data(), **data, "action": action})
        assert response.status_code == 400
        errors = " ".join(response.context["form"].errors[field])
        assert message in errors
        assert message in response.content.decode().replace("&quot;", '"')
    assert not MarkupRule.objects.exists()


def test_a_second_rule_for_the_same_target_is_refused(editor, voxel):
    MarkupRuleFactory(reseller=voxel, scope="country", country="DE")
    response = editor.post(NEW, rule_data(scope="country", country="DE", action="save"))
    assert response.status_code == 400
    assert "already has a rule for Germany" in " ".join(response.context["form"].errors["country"])
    # Another reseller's rule for the same country is no obstacle.
    other = reseller_account()
    MarkupRuleFactory(reseller=other, scope="country", country="FR")
    assert (
        editor.post(NEW, rule_data(scope="country", country="FR", action="save")).status_code == 302
    )


def test_only_the_scopes_field_is_kept(editor, voxel, stock):
    data = rule_data(scope="number_type", number_type="mobile", country="DE", action="save")
    data["block"] = str(stock["munich"].pk)
    assert editor.post(NEW, data).status_code == 302
    rule = MarkupRule.objects.get()
    assert (rule.number_type, rule.country, rule.block) == ("mobile", "", None)


def test_another_resellers_rule_is_404(editor, voxel):
    theirs = MarkupRuleFactory(reseller=reseller_account())
    for name in ("catalog:price_rule_edit", "catalog:price_rule_delete"):
        url = reverse(name, args=[theirs.pk])
        assert editor.get(url).status_code == 404
        assert editor.post(url, {**rule_data(), "action": "save"}).status_code == 404
        assert editor.post(url, {"action": "delete"}).status_code == 404
    assert MarkupRule.objects.filter(pk=theirs.pk).exists()


def test_customers_and_strangers_may_not(client, voxel, customer_admin):
    voxel_customer = UserFactory(account=AccountFactory(parent=voxel), role="customer_admin")
    rule = MarkupRuleFactory(reseller=voxel)
    urls = [
        LIST,
        NEW,
        reverse("catalog:price_rule_edit", args=[rule.pk]),
        reverse("catalog:price_list_history"),
    ]
    for user in (customer_admin, voxel_customer):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403, url
        assert client.post(NEW, rule_data(action="save")).status_code == 403
    client.logout()
    assert client.get(LIST).status_code == 302


def test_reseller_finance_reads_but_does_not_edit(client, voxel):
    MarkupRuleFactory(reseller=voxel, recurring_percent=D("30"))
    client.force_login(UserFactory(account=voxel, role="reseller_finance"))
    page = text(client.get(LIST))
    assert "Recurring +30 %" in page and "New rule" not in page
    assert client.get(reverse("catalog:price_list_history")).status_code == 200
    assert client.post(NEW, rule_data(action="save")).status_code == 403
    assert MarkupRule.objects.count() == 1


def test_posted_reseller_is_ignored(editor, voxel):
    other = reseller_account()
    editor.post(NEW, {**rule_data(action="save"), "reseller": other.pk, "reseller_id": other.pk})
    assert MarkupRule.objects.get().reseller == voxel
