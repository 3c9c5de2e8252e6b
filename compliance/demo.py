"""Demo registration requirements for `make run`, attached to the demo blocks they concern.

Runs after ``inventory.demo.seed_inventory`` (which already links its German and French
blocks to address requirements): finds or creates each requirement below through
``requirement_save`` and links it to the demo blocks of its country and number type that have
no requirement yet, through inventory's ``block_update`` (so the block's history says who).
A second run finds everything and changes nothing.
"""

from django.db import transaction

from accounts.models import Role, User
from inventory.choices import NumberType

from .models import Requirement
from .services import requirement_save

# (country, number type, title, legal text). The German and French titles match the
# requirements inventory's demo creates, so these find them instead of adding twins.
DEMO_REQUIREMENTS = [
    (
        "DE",
        NumberType.LOCAL,
        "Proof of address in the area",
        "German geographic numbers are only given to users with an address in the area "
        "code's local network. Upload a utility bill or company register extract not older "
        "than three months, showing name and address.",
    ),
    (
        "FR",
        NumberType.LOCAL,
        "Proof of address in France",
        "French geographic numbers require an address in France for the end user. Provide a "
        "recent utility bill or a Kbis extract for companies.",
    ),
    (
        "GB",
        NumberType.LOCAL,
        "UK service address for geographic numbers",
        "UK geographic numbers are for end users who are present in the United Kingdom.\n\n"
        "For each number you give us the address where the service is used; we keep it on "
        "record and may pass it to the emergency services' address database, so keep it up "
        "to date when you move.\n\n"
        "You will not use these numbers to hide who is calling, to make nuisance or silent "
        "calls, or to pretend to be in a place where you are not.",
    ),
]


def _demo_admin():
    admin = User.objects.filter(role=Role.PLATFORM_ADMIN, is_active=True).order_by("pk").first()
    if admin is None:
        raise RuntimeError("seed_requirements needs a platform admin: run seed_accounts first.")
    return admin


@transaction.atomic
def seed_requirements():
    """Create (once) the demo requirements and link them to matching unlinked demo blocks.

    Returns the number of blocks linked by this run (0 on a repeat)."""
    # Demo glue, not domain code: it is the one place compliance reaches into inventory.
    from inventory.models import NumberBlock
    from inventory.services import block_update

    admin = _demo_admin()
    linked = 0
    for country, number_type, title, text in DEMO_REQUIREMENTS:
        requirement = Requirement.objects.filter(
            country=country, number_type=number_type, title=title
        ).first() or requirement_save(
            actor=admin, country=country, number_type=number_type, title=title, text=text
        )
        blocks = NumberBlock.objects.filter(country=country, requirement__isnull=True)
        if number_type:
            blocks = blocks.filter(number_type=number_type)
        for block in blocks.order_by("pk"):
            block_update(block=block, actor=admin, requirement=requirement)
            linked += 1
    return linked
