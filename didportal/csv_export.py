"""Streamed CSV downloads that spreadsheets open safely. Every CSV the portal writes uses this."""

import csv
import re
import unicodedata

from django.http import StreamingHttpResponse

# What makes a spreadsheet run a cell as a formula (full-width ＝ included, via NFKC).
FORMULA_STARTS = ("=", "@", "\t", "\r")
SIGNS = ("+", "-")
SIGNED_NUMBER = re.compile(r"[+-][0-9]+(?:\.[0-9]+)?")


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text, never runs as a formula.

    A cell starting with = @ tab or carriage return (or their full-width forms), or with + or -
    unless the whole cell is a plain signed number, gets a leading apostrophe, the
    spreadsheets' own "this is text" mark. So +31205550000 and -12.50 stay as they are, while
    +1+cmd|... and =HYPERLINK(...) are neutralised.
    """
    if value is None:
        return ""
    text = str(value)
    start = unicodedata.normalize("NFKC", text[:1])
    if start.startswith(FORMULA_STARTS) or (
        start.startswith(SIGNS) and not SIGNED_NUMBER.fullmatch(text)
    ):
        return f"'{text}"
    return text


def spreadsheet_unescape(text):
    """The value ``spreadsheet_safe`` wrote ``text`` for: an export imports back unchanged."""
    if text.startswith("'") and spreadsheet_safe(text[1:]) == text:
        return text[1:]
    return text


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
