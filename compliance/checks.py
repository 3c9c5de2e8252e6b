"""Does a registration meet its requirement? One answer for checkout's "check before you
buy", the submission page and ``submission_submit``.

``submission_problems`` returns ``{field: [message, …]}`` for the fields ``identity``,
``address`` and ``documents`` (empty: nothing missing); each message says what to add or
change, in the customer's words.
"""

import unicodedata

from .models import AddressScope, DocumentKind, IdentityField, IdentityType


def _plain(text):
    """Compare place names without case, accents or punctuation: "Saint-Étienne" is
    "saint etienne"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in letters.casefold()).split())


def identity_problems(requirement, identity):
    if not requirement.identity_type:
        return []
    if identity is None:
        return ["Choose or add the end user's identity."]
    problems = []
    wanted = requirement.identity_type
    if wanted != IdentityType.ANY and identity.kind != wanted:
        label = IdentityType(wanted).label.lower()
        problems.append(f"This number needs a {label} identity; “{identity}” is not one.")
    for name in requirement.identity_fields or ():
        if name in IdentityField.values and not getattr(identity, name, None):
            problems.append(f"Add the identity's {IdentityField(name).label.lower()}.")
    return problems


def address_problems(requirement, address, numbers=()):
    """``numbers``: the DIDs the registration is for (their blocks' city when the address
    must be in the number's area)."""
    scope = requirement.address_scope
    if not scope:
        return []
    if address is None:
        return ["Choose or add the end user's address."]
    if scope in (AddressScope.COUNTRY, AddressScope.AREA) and (
        address.country.code != requirement.country.code
    ):
        return [f"The address must be in {requirement.country.name}."]
    if scope == AddressScope.AREA:
        areas = {requirement.area} if requirement.area else {did.block.city for did in numbers}
        areas = {area for area in areas if area}
        if areas and not any(_plain(address.city) == _plain(area) for area in areas):
            return [f"The address must be in {' or '.join(sorted(areas))}."]
    return []


def document_problems(requirement, documents):
    problems = []
    for kind, needed in requirement.proofs_needed.items():
        have = sum(1 for document in documents if document.kind == kind)
        if have < needed:
            label = DocumentKind(kind).label.lower()
            missing = needed - have
            problems.append(f"Add {missing} more {label}{'s' if missing > 1 else ''}.")
    return problems


def submission_problems(requirement, *, account, identity, address, documents, numbers=()):
    """What keeps ``identity``, ``address`` and ``documents`` from meeting ``requirement``
    for ``account`` (each must be the account's own and not archived)."""
    problems = {}
    for field, value in (("identity", identity), ("address", address)):
        if value is not None and (value.account_id != account.pk or value.archived_at):
            problems[field] = [f"This {field} is not available: choose another."]
    if any(d.account_id != account.pk or d.archived_at for d in documents):
        problems["documents"] = ["A document is not available: choose another."]
    found = {
        "identity": identity_problems(requirement, identity),
        "address": address_problems(requirement, address, numbers),
        "documents": document_problems(requirement, documents),
    }
    for field, messages in found.items():
        if messages:
            problems.setdefault(field, []).extend(messages)
    return problems
