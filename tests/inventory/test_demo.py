import phonenumbers
import pytest

from inventory.demo import seed_inventory
from inventory.models import DID, NumberBlock, Operator

pytestmark = pytest.mark.django_db


def test_seed_inventory_is_valid_and_idempotent():
    added = seed_inventory()
    assert 2000 <= added == DID.objects.count() <= 10_000
    assert 3 <= Operator.objects.count() <= 4
    cities = set(NumberBlock.objects.exclude(city="").values_list("country", "city"))
    assert len(cities) >= 20
    assert {country for country, _ in cities} >= {"US", "GB", "DE", "FR", "NL", "ES"}
    assert NumberBlock.objects.filter(number_type__in=["mobile", "toll_free"]).count() >= 2
    assert NumberBlock.objects.filter(requirement__isnull=False).exists()

    for did in DID.objects.select_related("block"):
        parsed = phonenumbers.parse(did.number)
        assert phonenumbers.is_valid_number(parsed), did.number
        assert phonenumbers.region_code_for_number(parsed) == did.block.country.code

    history_rows = DID.history.count()
    assert seed_inventory() == 0
    assert DID.objects.count() == added
    assert DID.history.count() == history_rows
