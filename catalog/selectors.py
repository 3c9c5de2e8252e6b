"""Reads for buyers: coverage by country and city, filters, and the number search.

Only buyable numbers count and appear: status ``in_stock`` (not reserved, sold, on hold or
archived) and not held in somebody else's cart. Per-block counts come from the
trigger-maintained ``StockDelta`` rows, so the country and city lists never count millions
of DID rows; they leave out every cart-held number until the minute job releases an expired
hold, while the number search and ``buyable_numbers`` already treat an expired hold as free.
"""

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import phonenumbers
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django_countries import countries

from inventory.choices import DIDStatus, NumberType
from inventory.models import DID, NumberBlock

from .pricing import BlockPrices, from_prices, uniform_pricing
from .search import numbers_matching

SERVICES = ("voice", "sms", "fax")
BILLING_OPTIONS = ("monthly", "weekly", "daily", "one_time")


@dataclass(frozen=True)
class CoverageFilters:
    service: str = ""
    number_type: str = ""
    billing: str = ""
    registration: str = ""  # "yes" | "no" | ""

    @classmethod
    def from_query(cls, query):
        def pick(name, allowed):
            value = query.get(name, "")
            return value if value in allowed else ""

        return cls(
            service=pick("service", SERVICES),
            number_type=pick("type", NumberType.values),
            billing=pick("billing", BILLING_OPTIONS),
            registration=pick("registration", ("yes", "no")),
        )

    @property
    def active(self):
        return any((self.service, self.number_type, self.billing, self.registration))


def _block_filter(filters):
    lookups = {}
    if filters.service:
        lookups[filters.service] = True
    if filters.number_type:
        lookups["number_type"] = filters.number_type
    if filters.billing == "one_time":
        lookups["billing_type"] = NumberBlock.BillingType.ONE_TIME
    elif filters.billing:
        lookups[f"{filters.billing}_price__isnull"] = False
        lookups["billing_type"] = NumberBlock.BillingType.RECURRING
    return lookups


# Blocks whose numbers wait for a registration (compliance's ``Requirement.needs_registration``
# as a query): an identity, an address or a proof asked for. A text to agree to alone is not.
NEEDS_REGISTRATION = Q(requirement__isnull=False) & (
    ~Q(requirement__identity_type="")
    | ~Q(requirement__address_scope="")
    | Q(requirement__identity_proofs__gt=0)
    | Q(requirement__address_proofs__gt=0)
    | Q(requirement__company_proofs__gt=0)
    | Q(requirement__other_proofs__gt=0)
)


def not_held_by_others(holder=None, now=None):
    """A Q on DIDs: no live cart hold, or one of ``holder``'s own (a user, or None)."""
    now = now or timezone.now()
    free = Q(cart_held_until__isnull=True) | Q(cart_held_until__lt=now)
    if holder is not None and getattr(holder, "pk", None):
        free |= Q(cart_held_by=holder)
    return free


def buyable_dids(holder=None, now=None):
    """In-stock DIDs that ``holder`` could put in a cart now."""
    return DID.objects.filter(not_held_by_others(holder, now), status=DIDStatus.IN_STOCK)


def buyable_blocks(filters=CoverageFilters(), country=None):
    """Blocks with at least one buyable number, annotated with ``available`` (cart-held
    numbers not counted)."""
    blocks = NumberBlock.objects.filter(**_block_filter(filters))
    if filters.registration == "yes":
        blocks = blocks.filter(NEEDS_REGISTRATION)
    elif filters.registration == "no":
        blocks = blocks.exclude(NEEDS_REGISTRATION)
    if country:
        blocks = blocks.filter(country=country)
    return blocks.annotate(available=Sum("stock_deltas__delta")).filter(available__gt=0)


def country_list(filters=CoverageFilters(), viewer_account=None, *, host_reseller=None):
    """One row per country: buyable numbers, cities and the cheapest setup and monthly prices
    as the viewer sees them (``catalog.pricing.from_prices``: a minimum over each block's
    own price, so a reseller's per-country or per-block rules count).

    When the viewer pays one rule for every block (``uniform_pricing``: list or wholesale,
    no markup rule in play) the database groups the blocks and takes the minimums, and
    only the fifty-odd country rows reach Python; building a model per block (thousands)
    was nearly all of the page's time. A price list's rules are applied per block."""
    pricing = uniform_pricing(viewer_account, host_reseller=host_reseller)
    if pricing is None:
        return _country_list_per_block(filters, viewer_account, host_reseller)
    grouped = (
        NumberBlock.objects.filter(pk__in=buyable_blocks(filters).values("pk"))
        .order_by()
        .values("country")
        .annotate(
            numbers=Sum("stock_deltas__delta"),
            cities=Count("city", distinct=True, filter=~Q(city="")),
            monthly=Min("monthly_price"),
            setup=Min("setup_fee"),
        )
    )
    result = []
    for row in grouped:
        cheapest = pricing(
            BlockPrices(
                setup_fee=row["setup"],
                monthly=row["monthly"],
                weekly=None,
                daily=None,
                extra_channel_monthly=Decimal(0),
                channels_included=0,
                connection_fee=Decimal(0),
                rate_per_minute=Decimal(0),
                one_time=False,
            )
        )
        result.append(
            _country_row(
                row["country"], row["numbers"], row["cities"], cheapest.monthly, cheapest.setup_fee
            )
        )
    return sorted(result, key=lambda row: row["name"])


@lru_cache(maxsize=2048)
def _country_name(code, language):
    """``countries.name`` kept per language: looking a name up (and translating it) was a
    tenth of the country list's time, for names that never change while we run."""
    return countries.name(code)


def _country_row(code, numbers, cities, from_monthly, from_setup):
    return {
        "country": code,
        "name": _country_name(code, get_language()),
        "numbers": numbers,
        "cities": cities,
        "from_monthly": from_monthly,
        "from_setup": from_setup,
    }


PRICE_FIELDS = (
    "country",
    "city",
    "number_type",
    "billing_type",
    "setup_fee",
    "monthly_price",
    "weekly_price",
    "daily_price",
    "extra_channel_monthly_price",
    "channels_included",
    "connection_fee",
    "rate_per_minute",
)


def _country_list_per_block(filters, viewer_account, host_reseller):
    """``country_list`` for a price list's per-block rules: grouped in Python (a few
    thousand blocks at most; the per-block stock is itself an aggregate)."""
    rows = {}
    for block in buyable_blocks(filters).order_by().only(*PRICE_FIELDS):
        row = rows.setdefault(str(block.country), {"numbers": 0, "city_set": set(), "blocks": []})
        row["numbers"] += block.available
        row["city_set"].add(block.city)
        row["blocks"].append(block)
    result = []
    for code, row in rows.items():
        from_monthly, from_setup = from_prices(
            row["blocks"], viewer_account, host_reseller=host_reseller
        )
        result.append(
            _country_row(
                code, row["numbers"], len(row["city_set"] - {""}), from_monthly, from_setup
            )
        )
    return sorted(result, key=lambda row: row["name"])


def fold(text):
    """Lower-case without accents, so "munchen" finds "München"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def city_rows(country, filters=CoverageFilters(), search=""):
    """The country's buyable blocks (a city or area each), optionally matched by city name
    or area-code prefix. A country has tens to hundreds of blocks, so matching in Python
    keeps accent-insensitive search portable across databases."""
    blocks = (
        buyable_blocks(filters, country=country)
        .select_related("requirement")
        .order_by("city", "area_code", "number_type", "pk")
    )
    needle = fold(search)
    if not needle:
        return list(blocks)
    digits = needle.removeprefix(f"+{phonenumbers.country_code_for_region(country)}").lstrip("+0")
    return [
        block
        for block in blocks
        if needle in fold(block.city)
        or needle in fold(block.region)
        or (digits.isdigit() and block.area_code.startswith(digits))
    ]


@dataclass
class NumberPage:
    rows: list = field(default_factory=list)
    next_after: str = ""
    prev_before: str = ""


def search_numbers(
    *,
    country,
    filters=CoverageFilters(),
    block_ids=None,
    query=None,
    mode="starts",
    after="",
    before="",
    page_size=25,
    holder=None,
    blocks=None,
):
    """One page of buyable numbers, ordered by number, paged by keyset (after/before).
    ``query`` (a ``catalog.search.NumberQuery``) narrows them in ``mode``. Numbers in
    ``holder``'s own cart still show; others' cart holds do not.

    ``blocks``: the country's buyable blocks under ``filters`` (``city_rows(country,
    filters)``) when the caller has them already (the page lists them as the city choice).
    The numbers are looked up by those block ids and each row gets its block (requirement
    loaded) from that list, so the number query neither recomputes the blocks' stock nor
    joins them to every row.

    Scanned in number order, the country's numbers are one range of the number index: every
    number of a block starts with its country's calling code (``inventory.numbers`` refuses
    any other), and saying so keeps PostgreSQL from walking the index from the first
    country's numbers on (seconds at 10,000,000 numbers: it expects matches everywhere).
    Ends-with goes without: the reversed-number index answers it block by block, and the
    range only tempted PostgreSQL to AND a bitmap of the country's whole range with it.
    The page's ids come first, from the in-stock number index alone (catalog migration
    0006 carries block and cart hold, so a contains-filter is checked on the index entry),
    then the table is read for those rows only."""
    if blocks is None:
        blocks = city_rows(country, filters)
    if block_ids:
        wanted = set(block_ids)
        blocks = [block for block in blocks if block.pk in wanted]
    by_id = {block.pk: block for block in blocks}
    numbers = buyable_dids(holder).filter(block_id__in=list(by_id))
    calling_code = phonenumbers.country_code_for_region(country)
    ends_with = mode == "ends" and query is not None and query.digits
    if calling_code and not ends_with:  # ends-with: block by block (catalog 0007's index)
        numbers = numbers.filter(_digits_prefix_range(f"+{calling_code}"))
    if query is not None:
        numbers = numbers_matching(numbers, query, country, mode)

    def page_rows(matching, order):
        return _with_blocks(
            list(
                DID.objects.filter(
                    pk__in=matching.order_by(order).values("pk")[: page_size + 1]
                ).order_by(order)
            ),
            by_id,
        )

    if before:
        rows = page_rows(numbers.filter(number__lt=before), "-number")
        has_more_before = len(rows) > page_size
        rows = list(reversed(rows[:page_size]))
        page = NumberPage(rows=rows, next_after=rows[-1].number if rows else "")
        page.prev_before = rows[0].number if rows and has_more_before else ""
        return page
    if after:
        numbers = numbers.filter(number__gt=after)
    rows = page_rows(numbers, "number")
    page = NumberPage(rows=rows[:page_size])
    if len(rows) > page_size:
        page.next_after = page.rows[-1].number
    if after and page.rows:
        page.prev_before = page.rows[0].number
    return page


def _digits_prefix_range(prefix):
    """A Q on DID.number for the numbers that start with ``prefix`` ("+" and digits), as a
    range the plain btree on ``number`` answers in number order (``startswith`` becomes a
    LIKE only the pattern index answers, in no useful order outside the C collation): from
    the prefix up to the next prefix of its length, "+49" → "+5" ("+" and digits compare
    alike in every collation; an all-nines prefix has no upper end)."""
    head = prefix.rstrip("9")
    if head in ("", "+"):
        return Q(number__gte=prefix)
    return Q(number__gte=prefix, number__lt=f"{head[:-1]}{int(head[-1]) + 1}")


def _with_blocks(dids, by_id):
    for did in dids:
        did.block = by_id[did.block_id]
    return dids


def formatted(number):
    """(national, international) forms of an E.164 number, for people."""
    parsed = phonenumbers.parse(number)
    return (
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL),
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
    )


def buyable_numbers(numbers, holder=None):
    """The DIDs among ``numbers`` (E.164 strings) that can be bought now, by number:
    in stock and not in anybody else's cart (``holder``'s own holds count as buyable)."""
    return (
        buyable_dids(holder)
        .filter(number__in=list(numbers)[:500])
        .select_related("block")
        .order_by("number")
    )
