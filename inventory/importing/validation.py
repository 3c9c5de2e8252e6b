"""Row rules of a DID import, and the plan they produce: which numbers go to which block.

Mapping rows to number blocks
-----------------------------
A row's block is found by operator, country, region, city, area code, number type and
capabilities, compared exactly, plus setup_fee and monthly_price when the row gives them.
- One existing block matches: the number joins it.
- Several match: a row error (give the prices to tell them apart).
- None matches: the rows with the same values make one new block, on a recurring monthly
  price plan. A new block needs a monthly_price; without one the row is an error.
Operators are never created: an unknown name is a row error.
A text cell the numbers export protected with an apostrophe ('=x) is read back as it was (=x).

Speed: rows are validated in one pass, with no query per row. What a row shares with others
(its block columns; its status, tag and notes) is checked once per distinct combination and
cached; numbers are checked with ``phone.CountryNumbers`` (exact, ~2 µs each).
"""

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from operator import itemgetter

from django_countries import countries

from didportal.csv_export import spreadsheet_unescape

from .. import bulk
from ..choices import AFTER_HOLD_STATUSES, NumberType
from ..models import NumberBlock, Operator
from .phone import country_numbers

FIELDS = (
    "number",
    "operator",
    "country",
    "region",
    "city",
    "area_code",
    "number_type",
    "capabilities",
    "setup_fee",
    "monthly_price",
    "status",
    "tag",
    "notes",
)
BLOCK_FIELDS = FIELDS[1:10]
ATTRIBUTE_FIELDS = FIELDS[10:]
KEY_FIELDS = FIELDS[1:]
CAPABILITIES = ("voice", "sms", "fax")
IMPORT_STATUSES = tuple(s.value for s in AFTER_HOLD_STATUSES)
MONEY_RE = re.compile(r"^\d{1,9}(?:\.\d{1,5})?$")
NUMBER_RE = re.compile(r"^\+?[1-9]\d{1,14}$")
SEPARATORS_RE = re.compile(r"[\s;,|/]+")
DEFAULT_ERRORS_SHOWN = 500


@dataclass(eq=False)
class NewBlock:
    """A block the import will create; ``block`` is set once it has been saved."""

    values: dict
    operator: Operator
    block: NumberBlock | None = None

    def label(self):
        unsaved = NumberBlock(operator=self.operator, **self.values)
        return str(unsaved)


@dataclass(eq=False)
class Target:
    """What a distinct set of block columns resolved to (cached per set)."""

    block: object = None  # NumberBlock or NewBlock
    errors: list = field(default_factory=list)  # (column, message, value)
    checker: object = None  # phone.CountryNumbers
    prefix: str = ""  # "+", country code and area code
    matcher: object = None  # fullmatch of the numbers that are good for this block
    groups: dict = field(default_factory=dict)  # (status, tag, notes) -> [numbers]


@dataclass(eq=False)
class Entry:
    """A distinct combination of block columns, status, tag and notes (cached per row key)."""

    target: Target
    errors: list
    numbers: list | None = None  # where its good numbers go
    match: object = None  # the target's matcher, when the combination itself is good


@dataclass
class Plan:
    """The outcome of checking a file: the numbers per block, or the bad rows."""

    errors_shown: int = DEFAULT_ERRORS_SHOWN
    rows: int = 0
    errors: list = field(default_factory=list)  # first ``errors_shown``: dicts
    error_count: int = 0
    row_of: dict = field(default_factory=dict)  # number -> row it is on
    targets: list = field(default_factory=list)

    def add_error(self, row, column, message, value=""):
        self.error_count += 1
        if len(self.errors) < self.errors_shown:
            self.errors.append(
                {"row": row, "column": column, "message": message, "value": str(value)[:60]}
            )

    def groups(self):
        """``(block, status, tag, notes, numbers)`` for every group of good rows."""
        for target in self.targets:
            for (status, tag, notes), numbers in target.groups.items():
                if numbers:
                    yield target.block, status, tag, notes, numbers

    @property
    def number_count(self):
        return sum(len(group[-1]) for group in self.groups())

    def numbers(self):
        return [number for group in self.groups() for number in group[-1]]

    def add_existing_errors(self):
        """Row errors for numbers already in stock: one query for the whole file."""
        numbers = list(self.row_of)
        for number in bulk.existing_numbers(numbers, limit=len(numbers) or 1):
            self.add_error(self.row_of[number], "number", f"{number} is already in stock.", number)

    def summary(self):
        counts = {}
        for block, *_rest, numbers in self.groups():
            counts[block] = counts.get(block, 0) + len(numbers)
        blocks = [
            {
                "label": block.label() if isinstance(block, NewBlock) else str(block),
                "id": None if isinstance(block, NewBlock) else block.pk,
                "new": isinstance(block, NewBlock),
                "numbers": count,
            }
            for block, count in counts.items()
        ]
        blocks.sort(key=lambda b: (not b["new"], b["label"]))
        return {
            "rows": self.rows,
            "numbers": sum(counts.values()),
            "new_blocks": sum(1 for b in blocks if b["new"]),
            "blocks": blocks,
        }

    def sorted_errors(self):
        return sorted(
            self.errors,
            key=lambda e: (e["row"], FIELDS.index(e["column"]) if e["column"] in FIELDS else 99),
        )


class RowChecker:
    """Checks rows one by one into a ``Plan``; build one per file."""

    def __init__(self, *, errors_shown=DEFAULT_ERRORS_SHOWN):
        self.plan = Plan(errors_shown=errors_shown)
        self.operators = {operator.name: operator for operator in Operator.objects.all()}
        self._entries = {}  # raw row key -> Entry
        self._targets = {}  # raw block columns -> Target
        self._attributes = {}  # raw (status, tag, notes) -> (cleaned, errors)
        self._new_blocks = {}  # cleaned block values -> NewBlock
        self._existing = {}  # (operator id, country) -> [NumberBlock]

    def check(self, table, *, progress=None, every=10_000):
        """Check every row of ``table``. The loop is the fast path: a row whose key columns
        were seen before and whose number is good costs a dict lookup and one regex match;
        anything else goes to ``_slow_row``, which finds and reports what is wrong."""
        plan = self.plan
        width = len(table.columns)
        positions = {name: i for i, name in enumerate(table.columns) if name}
        self._key_names = [name for name in KEY_FIELDS if name in positions]
        pick = itemgetter(*(positions[name] for name in self._key_names))
        number_at = positions["number"]
        entries = self._entries
        row_of = plan.row_of
        rows = iter(table.rows)
        with _gc_paused():
            self._loop(rows, pick, width, number_at, entries, row_of, progress, every)
        return plan

    def _loop(self, rows, pick, width, number_at, entries, row_of, progress, every):
        plan = self.plan
        while chunk := list(islice(rows, every)):
            plan.rows += len(chunk)
            for row_no, cells in chunk:
                if len(cells) == width:
                    key = pick(cells)
                    entry = entries.get(key)
                    if entry is None:
                        entry = entries[key] = self._entry(key)
                    if entry.match is not None:
                        number = cells[number_at]
                        if entry.match(number) and row_of.setdefault(number, row_no) == row_no:
                            entry.numbers.append(number)
                            continue
                self._slow_row(row_no, cells, width, pick, number_at)
            if progress:
                progress(plan.rows)

    def _slow_row(self, row_no, cells, width, pick, number_at):
        plan = self.plan
        if not any(cell.strip() for cell in cells):
            plan.rows -= 1  # a blank line is not a row
            return
        if len(cells) != width:
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                plan.add_error(row_no, "", f"this row has {len(cells)} cells; the header {width}.")
                return
            cells = (cells + [""] * width)[:width]
        key = pick(cells)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = self._entry(key)
        for column, message, value in entry.errors:
            plan.add_error(row_no, column, message, value)
        raw = cells[number_at]
        number = "".join(raw.split()).replace("-", "")
        if not NUMBER_RE.match(number):
            message = "not a phone number in E.164 form." if number else "required."
            plan.add_error(row_no, "number", message, raw)
            return
        if number[0] != "+":
            number = "+" + number
        first = plan.row_of.setdefault(number, row_no)
        if first != row_no:
            plan.add_error(row_no, "number", f"{number} is also on row {first}.", number)
            return
        target = entry.target
        if target.checker is not None and not target.matcher(number):
            if number.startswith(target.checker.prefix) and not number.startswith(target.prefix):
                message = f"{number} does not start with the area code ({target.prefix})."
            else:
                message = target.checker.error(number)
            if message:
                plan.add_error(row_no, "number", message, number)
                return
        if not entry.errors:
            entry.numbers.append(number)

    def _entry(self, key):
        values = dict(zip(self._key_names, key, strict=True))
        raw_block = tuple(values.get(name, "") for name in BLOCK_FIELDS)
        target = self._targets.get(raw_block)
        if target is None:
            target = self._targets[raw_block] = self._target(raw_block)
        raw_attributes = tuple(values.get(name, "") for name in ATTRIBUTE_FIELDS)
        cleaned = self._attributes.get(raw_attributes)
        if cleaned is None:
            cleaned = self._attributes[raw_attributes] = self._attributes_of(raw_attributes)
        entry = Entry(target=target, errors=target.errors + cleaned[1])
        if not entry.errors:
            entry.numbers = target.groups.setdefault(cleaned[0], [])
            entry.match = target.matcher
        return entry

    # --- what many rows share, checked once ---------------------------------------------------

    def _attributes_of(self, raw):
        status, tag, notes = (spreadsheet_unescape(value.strip()) for value in raw)
        errors = []
        status = _token(status) or "in_stock"
        if status not in IMPORT_STATUSES:
            errors.append(
                ("status", "numbers are imported as in_stock, reserved or archive.", raw[0])
            )
        if len(tag) > 64:
            errors.append(("tag", "at most 64 characters.", tag))
        return (status, tag, notes), errors

    def _target(self, raw):
        operator_name, country, region, city, area_code, number_type, caps, setup, monthly = (
            spreadsheet_unescape(value.strip()) for value in raw
        )
        target = Target()
        errors = target.errors
        operator = self.operators.get(operator_name)
        if operator is None:
            errors.append(("operator", _unknown_operator(operator_name, self.operators), raw[0]))
        country = country.upper()
        checker = country_numbers(country) if country in countries else None
        if checker is None:
            errors.append(("country", "not a two-letter country code, e.g. NL.", raw[1]))
        for column, value in (("region", region), ("city", city)):
            if len(value) > 100:
                errors.append((column, "at most 100 characters.", value))
        if area_code and not (area_code.isdigit() and len(area_code) <= 8):
            errors.append(("area_code", "up to 8 digits, without the trunk 0.", raw[4]))
        number_type = _token(number_type)
        if number_type not in NumberType.values:
            errors.append(("number_type", "one of " + ", ".join(NumberType.values) + ".", raw[5]))
        capabilities = set(SEPARATORS_RE.split(caps.lower())) - {""} or {"voice"}
        if not capabilities <= set(CAPABILITIES):
            errors.append(("capabilities", "voice, sms and/or fax, separated by ;", raw[6]))
        prices = {}
        for column, value in (("setup_fee", setup), ("monthly_price", monthly)):
            if value and not MONEY_RE.match(value):
                hint = " Use a dot for decimals." if "," in value else ""
                errors.append((column, "a price like 2.50, not negative." + hint, value))
            elif value:
                prices[column] = Decimal(value)
        if errors:
            return target
        target.checker = checker
        target.prefix = checker.prefix + area_code
        target.matcher = checker.matcher(area_code)
        values = {
            "country": country,
            "region": region,
            "city": city,
            "area_code": area_code,
            "number_type": number_type,
            **{name: name in capabilities for name in CAPABILITIES},
        }
        matches = [
            block
            for block in self._blocks_of(operator, country)
            if all(getattr(block, name) == value for name, value in values.items())
            and all(getattr(block, name) == value for name, value in prices.items())
        ]
        if len(matches) > 1:
            ids = ", ".join(f"#{block.pk}" for block in matches[:5])
            target.errors.append(
                ("monthly_price", f"matches several blocks ({ids}); give the prices of one.", "")
            )
        elif matches:
            target.block = matches[0]
        elif "monthly_price" not in prices:
            target.errors.append(
                ("monthly_price", "no block matches this row; a new block needs a price.", "")
            )
        else:
            values.update({"setup_fee": Decimal(0), **prices})
            key = (operator.pk, *values.values())
            if key not in self._new_blocks:
                self._new_blocks[key] = NewBlock(values=values, operator=operator)
            target.block = self._new_blocks[key]
        if not target.errors:
            self.plan.targets.append(target)
        return target

    def _blocks_of(self, operator, country):
        key = (operator.pk, country)
        if key not in self._existing:
            self._existing[key] = list(
                NumberBlock.objects.filter(operator=operator, country=country).order_by("pk")
            )
        return self._existing[key]


@contextmanager
def _gc_paused():
    """The loop makes millions of short-lived lists and no reference cycles; the cyclic
    collector, rescanning the ever-growing plan, took a third of the time (measured)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _token(value):
    return "_".join(value.lower().replace("-", " ").split())


def _unknown_operator(name, operators):
    if not name:
        return "an operator name is required."
    same = [known for known in operators if known.lower() == name.lower()]
    hint = f" Did you mean “{same[0]}”?" if same else " Add it under Operators first."
    return f"no operator is named “{name[:60]}”.{hint}"
