"""The columns of a DID import file: the one list the reader, the page and the template use."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    example: str
    help: str


COLUMNS = (
    Column(
        "number",
        True,
        "+31205550000",
        "E.164, e.g. +31205550000. Digits without + (as Excel saves them) are read as "
        "the full international number. One number per row.",
    ),
    Column(
        "operator",
        True,
        "KPN Wholesale",
        "The exact name of an existing operator. An unknown name is an error: operators are "
        "added under Operators first, never created by an import.",
    ),
    Column("country", True, "NL", "Two-letter ISO code; the number must belong to it."),
    Column("city", True, "Amsterdam", "May be blank, e.g. for toll-free numbers."),
    Column(
        "number_type",
        True,
        "local",
        "local, national, mobile, toll_free or shared_cost.",
    ),
    Column("region", False, "North Holland", "Province or state; blank if not used."),
    Column(
        "area_code",
        False,
        "20",
        "Digits after the country code, without the trunk 0; the number must start with them.",
    ),
    Column(
        "capabilities",
        False,
        "voice;sms",
        "Any of voice, sms, fax separated by ; (blank means voice).",
    ),
    Column("status", False, "in_stock", "in_stock (blank), reserved or archive."),
    Column("tag", False, "batch-7", "Stored on the number (up to 64 characters)."),
    Column("notes", False, "", "Stored on the number."),
    Column(
        "setup_fee",
        False,
        "1.00",
        "Price plan of the block, with a dot for decimals. Blank: any setup fee matches; "
        "a new block gets 0.",
    ),
    Column(
        "monthly_price",
        False,
        "2.00",
        "Price plan of the block. Blank: any price matches; needed when the row creates a "
        "new block.",
    ),
)

NAMES = tuple(column.name for column in COLUMNS)
# What the numbers export adds after the import's columns; an import ignores them, so an
# export imports back as it is.
EXPORT_ONLY = ("owner", "destination", "after_hold_status", "ever_sold", "created_at")
REQUIRED = tuple(column.name for column in COLUMNS if column.required)
