"""Invoice PDF rendering: the median time to render one 10-line invoice with WeasyPrint.

No database is needed: the document is built in memory, as the Invoice model will build it.
One warm-up render first (font discovery and template loading happen once per process).
"""

import logging
import os
import statistics
import time
from datetime import date
from decimal import Decimal

RENDERS = int(os.environ.get("BENCH_INVOICE_PDF_RENDERS", 20))
LINES = 10


def _document():
    from billing.pdf import REVERSE_CHARGE_NOTE, InvoiceDocument, InvoiceLine, InvoiceTotals, Party

    lines = []
    for i in range(1, LINES + 1):
        quantity = Decimal(i)
        unit_price = Decimal("2.75000")
        net = (quantity * unit_price).quantize(Decimal("0.01"))
        lines.append(
            InvoiceLine(
                description=f"DID +49 30 1234 56{i:02d} monthly rent (Berlin, geographic)",
                period="1 Mar 2026 – 31 Mar 2026",
                quantity=quantity,
                unit_price=unit_price,
                net=net,
                vat_rate=Decimal("0"),
                vat=Decimal("0.00"),
                gross=net,
            )
        )
    net = sum((line.net for line in lines), Decimal("0.00"))
    return InvoiceDocument(
        number="INV-2026-000123",
        issue_date=date(2026, 3, 1),
        due_date=date(2026, 3, 15),
        currency="USD",
        seller=Party(
            name="DIDPortal Carrier",
            legal_name="DIDPortal Carrier B.V.",
            address="Keizersgracht 100\n1015 AA Amsterdam",
            country="NL",
            vat_number="NL004495445B01",
        ),
        buyer=Party(
            name="Acme Telecom",
            legal_name="Acme Telecom GmbH",
            address="Hauptstraße 5\n10115 Berlin",
            country="DE",
            vat_number="DE136695976",
        ),
        lines=lines,
        totals=InvoiceTotals(net=net, vat=Decimal("0.00"), gross=net),
        reverse_charge_note=REVERSE_CHARGE_NOTE,
    )


def run():
    from billing.pdf import render_invoice_pdf

    # WeasyPrint logs each layout step at INFO; keep that out of the timing and the output.
    progress = logging.getLogger("weasyprint.progress")
    level = progress.level
    progress.setLevel(logging.WARNING)
    try:
        document = _document()
        render_invoice_pdf(document)  # warm-up
        times = []
        for _ in range(RENDERS):
            started = time.perf_counter()
            content = render_invoice_pdf(document)
            times.append((time.perf_counter() - started) * 1000)
            assert content.startswith(b"%PDF-")
    finally:
        progress.setLevel(level)
    return {
        "invoice_pdf_ms": {
            "value": round(statistics.median(times), 1),
            "unit": "ms",
            "detail": f"median of {RENDERS} renders of a {LINES}-line invoice",
        }
    }
