"""ISO 11649 payment references: stable per account, found in free text, checksummed."""

import pytest
from stdnum import iso11649

from payments.references import (
    account_for_reference,
    account_id_of,
    reference_display,
    reference_for,
    references_in,
)
from tests.factories import AccountFactory


def test_a_reference_is_a_valid_creditor_reference_that_names_its_account():
    reference = reference_for(42)
    assert reference.startswith("RF") and len(reference) == 16
    assert iso11649.is_valid(reference)
    assert account_id_of(reference) == 42
    assert reference_display(42) == "RF34 0000 0000 0042"
    assert reference_for(42) == reference_for("42")  # stable


@pytest.mark.parametrize("account_id", [1, 7, 99, 12345, 999_999_999_999])
def test_round_trip(account_id):
    assert account_id_of(reference_for(account_id)) == account_id
    assert account_id_of(reference_display(account_id)) == account_id


def test_an_id_too_large_for_the_body_is_refused():
    with pytest.raises(ValueError):
        reference_for(10**12)


@pytest.mark.parametrize(
    "text",
    [
        "RF34 0000 0000 0042",
        "rf34000000000042",
        "Invoice 2026-17, ref: rf34-0000-0000-0042, thanks",
        "RF34 0000 0000 0042/Bakery",
        "payment RF 34 0000 0000 0042",
        "RF34\u00a00000\u00a00000\u00a00042",
    ],
)
def test_a_reference_is_found_in_free_text(text):
    assert references_in(text) == ["RF34000000000042"]


@pytest.mark.parametrize(
    "text",
    [
        "RF35 0000 0000 0042",  # a mistyped check digit
        "RF43 0000 0000 0042",  # check digits swapped
        "RF34 0000 0000 0043",  # a mistyped body digit
        "RF34 0000 0000 0024",  # body digits swapped
        "RF34 0000 0000 00421",  # a digit glued on
        "XRF34 0000 0000 0042",  # glued to a word
        "RF34 42",  # not our length
        "",
        None,
    ],
)
def test_a_mistyped_or_foreign_reference_is_not_found(text):
    assert references_in(text) == []


def test_two_references_in_one_text_are_both_found():
    text = f"{reference_display(5)} and {reference_for(6)} and again {reference_display(5)}"
    assert references_in(text) == [reference_for(5), reference_for(6)]


@pytest.mark.django_db
def test_account_for_reference_finds_the_account_within_the_given_accounts():
    account, other = AccountFactory(), AccountFactory()
    text = f"Top-up {reference_display(account.pk).lower()}"
    assert account_for_reference(text) == account
    assert account_for_reference(text, accounts=type(account).objects.filter(pk=other.pk)) is None
    mistyped = reference_for(account.pk)
    mistyped = mistyped[:2] + str((int(mistyped[2:4]) + 1) % 100).zfill(2) + mistyped[4:]
    assert account_for_reference(mistyped) is None
    # Naming two accounts matches neither: a person decides.
    both = f"{reference_for(account.pk)} {reference_for(other.pk)}"
    assert account_for_reference(both) is None


def test_the_invoice_pdf_tells_how_to_top_up_quoting_the_reference():
    from billing.pdf import render_invoice_html  # noqa: PLC0415
    from tests.billing.test_pdf import domestic_invoice  # noqa: PLC0415

    reference = reference_display(42)
    resellers = render_invoice_html(
        domestic_invoice(payment_reference=reference, bank_details="IBAN DE00 VOXEL")
    )
    assert f"Pay to IBAN DE00 VOXEL quoting <strong>{reference}</strong>" in resellers
    platforms = render_invoice_html(domestic_invoice(payment_reference=reference))
    assert f"by bank transfer quoting <strong>{reference}</strong>" in platforms
    assert "Topping up" not in render_invoice_html(domestic_invoice())
    void = render_invoice_html(domestic_invoice(payment_reference=reference, void=True))
    assert reference not in void
