"""Payment references for bank transfers: each account's ISO 11649 creditor reference.

An account's reference is "RF", two check digits and a body of exactly ``BODY_LENGTH``
digits (the account id, zero-padded): ``RF34 0000 0000 0042``. It never changes, and the
check digits (ISO 7064 mod 97-10) catch a mistyped digit or two swapped digits, so a
mistyped reference matches no account rather than the wrong one.

The body has a fixed length so a reference can be found in free remittance text without
guessing where it ends: "RF" + 2 + 12 digits, spaces and dashes allowed anywhere between
them, and no letter or digit glued to either end. Trying shorter or longer bodies would
let a mistyped reference pass the check by chance (1 in 97 for each length tried).

This module imports no models: billing (below payments) prints references too.
"""

import re

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

BODY_LENGTH = 12
_SEPARATOR = r"[\s\-]*"
_CANDIDATE = re.compile(
    r"(?<![A-Z0-9])RF(?:" + _SEPARATOR + r"\d){" + str(2 + BODY_LENGTH) + r"}(?![A-Z0-9])"
)


def reference_for(account_id) -> str:
    """The account's reference, compact: ``RF340000000000042``."""
    body = f"{int(account_id):0{BODY_LENGTH}d}"
    if len(body) != BODY_LENGTH:
        raise ValueError(f"Account id {account_id} does not fit a payment reference.")
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def reference_display(account_id) -> str:
    """The account's reference in groups of four, as printed: ``RF34 0000 0000 0042``."""
    return iso11649.format(reference_for(account_id))


def references_in(text) -> list[str]:
    """The valid references of our form found in ``text`` (compact, in order, once each).
    Case, spaces and dashes do not matter; a reference whose check digits do not fit its
    body is left out."""
    found = []
    for match in _CANDIDATE.finditer(str(text or "").upper()):
        compact = re.sub(r"[\s\-]", "", match.group(0))
        if iso11649.is_valid(compact) and compact not in found:
            found.append(compact)
    return found


def account_id_of(reference) -> int | None:
    """The account id a reference of our form names, or None (not ours, or invalid)."""
    compact = re.sub(r"[\s\-]", "", str(reference or "").upper())
    if len(compact) != 4 + BODY_LENGTH or not compact[4:].isdigit():
        return None
    if not iso11649.is_valid(compact):
        return None
    return int(compact[4:])


def account_for_reference(text, accounts=None):
    """The one account whose reference appears in ``text``, or None.

    ``accounts`` (a queryset) limits the search, e.g. to the accounts one seller collects
    for: a reference of any other account is not a match. Text naming two different
    accounts matches neither (a person decides)."""
    ids = {account_id_of(reference) for reference in references_in(text)}
    if len(ids) != 1:
        return None
    if accounts is None:
        from accounts.models import Account  # noqa: PLC0415 (no models at import)

        accounts = Account.objects.exclude(kind=Account.Kind.PLATFORM)
    return accounts.filter(pk=ids.pop()).first()
