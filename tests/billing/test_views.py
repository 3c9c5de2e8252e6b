from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import LedgerEntry
from billing.selectors import balance_for
from billing.services import ledger_post
from payments.references import reference_display
from tests.billing.factories import fund
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_customer_sees_balance_history_and_how_to_top_up(client, customer_admin, finance_user):
    fund(customer_admin.account, "100.00")
    client.force_login(customer_admin)
    response = client.get(reverse("billing:balance"))
    content = response.content.decode()
    assert "100.00" in content
    assert "Bank transfer" in content and reference_display(customer_admin.account.pk) in content
    assert len(response.context["page"].object_list) == 1


def test_customer_history_is_paginated_with_running_balance(client, customer_admin):
    for _ in range(30):
        fund(customer_admin.account, "1.00")
    client.force_login(customer_admin)
    page = client.get(reverse("billing:balance")).context["page"]
    assert page.paginator.num_pages == 2
    assert page.object_list[0].balance_after == Decimal("30.00")


def test_customer_never_sees_another_accounts_entries(client, customer_admin, stranger):
    fund(stranger.account, "55.55")
    client.force_login(customer_admin)
    assert b"55.55" not in client.get(reverse("billing:balance")).content


def test_finance_lists_balances_and_filters_low_ones(client, finance_user):
    rich, poor = AccountFactory(name="Rich"), AccountFactory(name="Poor")
    fund(rich, "500.00")
    fund(poor, "2.00")
    client.force_login(finance_user)
    names = [a.name for a in client.get(reverse("billing:balances")).context["page"].object_list]
    assert {"Rich", "Poor"} <= set(names)
    low = client.get(reverse("billing:balances") + "?low=1").context["page"].object_list
    assert "Poor" in [a.name for a in low] and "Rich" not in [a.name for a in low]


def test_finance_records_a_topup_once_per_payment_reference(client, finance_user, customer):
    client.force_login(finance_user)
    url = reverse("billing:topup", args=[customer.pk])
    data = {"amount": "120.00", "method": "bank_transfer", "external_reference": "BANK-77"}
    for _ in range(2):  # a double submit
        response = client.post(url, {**data, "token": "0b6f1f6e-5f55-4b53-9a0c-7f7a1f1f1f1f"})
        assert response.status_code == 302
    assert balance_for(customer) == Decimal("120.00")
    entry = LedgerEntry.objects.get(account=customer)
    assert entry.created_by == finance_user and entry.external_reference == "BANK-77"


def test_reentering_a_used_bank_reference_says_duplicate_and_links_the_original(
    client, finance_user, customer
):
    client.force_login(finance_user)
    url = reverse("billing:topup", args=[customer.pk])
    data = {"amount": "120.00", "method": "bank_transfer", "external_reference": "BANK-78"}
    client.post(url, {**data, "token": "0b6f1f6e-5f55-4b53-9a0c-7f7a1f1f1f10"}, follow=True)
    original = LedgerEntry.objects.get(account=customer)

    # Later, finance types the same bank reference again (a new form, a new token).
    response = client.post(url, {**data, "token": "0b6f1f6e-5f55-4b53-9a0c-7f7a1f1f1f11"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "Duplicate reference" in content and "nothing was credited" in content
    assert "recorded" not in " ".join(str(m) for m in response.context["messages"])
    link = f"/billing/balances/{customer.pk}/?page=1#entry-{original.pk}"
    assert f'href="{link}"' in content
    assert client.get(link).status_code == 200
    assert balance_for(customer) == Decimal("120.00")
    assert LedgerEntry.objects.filter(external_reference="BANK-78").count() == 1


def test_finance_adjustment_needs_a_reason_and_is_idempotent(client, finance_user, customer):
    fund(customer, "50.00")
    client.force_login(finance_user)
    url = reverse("billing:adjust", args=[customer.pk])
    token = "1b6f1f6e-5f55-4b53-9a0c-7f7a1f1f1f1f"
    missing = client.post(url, {"amount": "-5.00", "reason": "", "token": token})
    assert "reason" in missing.context["adjustment_form"].errors
    for _ in range(2):
        client.post(url, {"amount": "-5.00", "reason": "Goodwill reversal", "token": token})
    assert balance_for(customer) == Decimal("45.00")


def test_adjustment_below_zero_is_refused_with_the_shortfall(client, finance_user, customer):
    fund(customer, "3.00")
    client.force_login(finance_user)
    response = client.post(
        reverse("billing:adjust", args=[customer.pk]),
        {"amount": "-5.00", "reason": "Fee", "token": "2b6f1f6e-5f55-4b53-9a0c-7f7a1f1f1f1f"},
    )
    assert response.status_code == 200
    assert "2.00 USD short" in response.content.decode()
    assert balance_for(customer) == Decimal("3.00")


def test_statement_export_is_csv(client, finance_user, customer):
    fund(customer, "10.00")
    client.force_login(finance_user)
    response = client.get(reverse("billing:statement_export", args=[customer.pk]))
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0] == "date,kind,description,amount,balance_after"
    assert "10.00" in body


def test_statement_export_neutralises_formulas_but_not_amounts(client, finance_user, customer):
    fund(customer, "10.00")
    ledger_post(
        account=customer,
        kind="adjustment",
        amount=Decimal("-2.50"),
        idempotency_key="formula",
        reason="goodwill",
        description='=HYPERLINK("http://evil.example")',
        job="tests",
    )
    client.force_login(finance_user)
    response = client.get(reverse("billing:statement_export", args=[customer.pk]))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[-1].endswith(',adjustment,"\'=HYPERLINK(""http://evil.example"")",-2.50,7.50')


@pytest.mark.parametrize("role_user", ["customer_admin", "reseller_admin"])
def test_only_finance_reaches_the_finance_pages(client, role_user, request):
    client.force_login(request.getfixturevalue(role_user))
    assert client.get(reverse("billing:balances")).status_code == 403
