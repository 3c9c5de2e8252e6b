import datetime
import hashlib
import struct
import zlib

import factory
from django.core.files.base import ContentFile

from compliance.models import Address, Document, Identity, Requirement


class RequirementFactory(factory.django.DjangoModelFactory):
    """A requirement made directly (no version row yet), like the ones made before versions
    were kept; use ``services.requirement_save`` to go through the console's path."""

    class Meta:
        model = Requirement

    country = "DE"
    number_type = "local"
    title = factory.Sequence(lambda n: f"Proof of address {n}")
    text = "German geographic numbers need an address in the area code's local network."


# --- Profiles and registrations ----------------------------------------------------------------


def _tiny_pdf():
    """A one-page PDF with its cross-reference table (readers such as pypdf need it)."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj" % number + body + b"endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def _tiny_png():
    """A 1×1 white PNG, each chunk with its CRC."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\xff\xff")  # filter byte + one white pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# The smallest files each accepted type recognises (a one-page PDF, a 1×1 PNG).
TINY_PDF = _tiny_pdf()
TINY_PNG = _tiny_png()


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    kind = "personal"
    first_name = "Marie"
    last_name = "Dupont"
    country = "FR"
    birth_date = datetime.date(1985, 4, 12)
    id_number = "X1234567"


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    line1 = "12 Marienplatz"
    city = "München"
    postal_code = "80331"
    country = "DE"


class DocumentFactory(factory.django.DjangoModelFactory):
    """A stored document made directly (the upload checks are ``compliance.documents``')."""

    class Meta:
        model = Document

    kind = "identity"
    file = factory.LazyFunction(lambda: ContentFile(TINY_PDF, name="passport.pdf"))
    original_name = "passport.pdf"
    content_type = "application/pdf"
    size = len(TINY_PDF)
    sha256 = hashlib.sha256(TINY_PDF).hexdigest()
    scan = "not_scanned"
