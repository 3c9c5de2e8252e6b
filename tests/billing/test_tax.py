from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from accounts.models import Account
from billing import vies
from billing.models import TaxRate
from billing.tax import tax_for
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def platform_in_the_netherlands(settings):
    settings.PLATFORM_COUNTRY = "NL"


def test_eu_rates_are_seeded():
    assert TaxRate.objects.count() == 27
    assert TaxRate.objects.get(country="DE").rate == Decimal("19.00")


def test_eu_business_in_another_country_pays_no_vat_by_reverse_charge():
    decision = tax_for(AccountFactory(country="DE", vat_number="DE136695976"))
    assert decision.rate == 0 and decision.reverse_charge
    assert "reverse charge" in decision.note


def test_business_in_the_platforms_country_pays_its_vat():
    decision = tax_for(AccountFactory(country="NL", vat_number="NL004495445B01"))
    assert decision.rate == Decimal("21.00") and not decision.reverse_charge


def test_eu_consumer_pays_its_own_countrys_rate():
    decision = tax_for(AccountFactory(country="FR", vat_number=""))
    assert (decision.rate, decision.country) == (Decimal("20.00"), "FR")


def test_buyer_outside_the_eu_pays_no_vat():
    decision = tax_for(AccountFactory(country="US"))
    assert decision.rate == 0 and not decision.reverse_charge
    assert decision.note == "Outside the scope of EU VAT."


def test_buyer_without_a_country_pays_the_platforms_rate():
    assert tax_for(AccountFactory(country="")).rate == Decimal("21.00")


def test_a_changed_rate_applies_from_then_on():
    TaxRate.objects.filter(country="FR").update(rate=Decimal("21.50"))
    assert tax_for(AccountFactory(country="FR")).rate == Decimal("21.50")


def test_missing_rate_is_a_clear_configuration_error():
    TaxRate.objects.filter(country="IT").delete()
    with pytest.raises(ImproperlyConfigured, match="No VAT rate for IT"):
        tax_for(AccountFactory(country="IT"))


@pytest.mark.parametrize(
    ("net", "rate", "vat"),
    [("10.00", "21", "2.10"), ("0.05", "21", "0.01"), ("2.50", "25.5", "0.64"), ("3", "0", "0.00")],
)
def test_vat_is_rounded_half_up_to_the_cent(net, rate, vat):
    from billing.tax import TaxDecision

    assert TaxDecision(rate=Decimal(rate), country="X").vat_on(Decimal(net)) == Decimal(vat)


def test_finance_changes_a_rate_on_the_page(client, finance_user):
    client.force_login(finance_user)
    response = client.post("/billing/tax-rates/", {"country": "FR", "rate": "20.50"})
    assert response.status_code == 302
    assert TaxRate.objects.get(country="FR").rate == Decimal("20.50")


def test_out_of_range_rate_is_refused(client, finance_user):
    client.force_login(finance_user)
    response = client.post("/billing/tax-rates/", {"country": "FR", "rate": "120"})
    assert "rate" in response.context["form"].errors
    assert TaxRate.objects.get(country="FR").rate == Decimal("20.00")


def test_customers_cannot_open_the_rates(client, customer_admin):
    client.force_login(customer_admin)
    assert client.get("/billing/tax-rates/").status_code == 403


# --- Whatever wrote the VAT number, the rule checks it (issue 10, item 12) ------------------


@pytest.mark.parametrize("stored", ["DE123456789", "DE136695976", "FR00000000000", "nonsense"])
def test_a_vat_number_stored_unchecked_never_earns_a_reverse_charge(stored):
    account = AccountFactory(country="FR")
    Account.objects.filter(pk=account.pk).update(vat_number=stored)  # raw SQL, a bad import …
    account.refresh_from_db()
    decision = tax_for(account)
    assert not decision.reverse_charge
    assert decision.rate == Decimal("20.00") and decision.country == "FR"
    assert (decision.buyer_country, decision.buyer_vat_number) == ("FR", "")


def test_the_decision_names_the_identity_it_used():
    decision = tax_for(AccountFactory(country="FR", vat_number="FR40303265045"))
    assert decision.reverse_charge and not decision.vat_confirmed
    assert (decision.buyer_country, decision.buyer_vat_number) == ("FR", "FR40303265045")


# --- VIES (optional, off by default) --------------------------------------------------------


class FakeVies:
    """Stands in for the EU's service at the seam (``billing.vies.check_vies``)."""

    def __init__(self, answers):
        self.answers = answers  # VAT number -> True, False or an exception
        self.asked = []

    def __call__(self, vat_number, *, timeout):
        self.asked.append(vat_number)
        answer = self.answers[vat_number]
        if isinstance(answer, Exception):
            raise answer
        return {"valid": answer, "countryCode": vat_number[:2]}


@pytest.fixture
def fake_vies(settings, monkeypatch):
    settings.VIES_ENABLED = True
    asked_about = []

    def install(answers):
        asked_about.extend(answers)
        cache.delete_many([vies._cache_key(number) for number in answers])
        fake = FakeVies(answers)
        monkeypatch.setattr(vies, "check_vies", fake)
        return fake

    yield install
    cache.delete_many([vies._cache_key(number) for number in asked_about])


def test_vies_is_not_asked_unless_enabled(settings, monkeypatch):
    settings.VIES_ENABLED = False
    monkeypatch.setattr(vies, "check_vies", FakeVies({}))  # any call would raise KeyError
    assert tax_for(AccountFactory(country="FR", vat_number="FR40303265045")).reverse_charge


def test_a_confirmed_number_is_recorded_as_confirmed_and_cached(fake_vies):
    fake = fake_vies({"FR40303265045": True})
    account = AccountFactory(country="FR", vat_number="FR40303265045")
    first, second = tax_for(account), tax_for(account)
    assert first.reverse_charge and first.vat_confirmed and second.vat_confirmed
    assert fake.asked == ["FR40303265045"]  # the second decision used the cache


def test_a_number_vies_rejects_pays_the_buyers_vat(fake_vies):
    fake_vies({"FR23334175221": False})
    decision = tax_for(AccountFactory(country="FR", vat_number="FR23334175221"))
    assert not decision.reverse_charge and decision.rate == Decimal("20.00")
    assert not decision.vat_confirmed


def test_vies_down_never_blocks_a_sale_and_is_not_asked_again_at_once(fake_vies):
    fake = fake_vies({"FR40303265045": TimeoutError("VIES is down")})
    account = AccountFactory(country="FR", vat_number="FR40303265045")
    decisions = [tax_for(account) for _ in range(3)]
    assert all(d.reverse_charge and not d.vat_confirmed for d in decisions)
    assert fake.asked == ["FR40303265045"]
