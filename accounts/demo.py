"""Demo tenants and users for `make run`. Passwords are public on purpose: demo only."""

import struct
import zlib
from decimal import Decimal

from django.db import transaction

from .models import Account, Brand, Role, User
from .services import account_create, reseller_discount_set, user_create

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105

DEMO_USERS = [
    # (email, role, account key, full name)
    ("admin@didportal.test", Role.PLATFORM_ADMIN, "platform", "Ada Admin"),
    ("finance@didportal.test", Role.PLATFORM_FINANCE, "platform", "Fin Ance"),
    ("compliance@didportal.test", Role.PLATFORM_COMPLIANCE, "platform", "Cora Compliance"),
    ("reseller@didportal.test", Role.RESELLER_ADMIN, "reseller", "Rita Reseller"),
    ("support@voxel.didportal.test", Role.RESELLER_SUPPORT, "reseller", "Sven Support"),
    ("finance@voxel.didportal.test", Role.RESELLER_FINANCE, "reseller", "Fiona Finanz"),
    ("resold@didportal.test", Role.CUSTOMER_ADMIN, "resold", "Rob Resold"),
    ("studio@didportal.test", Role.CUSTOMER_ADMIN, "resold2", "Lena Lumen"),
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
            vat_number="DE136695976",
        ),
        "resold": dict(
            kind=Account.Kind.CUSTOMER,
            name="Bäckerei Schmidt",
            parent=None,
            legal_name="Bäckerei Schmidt KG",
            country="DE",
            address="Hauptstr. 5\n80331 München",
        ),
        "resold2": dict(
            kind=Account.Kind.CUSTOMER,
            name="Studio Lumen",
            parent=None,
            legal_name="Studio Lumen Ltd",
            country="GB",
            address="12 Deansgate\nManchester M3 2BW",
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


# --- Voxel Telecom, the demo reseller --------------------------------------------------------

VOXEL_DISCOUNT = Decimal("10.00")
VOXEL_COLOUR = "#6f42c1"


def demo_logo_png(size=64, colour=VOXEL_COLOUR) -> bytes:
    """A small PNG drawn here (no imaging library): a rounded-looking square in ``colour``
    with a white "V" — enough for pages and invoice PDFs to show a logo."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            corner = min(x, size - 1 - x) + min(y, size - 1 - y) < size // 8
            # The two strokes of a V, from the top corners to the bottom middle.
            left = abs((x - size * 0.2) - (y * 0.3)) < size * 0.06
            right = abs((size * 0.8 - x) - (y * 0.3)) < size * 0.06
            in_v = size * 0.2 <= y <= size * 0.8 and (left or right)
            if corner:
                row += bytes((255, 255, 255, 0))
            elif in_v:
                row += bytes((255, 255, 255, 255))
            else:
                row += bytes((red, green, blue, 255))
        rows.append(bytes(row))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


@transaction.atomic
def seed_reseller(accounts):
    """Voxel's wholesale discount (set once, by the demo platform admin, so the change shows
    in its history) and its brand (created once; a brand edited in the portal is kept)."""
    voxel = accounts["reseller"]
    admin = User.objects.filter(email__iexact="admin@didportal.test").first()
    if admin is not None and not voxel.history.filter(wholesale_discount=VOXEL_DISCOUNT).exists():
        voxel = reseller_discount_set(actor=admin, reseller=voxel, discount=VOXEL_DISCOUNT)
        accounts["reseller"] = voxel
    if not Brand.objects.filter(account=voxel).exists():
        Brand.objects.create(
            account=voxel,
            display_name="Voxel Voice",
            logo=demo_logo_png(),
            logo_content_type="image/png",
            primary_colour=VOXEL_COLOUR,
            support_email="support@voxel.didportal.test",
            support_phone="+49 30 5550 1234",
            invoice_footer="Voxel Telecom GmbH · Amtsgericht Berlin HRB 123456 · "
            "Geschäftsführerin: Rita Reseller",
            bank_details="Voxel Telecom GmbH\nIBAN DE02 1001 0010 0006 8201 01\nBIC PBNKDEFF",
        )
    return voxel
