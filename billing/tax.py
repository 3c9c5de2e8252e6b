"""The one place that decides the VAT a buyer pays. Cart, orders and invoices ask here.

``tax_for(buyer, seller=None)``: the seller is the platform (``seller`` None; its country
is ``PLATFORM_COUNTRY``) or a reseller selling to its customer (its own country; the
platform's when it has none recorded). ``sale_tax_for(buyer)`` is the decision for a buyer
buying from whoever sells to it (its reseller, else the platform); a reseller's wholesale
side is ``tax_for(reseller)`` (the platform sells to the reseller).

- An EU business buyer (a VAT number valid for its country, checked again here whatever
  wrote it; confirmed with VIES when ``VIES_ENABLED``) in another EU country than the
  seller's: 0 %, reverse charge — the buyer accounts for VAT. VIES saying the number is
  not valid means no reverse charge; VIES not answering does not stop the sale (the
  decision records that the number was not confirmed).
- Any other EU buyer: the buyer's country's standard rate (``TaxRate``) — for a buyer in
  the seller's country, the domestic rate.
- A buyer outside the EU, or a seller outside the EU: 0 %, outside the scope of EU VAT.
- A buyer with no country yet: the seller country's rate, the safe side until they say.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError

from accounts.permissions import is_finance
from accounts.validators import EU_COUNTRIES, normalize_vat_number

from . import vies
from .models import TaxRate

CENT = Decimal("0.01")
ZERO = Decimal("0")
REVERSE_CHARGE_NOTE = (
    "VAT reverse charge: the customer accounts for the VAT (Article 196, Council Directive "
    "2006/112/EC)."
)
OUTSIDE_EU_NOTE = "Outside the scope of EU VAT."


@dataclass(frozen=True)
class TaxDecision:
    rate: Decimal  # percent
    country: str  # whose rate applies; "" when none does
    reverse_charge: bool = False
    note: str = ""
    # The buyer's VAT identity the decision was made on, kept with every charge.
    buyer_country: str = ""
    buyer_vat_number: str = ""  # "" when none, or none valid for the country
    vat_confirmed: bool = False  # VIES confirmed the number

    def vat_on(self, net) -> Decimal:
        """The VAT on a net amount, rounded half-up to the cent."""
        return (Decimal(net) * self.rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)

    def amounts(self, *nets) -> "TaxedAmount":
        """Net, VAT and gross of a price made of parts (setup fee, period price, …).

        VAT is rounded per part, as each part is a line of its own on the invoice, so the
        cart, the order, the charge and the invoice all add up to the same cent.
        """
        parts = [Decimal(net) for net in nets]
        net = sum(parts, ZERO)
        vat = sum((self.vat_on(part) for part in parts), ZERO)
        return TaxedAmount(net=net, vat=vat, gross=net + vat, rate=self.rate)


@dataclass(frozen=True)
class TaxedAmount:
    net: Decimal
    vat: Decimal
    gross: Decimal
    rate: Decimal  # percent


def _standard_rate(country, **identity):
    rate = TaxRate.objects.filter(country=country).values_list("rate", flat=True).first()
    if rate is None:
        raise ImproperlyConfigured(f"No VAT rate for {country}: add it under Tax rates.")
    return TaxDecision(rate=rate, country=country, **identity)


def _valid_vat_number(vat_number, country):
    """The stored number if it is valid for ``country``, else "": a number that any writer
    stored unchecked (``DE…`` on a French account) never earns a reverse charge."""
    try:
        return normalize_vat_number(vat_number, country)
    except ValidationError:
        return ""


def seller_country(seller=None) -> str:
    """The country a sale is made from: the reseller's, else (or when it has none) the
    platform's ``PLATFORM_COUNTRY``."""
    if seller is not None and seller.country:
        return seller.country.code
    return settings.PLATFORM_COUNTRY


def tax_for(account, seller=None) -> TaxDecision:
    """The VAT decision for ``account`` buying from ``seller`` (None: the platform; else the
    reseller selling to it)."""
    country = account.country.code if account.country else ""
    vat_number = _valid_vat_number(account.vat_number, country)
    identity = {"buyer_country": country, "buyer_vat_number": vat_number}
    from_country = seller_country(seller)
    if not country:
        if from_country not in EU_COUNTRIES:
            return TaxDecision(rate=ZERO, country="", note=OUTSIDE_EU_NOTE, **identity)
        return _standard_rate(from_country, **identity)
    if country not in EU_COUNTRIES or from_country not in EU_COUNTRIES:
        return TaxDecision(rate=ZERO, country="", note=OUTSIDE_EU_NOTE, **identity)
    if vat_number and country != from_country:
        confirmed = vies.vat_number_confirmed(vat_number)
        if confirmed is not False:  # confirmed, or VIES off or down: the format holds
            return TaxDecision(
                rate=ZERO,
                country=country,
                reverse_charge=True,
                note=REVERSE_CHARGE_NOTE,
                vat_confirmed=bool(confirmed),
                **identity,
            )
    return _standard_rate(country, **identity)


def sale_tax_for(account) -> TaxDecision:
    """The VAT decision for ``account`` buying from whoever sells to it: its reseller (a
    reseller's customer), else the platform."""
    return tax_for(account, seller=account.reseller)


def tax_rate_set(*, country, rate, actor) -> TaxRate:
    """Set a country's standard rate (finance or platform admin). Orders and invoices keep
    the rate they were made with; only new ones use the new rate."""
    if not is_finance(actor):
        raise PermissionDenied("Only finance staff may change VAT rates.")
    rate = Decimal(rate)
    if not ZERO <= rate <= 100:
        raise ValidationError({"rate": "A VAT rate is a percentage between 0 and 100."})
    tax_rate, _ = TaxRate.objects.update_or_create(country=country, defaults={"rate": rate})
    return tax_rate
