"""The reseller's registrations pages: its customers' numbers awaiting registration and
where each registration stands (reasons, comment) — never their identities, addresses or
documents; another reseller's customers are not there (404 for a customer page)."""

import pytest
from django.urls import reverse

from compliance.models import NumberRegistration
from compliance.services.registrations import (
    submission_get_or_create,
    submission_reject,
    submission_submit,
)
from tests.billing.factories import fund
from tests.compliance.conftest import buy
from tests.compliance.factories import AddressFactory, DocumentFactory, IdentityFactory
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PARIS_1 = "+33155500000"
PARIS_2 = "+33155500001"
SHOWN_1, SHOWN_2 = "+33 1 55 50 00 00", "+33 1 55 50 00 01"  # as the pages print them
# What the customer provided: none of it may reach the reseller's pages.
PRIVATE = ("Dupont", "X1234567", "Rue Secrète", "passport-secret.pdf", "/compliance/documents/")


@pytest.fixture
def customer_user(reseller, paris):
    customer = AccountFactory(kind="customer", parent=reseller, name="Resold SARL")
    user = UserFactory(account=customer, role="customer_admin")
    fund(customer, "100.00")
    fund(reseller, "100.00")
    return user


@pytest.fixture
def rejected(customer_user, compliance_officer):
    """Two Paris numbers awaiting; the customer's registration rejected with reasons."""
    buy(customer_user, PARIS_1, PARIS_2)
    account = customer_user.account
    requirement = NumberRegistration.objects.first().requirement
    submission = submission_get_or_create(
        account=account, requirement=requirement, actor=customer_user
    )
    submission_submit(
        submission=submission,
        actor=customer_user,
        identity=IdentityFactory(account=account, last_name="Dupont", id_number="X1234567"),
        address=AddressFactory(
            account=account, line1="3 Rue Secrète", city="Paris", country="FR", postal_code="75001"
        ),
        documents=[
            DocumentFactory(account=account, kind="identity", original_name="passport-secret.pdf"),
            DocumentFactory(account=account, kind="address", original_name="passport-secret.pdf"),
        ],
    )
    return submission_reject(
        submission=submission,
        actor=compliance_officer,
        reasons=["expired", "name_mismatch"],
        comment="The passport expired in 2019; send the new one.",
    )


def _get(client, user, url, **query):
    client.force_login(user)
    return client.get(url, query)


def test_reseller_sees_what_to_chase_and_nothing_private(client, reseller_admin, rejected):
    response = _get(client, reseller_admin, reverse("resellers:registrations"))
    assert response.status_code == 200
    html = response.content.decode()
    table = html.split('id="awaiting-registrations"', 1)[1].split("</table>")[0]
    assert SHOWN_1 in table and SHOWN_2 in table and "Resold SARL" in table
    assert "Rejected: needs a fix" in table
    assert "Expired document" in table and "Name does not match" in table
    assert "The passport expired in 2019; send the new one." in table
    for private in PRIVATE:
        assert private not in html, private
    # Its own account's registrations are on the customer pages.
    assert reverse("compliance:registrations") in html


def test_customer_page_lists_registrations_awaiting_and_nothing_private(
    client, reseller_admin, rejected
):
    customer = rejected.account
    url = reverse("resellers:customer_registrations", args=[customer.pk])
    response = _get(client, reseller_admin, url)
    assert response.status_code == 200
    html = response.content.decode()
    submissions = html.split('id="customer-submissions"', 1)[1].split("</table>")[0]
    assert rejected.requirement.title in submissions and "Rejected: needs a fix" in submissions
    assert "Expired document" in submissions and "send the new one" in submissions
    assert "<div>2<div" in submissions  # two numbers waiting on it
    awaiting = html.split('id="customer-awaiting"', 1)[1].split("</table>")[0]
    assert SHOWN_1 in awaiting and SHOWN_2 in awaiting
    for private in PRIVATE:
        assert private not in html, private
    # The customer's pages link to it.
    overview = client.get(reverse("accounts:customer_detail", args=[customer.pk]))
    assert url in overview.content.decode()


def test_support_reads_finance_and_customers_do_not(client, reseller, rejected, customer_user):
    support = UserFactory(account=reseller, role="reseller_support")
    assert _get(client, support, reverse("resellers:registrations")).status_code == 200
    page = reverse("resellers:customer_registrations", args=[rejected.account_id])
    assert _get(client, support, page).status_code == 200
    finance = UserFactory(account=reseller, role="reseller_finance")
    assert _get(client, finance, reverse("resellers:registrations")).status_code == 403
    assert _get(client, finance, page).status_code == 403
    assert _get(client, customer_user, reverse("resellers:registrations")).status_code == 403
    assert _get(client, customer_user, page).status_code == 403


def test_another_reseller_sees_none_of_it(client, rejected):
    other = AccountFactory(kind="reseller", name="Other Reseller")
    other_admin = UserFactory(account=other, role="reseller_admin")
    AccountFactory(kind="customer", parent=other, name="Other's customer")
    listing = _get(client, other_admin, reverse("resellers:registrations"))
    assert listing.status_code == 200
    assert SHOWN_1 not in listing.content.decode()
    assert "Resold SARL" not in listing.content.decode()
    # Even asking for the customer by id in the filter.
    filtered = _get(
        client, other_admin, reverse("resellers:registrations"), customer=rejected.account_id
    )
    assert PARIS_1 not in filtered.content.decode()
    page = reverse("resellers:customer_registrations", args=[rejected.account_id])
    assert _get(client, other_admin, page).status_code == 404


def test_filters_by_status_and_customer_and_ignore_odd_values(client, reseller_admin, rejected):
    url = reverse("resellers:registrations")
    html = _get(client, reseller_admin, url, status="rejected").content.decode()
    assert SHOWN_1 in html
    html = _get(client, reseller_admin, url, status="submitted").content.decode()
    assert PARIS_1 not in html and "No number awaiting registration matches" in html
    html = _get(client, reseller_admin, url, customer=rejected.account_id).content.decode()
    assert SHOWN_1 in html
    for odd in (
        {"customer": "abc"},
        {"customer": "99999999999999999999999"},
        {"status": "<script>"},
        {"page": "-1"},
        {"customer": "\x00"},
    ):
        response = _get(client, reseller_admin, url, **odd)
        assert response.status_code == 200, odd
        assert SHOWN_1 in response.content.decode(), odd


def test_not_started_and_empty_states(client, reseller_admin, customer_user):
    url = reverse("resellers:registrations")
    html = _get(client, reseller_admin, url).content.decode()
    assert "No customer of yours has a number awaiting registration" in html
    buy(customer_user, PARIS_1)
    html = _get(client, reseller_admin, url, status="not_started").content.decode()
    assert SHOWN_1 in html and "Not started" in html
    page = reverse("resellers:customer_registrations", args=[customer_user.account_id])
    html = client.get(page).content.decode()
    assert "has not started a registration" in html and SHOWN_1 in html


def test_list_query_count_does_not_grow_with_rows(
    client, reseller_admin, rejected, django_assert_max_num_queries
):
    client.force_login(reseller_admin)
    url = reverse("resellers:registrations")
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
