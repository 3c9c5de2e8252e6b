"""Keys' services and selectors: create (names, ranges, who may hold one, the cap),
agreements to requirement texts, revoke, and what is in force."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from api import selectors
from api.keys import secret_hash
from api.models import ApiKey, ApiKeyAgreement
from api.services import api_key_agree, api_key_create, api_key_revoke
from compliance.models import Requirement
from tests.api.keys.conftest import text_changed
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_hashed_named_trimmed_and_ranges_normalised(customer_admin):
    key, secret = api_key_create(
        user=customer_admin,
        name="  Billing \t system  ",
        allowed_networks="203.0.113.7, 10.1.2.3/16\n\n2001:db8::1/32\n203.0.113.7",
    )
    assert key.name == "Billing system"
    assert key.account == customer_admin.account and key.created_by == customer_admin
    assert key.key_hash == secret_hash(secret) and secret not in (key.key_hash, key.prefix)
    assert secret.startswith(key.prefix) and len(key.prefix) == 12
    assert key.allowed_networks == "203.0.113.7/32\n10.1.0.0/16\n2001:db8::/32"
    assert not key.read_only


@pytest.mark.parametrize(
    ("name", "networks", "message"),
    [
        ("   ", "", "Give the key a name"),
        ("x" * 101, "", "100 characters"),
        ("ok", "10.0.0.0/8\nnot-a-range", "“not-a-range” is not an IP address or range"),
        ("ok", "300.1.1.1", "“300.1.1.1” is not"),
    ],
)
def test_bad_names_and_ranges_are_refused(customer_admin, name, networks, message):
    with pytest.raises(ValidationError) as refused:
        api_key_create(user=customer_admin, name=name, allowed_networks=networks)
    assert message in " ".join(refused.value.messages)
    assert not ApiKey.objects.exists()


def test_platform_staff_inactive_users_and_suspended_accounts_hold_no_keys(
    platform_admin, customer_admin, customer_member
):
    with pytest.raises(ValidationError, match="platform staff have none"):
        api_key_create(user=platform_admin, name="ops")
    customer_member.is_active = False
    customer_member.save()
    with pytest.raises(ValidationError, match="deactivated"):
        api_key_create(user=customer_member, name="old")
    account = customer_admin.account
    account.status = "suspended"
    account.save()
    customer_admin.refresh_from_db()
    with pytest.raises(ValidationError, match="suspended"):
        api_key_create(user=customer_admin, name="paused")
    assert not ApiKey.objects.exists()


def test_an_account_holds_at_most_the_cap_of_active_keys(settings, customer_admin, second_admin):
    settings.API_KEYS_PER_ACCOUNT = 2
    first, _ = api_key_create(user=customer_admin, name="one")
    api_key_create(user=second_admin, name="two")
    with pytest.raises(ValidationError, match="already has 2 active API keys"):
        api_key_create(user=customer_admin, name="three")
    api_key_revoke(key=first, user=second_admin)
    api_key_create(user=customer_admin, name="three")  # a revoked key frees its place
    assert ApiKey.objects.filter(account=customer_admin.account).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_cap_holds_when_keys_are_created_at_once(settings, customer_admin):
    settings.API_KEYS_PER_ACCOUNT = 3
    barrier = threading.Barrier(6)
    outcomes = []

    def create(n):
        try:
            barrier.wait()
            api_key_create(user=customer_admin, name=f"key {n}")
            outcomes.append("created")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] * 3 + ["refused"] * 3
    assert ApiKey.objects.filter(account=customer_admin.account).count() == 3


def test_revoke_is_idempotent_and_only_for_the_keys_account(customer_admin, stranger):
    key, _ = api_key_create(user=customer_admin, name="k")
    with pytest.raises(ValidationError, match="another account"):
        api_key_revoke(key=key, user=stranger)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    api_key_revoke(key=key, user=customer_admin)
    first = key.revoked_at
    assert first is not None and key.revoked_by == customer_admin
    api_key_revoke(key=key, user=customer_admin)
    assert key.revoked_at == first


def test_requirements_in_force_are_those_of_blocks_with_stock(regulated):
    Requirement.objects.create(country="DE", title="Empty block's text", text="…")
    NumberBlockFactory(country="DE", requirement=Requirement.objects.get(country="DE"))
    inactive = Requirement.objects.create(country="BE", title="Old", text="…", active=False)
    NumberBlockFactory(country="BE", requirement=inactive)
    assert selectors.requirements_in_force() == [regulated]


def test_a_full_key_records_its_creators_agreement_at_the_version_shown(customer_admin, regulated):
    key, _ = api_key_create(
        user=customer_admin, name="orders", agreed=[regulated], ip_address="203.0.113.7"
    )
    (agreement,) = ApiKeyAgreement.objects.filter(key=key)
    assert (agreement.requirement, agreement.version) == (regulated, 1)
    assert agreement.agreed_by == customer_admin
    assert agreement.ip_address == "203.0.113.7"
    assert selectors.key_agreed_versions(key) == {regulated.pk: 1}
    assert selectors.pending_requirements([key]) == {key.pk: []}


def test_a_changed_text_is_pending_until_the_creator_agrees_again(
    customer_admin, second_admin, platform_admin, regulated
):
    key, _ = api_key_create(user=customer_admin, name="orders", agreed=[regulated])
    read_only, _ = api_key_create(user=customer_admin, name="reader", read_only=True)
    changed = text_changed(regulated, platform_admin)
    assert changed.version == 2
    pending = selectors.pending_requirements([key, read_only])
    assert pending == {key.pk: [changed]}  # read-only keys place no orders
    # The old version is refused (shown before the change), so is another admin.
    regulated.version = 1
    with pytest.raises(ValidationError, match="updated to version 2"):
        api_key_agree(key=key, user=customer_admin, requirements=[regulated])
    with pytest.raises(ValidationError, match="Only the person who created this key"):
        api_key_agree(key=key, user=second_admin, requirements=[changed])
    api_key_agree(key=key, user=customer_admin, requirements=[changed])
    api_key_agree(key=key, user=customer_admin, requirements=[changed])  # once
    assert selectors.key_agreed_versions(key) == {regulated.pk: 2}
    assert ApiKeyAgreement.objects.filter(key=key).count() == 2
    assert selectors.pending_requirements([key]) == {key.pk: []}


def test_read_only_and_revoked_keys_take_no_agreement(customer_admin, regulated):
    with pytest.raises(ValidationError, match="Read-only keys place no orders"):
        api_key_create(user=customer_admin, name="r", read_only=True, agreed=[regulated])
    assert not ApiKey.objects.exists()
    key, _ = api_key_create(user=customer_admin, name="k")
    api_key_revoke(key=key, user=customer_admin)
    with pytest.raises(ValidationError, match="Only active full-access keys"):
        api_key_agree(key=key, user=customer_admin, requirements=[regulated])


def test_an_inactive_requirement_is_refused(customer_admin, regulated):
    key, _ = api_key_create(user=customer_admin, name="k")
    Requirement.objects.filter(pk=regulated.pk).update(active=False)
    with pytest.raises(ValidationError, match="no longer applies"):
        api_key_agree(key=key, user=customer_admin, requirements=[regulated])
    assert not ApiKeyAgreement.objects.exists()


def test_keys_for_is_scoped_to_the_users_account(customer_admin, stranger, reseller_admin):
    mine, _ = api_key_create(user=customer_admin, name="mine")
    theirs, _ = api_key_create(user=stranger, name="theirs")
    resellers, _ = api_key_create(user=reseller_admin, name="reseller's")
    assert list(selectors.keys_for(customer_admin)) == [mine]
    assert list(selectors.keys_for(reseller_admin)) == [resellers]
    assert theirs not in selectors.keys_for(customer_admin)
