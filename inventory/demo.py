"""Demo stock for `make run`: operators, priced number blocks in six countries, numbers.

Numbers are added through ``dids_add`` so the demo exercises the same path as the portal.
Where a country sets aside fictional ranges (UK drama numbers, US 555-01xx) they are used.
"""

from decimal import Decimal as D

from django.db import transaction

from compliance.models import Requirement

from .choices import NumberType
from .models import NumberBlock, Operator, Package
from .services import dids_add

JOB = "seed_demo"

OPERATORS = {
    "atlantic": ("Atlantic Numbering Inc.", "Dana Ruiz", "noc@atlantic-numbering.test"),
    "britannia": ("Britannia Numbers Ltd", "Oliver Hart", "support@britannia-numbers.test"),
    "eurorange": ("EuroRange Telecom B.V.", "Sanne de Vries", "ops@eurorange.test"),
    "iberia": ("Iberia Voz S.L.", "Lucía Moreno", "soporte@iberiavoz.test"),
}

REQUIREMENTS = {
    "de_address": (
        "DE",
        NumberType.LOCAL,
        "Proof of address in the area",
        "German geographic numbers are only given to users with an address in the area "
        "code's local network. Upload a utility bill or company register extract not older "
        "than three months, showing name and address.",
    ),
    "fr_address": (
        "FR",
        NumberType.LOCAL,
        "Proof of address in France",
        "French geographic numbers require an address in France for the end user. Provide a "
        "recent utility bill or a Kbis extract for companies.",
    ),
}

# Price plans (USD): setup, monthly, per minute, buy monthly cost.
LOCAL = dict(
    setup_fee=D("0"),
    monthly_price=D("1.00"),
    rate_per_minute=D("0.005"),
    buy_monthly_cost=D("0.40"),
)
LOCAL_EU = dict(
    setup_fee=D("1.00"),
    monthly_price=D("2.00"),
    daily_price=D("0.10"),
    rate_per_minute=D("0.006"),
    buy_monthly_cost=D("0.80"),
)
LOCAL_REGULATED = dict(
    setup_fee=D("5.00"),
    monthly_price=D("3.00"),
    rate_per_minute=D("0.008"),
    buy_monthly_cost=D("1.20"),
)
MOBILE = dict(
    setup_fee=D("5.00"),
    monthly_price=D("4.00"),
    rate_per_minute=D("0.010"),
    buy_monthly_cost=D("2.00"),
    sms=True,
)
TOLL_FREE = dict(
    setup_fee=D("10.00"),
    monthly_price=D("5.00"),
    connection_fee=D("0.010"),
    rate_per_minute=D("0.020"),
    buy_monthly_cost=D("2.50"),
    max_concurrent_calls=30,
)

# (operator, country, region, city, area code, number type, price plan, requirement,
#  numbers in short form: digits after country and area code)
BLOCKS = [
    ("atlantic", "US", "New York", "New York", "212", "local", LOCAL, None, "5550100-5550199"),
    ("atlantic", "US", "California", "Los Angeles", "213", "local", LOCAL, None, "5550100-5550199"),
    ("atlantic", "US", "Illinois", "Chicago", "312", "local", LOCAL, None, "5550100-5550199"),
    (
        "atlantic",
        "US",
        "California",
        "San Francisco",
        "415",
        "local",
        LOCAL,
        None,
        "5550100-5550199",
    ),
    ("atlantic", "US", "Florida", "Miami", "305", "local", LOCAL, None, "5550100-5550199"),
    ("atlantic", "US", "", "", "800", "toll_free", TOLL_FREE, None, "5550100-5550199"),
    ("britannia", "GB", "England", "London", "20", "local", LOCAL_EU, None, "79460000-79460199"),
    ("britannia", "GB", "England", "Manchester", "161", "local", LOCAL_EU, None, "4960000-4960149"),
    ("britannia", "GB", "England", "Birmingham", "121", "local", LOCAL_EU, None, "4960000-4960149"),
    ("britannia", "GB", "Scotland", "Glasgow", "141", "local", LOCAL_EU, None, "4960000-4960149"),
    ("britannia", "GB", "", "", "", "mobile", MOBILE, None, "7400123000-7400123099"),
    (
        "eurorange",
        "DE",
        "Berlin",
        "Berlin",
        "30",
        "local",
        LOCAL_REGULATED,
        "de_address",
        "1234500-1234649",
    ),
    (
        "eurorange",
        "DE",
        "Bavaria",
        "Munich",
        "89",
        "local",
        LOCAL_REGULATED,
        "de_address",
        "1234500-1234649",
    ),
    (
        "eurorange",
        "DE",
        "Hamburg",
        "Hamburg",
        "40",
        "local",
        LOCAL_REGULATED,
        "de_address",
        "1234500-1234649",
    ),
    (
        "eurorange",
        "DE",
        "Hesse",
        "Frankfurt",
        "69",
        "local",
        LOCAL_REGULATED,
        "de_address",
        "1234500-1234649",
    ),
    (
        "eurorange",
        "DE",
        "North Rhine-Westphalia",
        "Cologne",
        "221",
        "local",
        LOCAL_REGULATED,
        "de_address",
        "1234500-1234649",
    ),
    ("eurorange", "DE", "", "", "", "mobile", MOBILE, None, "15112345000-15112345099"),
    (
        "eurorange",
        "NL",
        "North Holland",
        "Amsterdam",
        "20",
        "local",
        LOCAL_EU,
        None,
        "5550000-5550199",
    ),
    (
        "eurorange",
        "NL",
        "South Holland",
        "Rotterdam",
        "10",
        "local",
        LOCAL_EU,
        None,
        "5550000-5550149",
    ),
    (
        "eurorange",
        "NL",
        "South Holland",
        "The Hague",
        "70",
        "local",
        LOCAL_EU,
        None,
        "5550000-5550149",
    ),
    ("eurorange", "NL", "Utrecht", "Utrecht", "30", "local", LOCAL_EU, None, "5550000-5550149"),
    ("eurorange", "NL", "", "", "", "mobile", MOBILE, None, "612345000-612345099"),
    (
        "iberia",
        "FR",
        "Île-de-France",
        "Paris",
        "1",
        "local",
        LOCAL_REGULATED,
        "fr_address",
        "44000000-44000199",
    ),
    (
        "iberia",
        "FR",
        "Auvergne-Rhône-Alpes",
        "Lyon",
        "4",
        "local",
        LOCAL_REGULATED,
        "fr_address",
        "72000000-72000149",
    ),
    (
        "iberia",
        "FR",
        "Provence-Alpes-Côte d'Azur",
        "Marseille",
        "4",
        "local",
        LOCAL_REGULATED,
        "fr_address",
        "91000000-91000149",
    ),
    (
        "iberia",
        "FR",
        "Occitanie",
        "Toulouse",
        "5",
        "local",
        LOCAL_REGULATED,
        "fr_address",
        "61000000-61000149",
    ),
    ("iberia", "FR", "", "", "800", "toll_free", TOLL_FREE, None, "000000-000099"),
    (
        "iberia",
        "ES",
        "Community of Madrid",
        "Madrid",
        "91",
        "local",
        LOCAL_EU,
        None,
        "2345000-2345199",
    ),
    ("iberia", "ES", "Catalonia", "Barcelona", "93", "local", LOCAL_EU, None, "0000000-0000149"),
    (
        "iberia",
        "ES",
        "Valencian Community",
        "Valencia",
        "96",
        "local",
        LOCAL_EU,
        None,
        "0000000-0000149",
    ),
    ("iberia", "ES", "Andalusia", "Seville", "95", "local", LOCAL_EU, None, "4000000-4000149"),
]

PACKAGES = [("Starter", 5), ("Business", 50), ("Call centre", 500)]


@transaction.atomic
def seed_inventory():
    """Create the demo stock once; a second run finds everything and changes nothing."""
    operators = {
        key: Operator.objects.get_or_create(
            name=name, defaults={"contact_name": contact, "contact_email": email}
        )[0]
        for key, (name, contact, email) in OPERATORS.items()
    }
    requirements = {
        key: Requirement.objects.get_or_create(
            country=country, number_type=number_type, title=title, defaults={"text": text}
        )[0]
        for key, (country, number_type, title, text) in REQUIREMENTS.items()
    }
    for name, max_dids in PACKAGES:
        Package.objects.get_or_create(name=name, defaults={"max_dids": max_dids})
    added = 0
    for operator, country, region, city, area, kind, plan, requirement, spec in BLOCKS:
        block, _ = NumberBlock.objects.get_or_create(
            operator=operators[operator],
            country=country,
            city=city,
            area_code=area,
            number_type=kind,
            defaults={
                "region": region,
                "requirement": requirements.get(requirement),
                **plan,
            },
        )
        if not block.dids.exists():
            added += dids_add(block=block, spec_text=spec, actor=None, job=JOB, tag="demo")
    return added
