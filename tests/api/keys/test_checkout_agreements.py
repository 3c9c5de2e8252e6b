"""What a key's creator agreed to is what checkout accepts for the key's orders
(``api.selectors.key_agreed_versions`` → ``cart.orders.order_place(agreed=…)``): until an
admin changes the text; after agreeing again, orders pass again."""

import uuid

import pytest
from django.core.exceptions import ValidationError

from api.selectors import key_agreed_versions
from api.services import api_key_agree, api_key_create
from cart import services as cart_services
from cart.orders import order_place
from compliance.models import RequirementAgreement
from tests.api.conftest import fund
from tests.api.keys.conftest import text_changed

pytestmark = pytest.mark.django_db


def place(user, key, number):
    cart_services.cart_add_numbers(user=user, numbers=[number])
    return order_place(
        user=user,
        token=uuid.uuid4().hex,
        agreed=key_agreed_versions(key),
        ip_address="203.0.113.7",
    )


def test_checkout_takes_the_keys_agreements_until_a_text_changes(
    customer_admin, platform_admin, regulated
):
    fund(customer_admin.account, "200.00")
    key, _ = api_key_create(user=customer_admin, name="orders", agreed=[regulated])
    first = place(customer_admin, key, "+33155500000")
    recorded = RequirementAgreement.objects.get(order_id=first.pk)
    assert (recorded.requirement, recorded.requirement_version) == (regulated, 1)
    assert recorded.user == customer_admin

    changed = text_changed(regulated, platform_admin)
    with pytest.raises(ValidationError, match="updated"):
        place(customer_admin, key, "+33155500001")
    assert not RequirementAgreement.objects.filter(requirement_version=2).exists()

    api_key_agree(key=key, user=customer_admin, requirements=[changed])
    second = place(customer_admin, key, "+33155500001")
    assert RequirementAgreement.objects.get(order_id=second.pk).requirement_version == 2


def test_a_key_without_agreements_cannot_order_regulated_numbers(customer_admin, regulated):
    fund(customer_admin.account, "200.00")
    key, _ = api_key_create(user=customer_admin, name="no texts")
    with pytest.raises(ValidationError, match="agree to “French geographic numbers”"):
        place(customer_admin, key, "+33155500000")
