import datetime
import hashlib

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

# The smallest files each accepted type recognises (a one-page PDF, a 1×1 PNG).
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a5"
    "1b2c0000000049454e44ae426082"
)


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
