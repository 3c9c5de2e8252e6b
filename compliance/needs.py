"""What a requirement asks a registration for, in short phrases for lists and summaries
("Business identity with company registration number", "Address in Paris", "1 identity
document", "Within 30 days")."""

from .models import AddressScope, DocumentKind, IdentityField, IdentityType

PROOF_WORDS = {
    DocumentKind.IDENTITY: ("identity document", "identity documents"),
    DocumentKind.ADDRESS: ("proof of address", "proofs of address"),
    DocumentKind.COMPANY: ("company registration document", "company registration documents"),
    DocumentKind.OTHER: ("other document", "other documents"),
}


# The identity details in a sentence ("with date of birth and tax ID / VAT number").
DETAIL_WORDS = {
    IdentityField.BIRTH_DATE: "date of birth",
    IdentityField.ID_NUMBER: "ID or passport number",
    IdentityField.COMPANY_NUMBER: "company registration number",
    IdentityField.TAX_ID: "tax ID / VAT number",
}


def _joined(words):
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def identity_phrase(requirement):
    if not requirement.identity_type:
        return ""
    subject = {
        IdentityType.ANY: "Identity (personal or business)",
        IdentityType.PERSONAL: "Personal identity",
        IdentityType.BUSINESS: "Business identity",
    }[requirement.identity_type]
    details = [
        DETAIL_WORDS[name] for name in requirement.identity_fields or () if name in DETAIL_WORDS
    ]
    return f"{subject} with {_joined(details)}" if details else subject


def address_phrase(requirement):
    scope = requirement.address_scope
    if not scope:
        return ""
    if scope == AddressScope.ANYWHERE:
        return "Address (anywhere)"
    if scope == AddressScope.COUNTRY:
        return f"Address in {requirement.country.name}"
    return f"Address in {requirement.area}" if requirement.area else "Address in the number's city"


def proof_phrases(requirement):
    return [
        f"{count} {PROOF_WORDS[kind][count != 1]}"
        for kind, count in requirement.proofs_needed.items()
    ]


def needs_lines(requirement):
    """The phrases, in the order a buyer provides them; an agreement-only requirement says
    so in one phrase."""
    if not requirement.needs_registration:
        return ["Agreement only: numbers go live at once"]
    lines = [identity_phrase(requirement), address_phrase(requirement)]
    lines += proof_phrases(requirement)
    days = requirement.deadline_days
    lines.append(f"Within {days} day{'s' if days != 1 else ''} of purchase")
    return [line for line in lines if line]
