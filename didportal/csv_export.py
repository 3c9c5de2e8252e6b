"""Streamed CSV downloads that spreadsheets open safely. Every app's export uses this."""

import csv

from django.http import StreamingHttpResponse

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text, never runs as a formula.

    Cells starting with = + - @ (or tab / carriage return) get a leading apostrophe, the
    spreadsheets' own "this is text" mark. Every E.164 number starts with +, so numbers are
    exported as '+31205550000: a spreadsheet shows them as text instead of evaluating them.
    """
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


class _Echo:
    """csv.writer writes into this and gets the line back, for streaming."""

    def write(self, value):
        return value


def _lines(header, rows):
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([spreadsheet_safe(value) for value in row])


def csv_download(filename, header, rows):
    """A streamed CSV response: ``rows`` is an iterator, so a million rows never sit in memory."""
    response = StreamingHttpResponse(_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
