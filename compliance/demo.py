"""Demo registration requirements and registrations for `make run`.

``seed_requirements`` runs after ``inventory.demo.seed_inventory`` (which already links its
German and French blocks to address requirements): finds or creates each requirement below
through ``requirement_save``, gives the German and French ones what a registration needs
(so their numbers are sold awaiting registration) and links each to the demo blocks of its
country and number type that have no requirement yet, through inventory's ``block_update``
(so the block's history says who).

``seed_registrations`` runs after the demo orders (``cart.demo``; Acme bought a Paris
number, Bäckerei Schmidt a Berlin one, both awaiting registration): Acme's registration is
submitted and approved by the demo compliance officer (its Paris number goes live and is
billed from then); Bäckerei Schmidt's is submitted and rejected with reasons and a comment,
its number still awaiting. Through the real services, so the history, e-mails and invoices
are the ones the portal makes.

A second run of either finds everything and changes nothing.
"""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import Role, User
from inventory.choices import NumberType

from .models import Address, Document, Identity, Requirement, Submission
from .services import requirement_save
from .services.registrations import (
    submission_approve,
    submission_get_or_create,
    submission_reject,
    submission_submit,
)

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


# What a registration needs, per demo requirement (country, title): France asks for an
# identity document and a proof of address in France; Germany for an address in the number's
# city with a proof of it. (The UK one stays an agreement only: numbers go live at once.)
DEMO_NEEDS = {
    ("FR", "Proof of address in France"): {
        "identity_type": "any",
        "address_scope": "country",
        "identity_proofs": 1,
        "address_proofs": 1,
        "deadline_days": 30,
    },
    ("DE", "Proof of address in the area"): {
        "identity_type": "any",
        "address_scope": "area",
        "address_proofs": 1,
        "deadline_days": 30,
    },
}


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
        needs = DEMO_NEEDS.get((country, title), {})
        if needs and not requirement.needs_registration:
            # What a registration needs changes no version: the words stay the same.
            requirement = requirement_save(actor=admin, requirement=requirement, **needs)
        blocks = NumberBlock.objects.filter(country=country, requirement__isnull=True)
        if number_type:
            blocks = blocks.filter(number_type=number_type)
        for block in blocks.order_by("pk"):
            block_update(block=block, actor=admin, requirement=requirement)
            linked += 1
    return linked


# --- Registrations: one approved, one rejected ---------------------------------------------


def demo_pdf(*lines: str) -> bytes:
    """A one-page PDF showing ``lines`` (Latin-1 text) in Helvetica, built here with a correct
    cross-reference table so any PDF reader (and ``pypdf``) opens it."""

    def escape(text):
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    shown = " ".join(f"({escape(line)}) '" for line in lines)
    stream = f"BT /F1 12 Tf 16 TL 56 780 Td {shown} ET".encode("latin-1")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]"
        b"/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>",
        b"<</Length %d>>stream\n%s\nendstream" % (len(stream), stream),
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _identity(account, user, **fields):
    found = Identity.objects.filter(account=account, description=fields["description"]).first()
    return found or Identity.objects.create(account=account, created_by=user, **fields)


def _address(account, user, **fields):
    found = Address.objects.filter(account=account, description=fields["description"]).first()
    return found or Address.objects.create(account=account, created_by=user, **fields)


def _document(account, user, kind, name, lines, **about):
    """A stored PDF proof (demo glue: the portal's uploads go through the profile's checks)."""
    found = Document.objects.filter(account=account, original_name=name).first()
    if found is not None:
        return found
    content = demo_pdf(*lines)
    document = Document(
        account=account,
        kind=kind,
        original_name=name,
        content_type=Document.ContentType.PDF,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        scan=Document.Scan.NOT_SCANNED,
        uploaded_by=user,
        **about,
    )
    document.file.save(name, ContentFile(content), save=False)
    document.save()
    return document


def _acme_parts(user):
    account = user.account
    identity = _identity(
        account,
        user,
        kind=Identity.Kind.BUSINESS,
        company_name="Acme Call Center France SAS",
        company_number="RCS Paris 912 345 678",
        tax_id="FR40912345678",
        country="FR",
        description="Acme France (demo)",
    )
    address = _address(
        account,
        user,
        line1="18 Rue de la Paix",
        city="Paris",
        postal_code="75002",
        country="FR",
        description="Paris office (demo)",
    )
    documents = [
        _document(
            account,
            user,
            "identity",
            "kbis-acme-france.pdf",
            [
                "Extrait Kbis (demo document)",
                "Acme Call Center France SAS",
                "RCS Paris 912 345 678",
            ],
            identity=identity,
        ),
        _document(
            account,
            user,
            "address",
            "electricity-bill-paris.pdf",
            [
                "Electricity bill, November 2026 (demo document)",
                "Acme Call Center France SAS",
                "18 Rue de la Paix, 75002 Paris",
            ],
            address=address,
        ),
    ]
    return {"identity": identity, "address": address, "documents": documents}


def _schmidt_parts(user):
    account = user.account
    identity = _identity(
        account,
        user,
        kind=Identity.Kind.BUSINESS,
        company_name="Bäckerei Schmidt KG",
        company_number="HRA 104512 B",
        country="DE",
        description="Bäckerei Schmidt (demo)",
    )
    address = _address(
        account,
        user,
        line1="Friedrichstraße 120",
        city="Berlin",
        postal_code="10117",
        country="DE",
        description="Berlin shop (demo)",
    )
    documents = [
        _document(
            account,
            user,
            "address",
            "stromrechnung-seite-1.pdf",
            ["Stromrechnung, Seite 1 von 2 (demo document)", "Bäckerei Schmidt KG"],
            address=address,
        )
    ]
    return {"identity": identity, "address": address, "documents": documents}


# (buyer's e-mail, requirement (country, title), parts, decision)
DEMO_REGISTRATIONS = [
    (
        "customer@didportal.test",
        ("FR", "Proof of address in France"),
        _acme_parts,
        {"approve": "Kbis extract and electricity bill match the company and its Paris office."},
    ),
    (
        "resold@didportal.test",
        ("DE", "Proof of address in the area"),
        _schmidt_parts,
        {
            "reject": ["unreadable", "missing_page"],
            "comment": "The electricity bill is blurred and only page 1 of 2 is there: the "
            "page with the supply address and the date is missing. Upload both pages, "
            "scanned flat, of a bill from the last three months.",
        },
    ),
]


@transaction.atomic
def seed_registrations():
    """Submit and decide (once) the demo customers' registrations; returns how many
    decisions this run made (0 on a repeat, or when the demo orders are not there)."""
    officer = User.objects.filter(role=Role.PLATFORM_COMPLIANCE, is_active=True).order_by("pk")
    officer = officer.first()
    if officer is None:
        raise RuntimeError("seed_registrations needs a compliance officer: run seed_accounts.")
    decided = 0
    for email, (country, title), parts, decision in DEMO_REGISTRATIONS:
        user = User.objects.filter(email__iexact=email).first()
        requirement = Requirement.objects.filter(country=country, title=title).first()
        if user is None or requirement is None:
            continue
        if not user.account.number_registrations.filter(requirement=requirement).exists():
            continue  # its demo order was not placed: nothing waits for this registration
        submission = submission_get_or_create(
            account=user.account, requirement=requirement, actor=user
        )
        if submission.status == Submission.Status.DRAFT:
            submission = submission_submit(submission=submission, actor=user, **parts(user))
        if submission.status != Submission.Status.SUBMITTED:
            continue
        if "approve" in decision:
            submission_approve(submission=submission, actor=officer, comment=decision["approve"])
        else:
            submission_reject(
                submission=submission,
                actor=officer,
                reasons=decision["reject"],
                comment=decision["comment"],
            )
        decided += 1
    return decided
