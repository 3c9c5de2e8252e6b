"""The catalog as DIDWW's API v3 shows it: countries, regions, cities, DID group types, DID
groups with their stock keeping units, and available numbers.

Our catalog has number blocks and DIDs; DIDWW's has countries, regions, cities, group types
and groups as rows of their own. The mapping:
- a **DID group** is a number block (id: the block's id); its country, region and city are
  the block's, its **DID group type** our number type (id "local", "toll_free", …);
- **countries** are those with at least one block (id: the ISO code), **regions** and
  **cities** the blocks' region and city texts (ids: name-based UUIDs, ``api.ids``);
- a **stock keeping unit** is one way to buy a group: a channel count, priced as the caller
  pays (``cart.pricing.line_quote``: the same figure checkout charges, without VAT);
- an **available DID** is a number the caller could buy now (``catalog.selectors.
  buyable_dids``, its own holds included, as on the web).

Blocks are few (thousands at most), so the coverage is read in one query per request and
places are derived in Python; numbers are millions, so available DIDs stay a query, paged
in number order from an index over in-stock numbers that carries the hold columns (an
index-only scan, even for the rows a deep page's OFFSET skips: catalog migration 0006), and
counted from the trigger-maintained stock (``catalog.StockDelta``) rather than by scanning
them (``AvailableDids.count``).
"""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import phonenumbers
from django.db.models import IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_countries import countries as country_names

from billing.tax import TaxDecision
from cart.models import offered_periods
from cart.pricing import line_quote
from catalog.models import StockDelta
from catalog.pricing import block_prices
from catalog.selectors import buyable_dids
from inventory.choices import DIDStatus, NumberType
from inventory.models import DID, NumberBlock

from .ids import city_id, place_key, region_id, sku_id

# Block capabilities as DIDWW names its features (a fax-capable number takes T.38).
FEATURES = {"voice": "voice_in", "sms": "sms_in", "fax": "t38"}
# Channel counts offered as stock keeping units above a block's included channels (each at
# most the block's max_concurrent_calls, when it has one).
CHANNEL_OPTIONS = (2, 10, 30)


# --- Resources ------------------------------------------------------------------------------
# Plain objects with a ``pk``: the serializers read their attributes, relationships are the
# related objects themselves.


@dataclass(eq=False)
class Country:
    pk: str
    name: str
    prefix: str
    iso: str
    regions: list = field(default_factory=list)
    is_available: bool = False


@dataclass(eq=False)
class Region:
    pk: str
    name: str
    country: Country
    iso: str | None = None
    is_available: bool = False


@dataclass(eq=False)
class City:
    pk: str
    name: str
    country: Country
    region: Region | None
    is_available: bool = False


@dataclass(eq=False)
class DidGroupType:
    pk: str
    name: str


@dataclass(eq=False)
class StockKeepingUnit:
    pk: str
    setup_price: object
    monthly_price: object
    channels_included_count: int
    billing_period: str


@dataclass(eq=False)
class Place:
    """A block's place in the coverage: its country, region and city resources."""

    block: NumberBlock
    country: Country
    region: Region | None
    city: City | None

    @property
    def available(self) -> int:
        return self.block.available


def group_types():
    return [DidGroupType(pk=value, name=label) for value, label in NumberType.choices]


def group_type(pk):
    return next((t for t in group_types() if t.pk == pk), None)


def calling_code(iso) -> str:
    code = phonenumbers.country_code_for_region(iso)
    return str(code) if code else ""


def _stock():
    """A block's buyable numbers (cart-held ones not counted) from the stock deltas."""
    sums = (
        StockDelta.objects.filter(block=OuterRef("pk"))
        .order_by()
        .values("block")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    return Coalesce(Subquery(sums, output_field=IntegerField()), 0)


def needs_registration(block) -> bool:
    """Compliance's rule: the block's own requirement, when active, asks for a registration
    (``compliance.selectors.requirements_for_blocks`` reads only active ones)."""
    requirement = block.requirement
    return bool(requirement and requirement.active and requirement.needs_registration)


class Coverage:
    """Every block with its stock, and the countries, regions and cities they make.

    One query; built once per request (the views keep it)."""

    def __init__(self, blocks=None):
        if blocks is None:
            blocks = (
                NumberBlock.objects.select_related("requirement")
                .annotate(available=_stock())
                .order_by("pk")  # a place is named as its oldest block names it
            )
        self.countries, self.regions, self.cities = {}, {}, {}
        self.places = {}
        for block in blocks:
            self.places[block.pk] = self._place(block)

    def _place(self, block):
        iso = block.country.code
        country = self.countries.get(iso)
        if country is None:
            country = self.countries[iso] = Country(
                pk=iso, name=str(country_names.name(iso)), prefix=calling_code(iso), iso=iso
            )
        available = block.available > 0
        country.is_available |= available
        region = None
        if place_key(block.region):
            pk = region_id(iso, block.region)
            region = self.regions.get(pk)
            if region is None:
                region = self.regions[pk] = Region(
                    pk=pk, name=block.region.strip(), country=country
                )
                country.regions.append(region)
            region.is_available |= available
        city = None
        if place_key(block.city):
            pk = city_id(iso, block.region, block.city)
            city = self.cities.get(pk)
            if city is None:
                city = self.cities[pk] = City(
                    pk=pk, name=block.city.strip(), country=country, region=region
                )
            city.is_available |= available
        return Place(block=block, country=country, region=region, city=city)

    def block_ids(self, test) -> list[int]:
        """The ids of the blocks whose ``Place`` passes ``test``."""
        return [pk for pk, place in self.places.items() if test(place)]


# --- DID groups -------------------------------------------------------------------------------


# Prices are shown without VAT, as DIDWW shows them; the order decides the VAT. Quoting
# with no VAT also keeps a catalog read from asking VIES about the buyer's VAT number.
NET = TaxDecision(rate=Decimal(0), country="")


class Pricing:
    """Prices as ``account`` pays them (its price list is read once per request)."""

    def __init__(self, account):
        self.account = account
        self.decision = NET

    def prices(self, block):
        return block_prices(block, self.account)

    def skus(self, block) -> list[StockKeepingUnit]:
        """The channel options of ``block`` at today's price for the account: setup fee and
        the recurring price of one period of the block's first offered period ("monthly"
        whenever it is offered), rounded to the cent as checkout charges them."""
        period = offered_periods(block)[0]
        units = []
        for channels in channel_options(block):
            quote = line_quote(
                block=block,
                channels=channels,
                billing_period=period,
                account=self.account,
                decision=self.decision,
            )
            units.append(
                StockKeepingUnit(
                    pk=sku_id(block.pk, channels),
                    setup_price=quote.setup_fee,
                    monthly_price=quote.recurring,
                    channels_included_count=channels,
                    billing_period=period,
                )
            )
        return units


def channel_options(block) -> list[int]:
    base = max(1, block.channels_included)
    cap = block.max_concurrent_calls
    more = [c for c in CHANNEL_OPTIONS if c > base and (cap is None or c <= cap)]
    return [base, *more]


class DidGroup:
    """A block as DIDWW's DID group, priced for the caller (prices and SKUs computed only
    when rendered: a filtered list prices just its page)."""

    def __init__(self, place: Place, pricing: Pricing):
        block = place.block
        self.place, self.block, self.pricing = place, block, pricing
        self.pk = block.pk
        self.prefix = block.area_code
        self.area_name = (
            block.city.strip() or block.region.strip() or block.get_number_type_display()
        )
        self.features = [name for flag, name in FEATURES.items() if getattr(block, flag)]
        self.allow_additional_channels = len(channel_options(block)) > 1
        self.service_restrictions = None
        self.country, self.region, self.city = place.country, place.region, place.city
        self.did_group_type = DidGroupType(
            pk=block.number_type, name=block.get_number_type_display()
        )
        self.needs_registration = needs_registration(block)
        self.total_count = max(0, place.available)
        self.is_available = self.total_count > 0
        self.available_dids_enabled = True

    @cached_property
    def is_metered(self) -> bool:
        prices = self.pricing.prices(self.block)
        return prices.rate_per_minute > 0 or prices.connection_fee > 0

    @cached_property
    def stock_keeping_units(self):
        return self.pricing.skus(self.block)


def groups(coverage: Coverage, pricing: Pricing, block_ids=None) -> list[DidGroup]:
    ids = coverage.places.keys() if block_ids is None else block_ids
    return [DidGroup(coverage.places[pk], pricing) for pk in ids if pk in coverage.places]


# --- Available DIDs ---------------------------------------------------------------------------


class AvailableDid:
    def __init__(self, did, group):
        self.pk = did.pk
        self.number = did.number.removeprefix("+")
        self.did_group = group


class AvailableDids:
    """The numbers ``holder`` could buy now, optionally narrowed, in number order; sliced
    like a list and counted cheaply (Django's paginator asks ``count()`` and slices).

    ``block_ids`` None means every block. ``contains``: digits anywhere in the number.
    """

    def __init__(self, *, holder, block_ids=None, ids=None, contains="", descending=False):
        self.holder, self.block_ids, self.ids = holder, block_ids, ids
        self.contains, self.descending = contains, descending
        self.now = timezone.now()
        self.ordered = True  # the paginator's check

    def queryset(self):
        numbers = buyable_dids(self.holder, self.now)
        if self.block_ids is not None:
            numbers = numbers.filter(block_id__in=self.block_ids)
        if self.ids is not None:
            numbers = numbers.filter(pk__in=self.ids)
        if self.contains:
            numbers = numbers.filter(number__contains=self.contains)
        return numbers.order_by("-number" if self.descending else "number").only(
            "pk", "number", "block_id"
        )

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return list(self.queryset()[index : index + 1])[0]
        return list(self.queryset()[index])

    def __len__(self):
        return self.count()

    @cached_property
    def _count(self) -> int:
        if self.block_ids is not None and not self.block_ids:
            return 0
        if self.ids is not None or self.contains:
            return self.queryset().count()  # narrowed to a few rows, or a search: counted
        return self._stock_count() + self._held_count()

    def count(self) -> int:
        return self._count

    def _stock_count(self) -> int:
        """In stock and in no cart, from the stock deltas (the triggers keep them exact)."""
        rows = StockDelta.objects.all()
        if self.block_ids is not None:
            rows = rows.filter(block_id__in=self.block_ids)
        return rows.aggregate(total=Sum("delta"))["total"] or 0

    def _held_count(self) -> int:
        """Cart-held numbers the stock leaves out but ``buyable_dids`` lists: holds already
        expired (until the minute job releases them) and the holder's own. Read through the
        small partial index on ``cart_held_until``."""
        mine = Q(cart_held_until__lt=self.now)
        if getattr(self.holder, "pk", None):
            mine |= Q(cart_held_by=self.holder)
        held = DID.objects.filter(mine, cart_held_until__isnull=False, status=DIDStatus.IN_STOCK)
        if self.block_ids is not None:
            held = held.filter(block_id__in=self.block_ids)
        return held.count()


def available_did(pk, *, holder):
    """One number ``holder`` could buy now, or None."""
    return buyable_dids(holder).filter(pk=pk).only("pk", "number", "block_id").first()


def with_groups(dids, pricing: Pricing) -> list[AvailableDid]:
    """``dids`` as available DIDs with their groups (the blocks read in one query)."""
    block_ids = {did.block_id for did in dids}
    coverage = Coverage(
        NumberBlock.objects.filter(pk__in=block_ids)
        .select_related("requirement")
        .annotate(available=_stock())
    )
    by_block = {pk: DidGroup(place, pricing) for pk, place in coverage.places.items()}
    return [AvailableDid(did, by_block[did.block_id]) for did in dids]
