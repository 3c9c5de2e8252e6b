"""Demo tenants and users for `make run`. Passwords are public on purpose: demo only."""

from django.db import transaction

from .models import Account, Role, User
from .services import account_create, user_create

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105

DEMO_USERS = [
    # (email, role, account key, full name)
    ("admin@didportal.test", Role.PLATFORM_ADMIN, "platform", "Ada Admin"),
    ("finance@didportal.test", Role.PLATFORM_FINANCE, "platform", "Fin Ance"),
    ("reseller@didportal.test", Role.RESELLER_ADMIN, "reseller", "Rita Reseller"),
    ("resold@didportal.test", Role.CUSTOMER_ADMIN, "resold", "Rob Resold"),
    ("customer@didportal.test", Role.CUSTOMER_ADMIN, "direct", "Carla Customer"),
    ("member@didportal.test", Role.CUSTOMER_MEMBER, "direct", "Mo Member"),
    ("billing@didportal.test", Role.CUSTOMER_BILLING, "direct", "Bea Billing"),
]


@transaction.atomic
def seed_accounts():
    """Create (once) the platform, a reseller with a customer, and a direct customer."""
    platform = Account.objects.filter(kind=Account.Kind.PLATFORM).first() or account_create(
        kind=Account.Kind.PLATFORM,
        name="DIDPortal Carrier",
        legal_name="DIDPortal Carrier B.V.",
        country="NL",
        address="Keizersgracht 1\n1015 CC Amsterdam",
        vat_number="NL004495445B01",
    )
    accounts = {"platform": platform}
    specs = {
        "reseller": dict(
            kind=Account.Kind.RESELLER,
            name="Voxel Telecom",
            parent=platform,
            legal_name="Voxel Telecom GmbH",
            country="DE",
            address="Friedrichstr. 10\n10117 Berlin",
        ),
        "resold": dict(
            kind=Account.Kind.CUSTOMER,
            name="Bäckerei Schmidt",
            parent=None,
            legal_name="Bäckerei Schmidt KG",
            country="DE",
            address="Hauptstr. 5\n80331 München",
        ),
        "direct": dict(
            kind=Account.Kind.CUSTOMER,
            name="Acme Call Center",
            parent=platform,
            legal_name="Acme Call Center Inc.",
            country="US",
            address="1 Market St\nSan Francisco, CA 94105",
        ),
    }
    for key, spec in specs.items():
        if spec["parent"] is None:
            spec["parent"] = accounts["reseller"]
        existing = Account.objects.filter(name=spec["name"], kind=spec["kind"]).first()
        accounts[key] = existing or account_create(**spec)
    for email, role, key, full_name in DEMO_USERS:
        if not User.objects.filter(email__iexact=email).exists():
            user_create(
                account=accounts[key],
                email=email,
                role=role,
                full_name=full_name,
                password=DEMO_PASSWORD,
            )
    return accounts
