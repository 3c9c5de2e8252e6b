"""The bank lane's sample statements, with the references of the test's accounts filled in."""

from pathlib import Path

from payments.references import reference_display, reference_for

DATA = Path(__file__).parent / "data"


def camt053(ref_a, ref_b) -> bytes:
    """The sample CAMT.053: 125.50 USD quoting ``ref_a``'s reference (free text), 80.01 USD
    quoting ``ref_b``'s (structured), a debit, a pending credit, 40.00 USD with no
    reference, 30.00 EUR quoting ``ref_a``'s, and a batch of 10.00 (``ref_b``) + 5.25."""
    text = (DATA / "camt053_sample.xml").read_text("utf-8")
    text = text.replace("{ref_a}", reference_display(ref_a.pk))
    text = text.replace("{ref_b}", reference_for(ref_b.pk))
    return text.encode("utf-8")


def csv_statement(ref_a, ref_b) -> bytes:
    """The sample CSV: 125.50 USD (``ref_a``), a debit, 19.99 USD (``ref_b``, lower case
    and dashed) and 7.00 USD with no reference."""
    text = (DATA / "statement_sample.csv").read_text("utf-8")
    text = text.replace("{ref_a}", reference_display(ref_a.pk))
    dashed = reference_display(ref_b.pk).replace(" ", "-").lower()
    return text.replace("{ref_b_dashed}", dashed).encode("utf-8")
