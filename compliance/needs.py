"""What a requirement asks a registration for, in the buyer's words: the one place every
page (checkout, registrations, the review page, the console, the public requirement page)
and e-mail takes them from.

Phrases start lower-case so they read inside a sentence ("provide the end user's identity
(a business) with its company registration number, an address in Paris and 1 proof of
address within 30 days"); lists capitalise them (``needs_lines``, or ``|capfirst``).
"""

from .models import AddressScope, DocumentKind, IdentityField, IdentityType

IDENTITY_WORDS = {
    IdentityType.ANY: "the end user's identity (a person or a business)",
    IdentityType.PERSONAL: "the end user's identity (a person)",
    IdentityType.BUSINESS: "the end user's identity (a business)",
}
PROOF_WORDS = {  # singular, plural
    DocumentKind.IDENTITY: ("identity document", "identity documents"),
    DocumentKind.ADDRESS: ("proof of address", "proofs of address"),
    DocumentKind.COMPANY: ("company registration document", "company registration documents"),
    DocumentKind.OTHER: ("other supporting document", "other supporting documents"),
}


def joined(words):
    """ "a", "a and b", "a, b and c" """
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _lower_first(label):
    """ "Date of birth" → "date of birth"; "ID or passport number" stays as it is."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def identity_fields(requirement):
    """The mandatory identity details, in words: ["date of birth", "tax ID / VAT number"]."""
    return [
        _lower_first(IdentityField(name).label)
        for name in requirement.identity_fields or ()
        if name in IdentityField.values
    ]


def identity_phrase(requirement):
    """ "the end user's identity (a business) with its company registration number", or "" """
    if not requirement.identity_type:
        return ""
    text = IDENTITY_WORDS.get(requirement.identity_type, IDENTITY_WORDS[IdentityType.ANY])
    fields = identity_fields(requirement)
    return f"{text} with its {joined(fields)}" if fields else text


def address_phrase(requirement):
    """ "an address in Paris", "an address in France", "the end user's address (anywhere)",
    or "" """
    scope = requirement.address_scope
    if scope == AddressScope.ANYWHERE:
        return "the end user's address (anywhere)"
    if scope == AddressScope.COUNTRY:
        return f"an address in {requirement.country.name}"
    if scope == AddressScope.AREA:
        return f"an address in {requirement.area or 'the number’s city or area'}"
    return ""


def proof_phrases(requirement):
    """["1 identity document", "2 proofs of address"]"""
    return [
        f"{count} {PROOF_WORDS[kind][count != 1]}"
        for kind, count in requirement.proofs_needed.items()
    ]


def registration_needs(requirement):
    """What a registration for ``requirement`` must contain, one phrase each, in the order a
    buyer provides them: identity, address, proofs. Empty when agreeing is enough."""
    if not requirement.needs_registration:
        return []
    parts = [identity_phrase(requirement), address_phrase(requirement)]
    return [part for part in parts if part] + proof_phrases(requirement)


def needs_sentence(requirement):
    return joined(registration_needs(requirement))


def deadline_phrase(requirement):
    days = requirement.deadline_days
    return f"within {days} day{'s' if days != 1 else ''} of purchase"


def needs_lines(requirement):
    """The console's summary: the phrases capitalised, then the deadline; an agreement-only
    requirement says so in one line."""
    if not requirement.needs_registration:
        return ["Agreement only: numbers go live at once"]
    lines = registration_needs(requirement) + [deadline_phrase(requirement)]
    return [line[:1].upper() + line[1:] for line in lines]
