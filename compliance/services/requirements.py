"""Writes on requirements and agreements. Views, the admin, checkout and the demo call these.

- ``requirement_save``: platform admins create and edit requirements; a changed title or text
  becomes a new version (kept in ``RequirementVersion``), so agreements stay tied to the exact
  words accepted.
- ``agreements_record``: checkout's ``order_place`` records the buyer's "I agree" for each
  requirement of the order, inside its own transaction; a retry records nothing new.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_ipv46_address
from django.db import transaction
from django.utils import timezone

from accounts.permissions import is_platform_admin, may_serve_customer
from inventory.choices import NumberType

from ..models import (
    AddressScope,
    IdentityField,
    IdentityType,
    NumberRegistration,
    Requirement,
    RequirementAgreement,
    RequirementVersion,
    text_sha256,
)

# What an admin may set; version, dates and authorship are the service's business.
EDITABLE_FIELDS = (
    "country",
    "number_type",
    "area",
    "title",
    "text",
    "internal_notes",
    "active",
    "identity_type",
    "identity_fields",
    "address_scope",
    "identity_proofs",
    "address_proofs",
    "company_proofs",
    "other_proofs",
    "deadline_days",
)
# Changing these changes what a buyer agrees to: a new version.
VERSIONED_FIELDS = ("title", "text")


def normalize_text(value: str) -> str:
    """One spelling of a text: browsers post CRLF line ends, and trailing blanks are noise.

    Without this, re-saving an unchanged form would count as a new version."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _version_snapshot(requirement, *, actor=None, now=None):
    """The requirement's current title and text as ``RequirementVersion`` (created once)."""
    snapshot, _ = RequirementVersion.objects.get_or_create(
        requirement=requirement,
        version=requirement.version,
        defaults={
            "title": requirement.title,
            "text": requirement.text,
            "text_sha256": text_sha256(requirement.text),
            "created_at": now or timezone.now(),
            "created_by": actor,
        },
    )
    return snapshot


# Number types that belong to a place (a city or an area code); the others have no area.
GEOGRAPHIC_TYPES = ("", NumberType.LOCAL)
PROOF_FIELDS = ("identity_proofs", "address_proofs", "company_proofs", "other_proofs")
# The fields ``requirement_needs_problems`` reads: a save touching none of them (e.g. the
# active flag) is not held up by what was saved before.
NEEDS_FIELDS = frozenset(
    {"number_type", "area", "identity_type", "identity_fields", "address_scope", *PROOF_FIELDS}
)


def _blocks_without_place(requirement):
    """The blocks naming ``requirement`` that say no city or region (an "in the area"
    address has nothing to be compared with)."""
    if requirement.pk is None:
        return []
    return list(requirement.blocks.filter(city="", region="").order_by("pk")[:3])


def requirement_needs_problems(requirement):
    """What is inconsistent in what ``requirement`` (unsaved values) asks a registration
    for: ``{field: [message, …]}``, empty when it holds together. The console's form shows
    these on its fields and ``requirement_save`` refuses them, so no caller skips a rule."""
    problems = {}

    def add(field, message):
        problems.setdefault(field, []).append(message)

    identity_type = requirement.identity_type
    fields = list(requirement.identity_fields or ())
    unknown = [name for name in fields if name not in IdentityField.values]
    if unknown:
        add("identity_fields", f"Unknown identity details: {', '.join(map(str, unknown))}.")
    if fields and not identity_type:
        add(
            "identity_fields",
            "Choose an identity type before making identity details mandatory.",
        )
    elif identity_type == IdentityType.PERSONAL:
        for name in (IdentityField.COMPANY_NUMBER,):
            if name in fields:
                add(
                    "identity_fields",
                    f"A personal identity has no {IdentityField(name).label.lower()}: choose "
                    "“Business” or “Personal or business” as the identity type, or untick it.",
                )
        if requirement.company_proofs:
            add(
                "company_proofs",
                "A personal identity has no company registration to prove: set this to 0, "
                "or choose “Business” or “Personal or business” as the identity type.",
            )
    elif identity_type == IdentityType.BUSINESS and IdentityField.BIRTH_DATE in fields:
        add(
            "identity_fields",
            "A business has no date of birth: untick it, or choose “Personal or business”.",
        )

    scope = requirement.address_scope
    if requirement.address_proofs and not scope:
        add(
            "address_proofs",
            "Ask for an address (choose where it must be) before asking for proof of it.",
        )
    area = (requirement.area or "").strip()
    if area and requirement.number_type not in GEOGRAPHIC_TYPES:
        add(
            "area",
            f"{requirement.get_number_type_display()} numbers have no area: leave the area "
            "blank, or choose local numbers.",
        )
    if scope == AddressScope.AREA and not area:
        if requirement.number_type not in GEOGRAPHIC_TYPES:
            add(
                "address_scope",
                f"{requirement.get_number_type_display()} numbers have no city or area: ask "
                "for an address in the country instead.",
            )
        elif placeless := _blocks_without_place(requirement):
            names = ", ".join(str(block) for block in placeless)
            add(
                "address_scope",
                f"Blocks using this requirement have no city or region ({names}), so an "
                "address “in the number's area” cannot be checked: name the area above, "
                "or ask for an address in the country.",
            )

    if requirement.pk is not None and not requirement.needs_registration:
        waiting = NumberRegistration.objects.filter(
            requirement_id=requirement.pk, status=NumberRegistration.Status.AWAITING
        ).count()
        if waiting:
            add(
                "identity_type",
                f"{waiting} number{'s are' if waiting != 1 else ' is'} awaiting registration "
                "under this requirement: keep asking for at least one thing until "
                f"{'they are' if waiting != 1 else 'it is'} approved or cancelled.",
            )
    return problems


@transaction.atomic
def requirement_save(*, actor, requirement=None, **fields):
    """Create a requirement (``requirement=None``) or change one; platform admins only.

    A changed title or text raises ``version`` by one and keeps the new words as a
    ``RequirementVersion``; notes, country, number type and the active flag change in place.
    Raises ``ValidationError`` (by field) and saves nothing when a value is wrong.
    """
    if not is_platform_admin(actor):
        raise PermissionDenied("Only platform admins manage registration requirements.")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"requirement_save() got unexpected fields: {sorted(unknown)}")
    for name in ("title", "text"):
        if name in fields:
            fields[name] = normalize_text(fields[name] or "")
    now = timezone.now()

    if requirement is None:
        requirement = Requirement(created_at=now, version=1)
        changed_words = True
    else:
        requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
        changed_words = any(
            name in fields and fields[name] != getattr(requirement, name)
            for name in VERSIONED_FIELDS
        )
        if changed_words:
            # Keep the outgoing words too (requirements made before versions were kept).
            _version_snapshot(requirement, now=now)
            requirement.version += 1
    for name, value in fields.items():
        setattr(requirement, name, value)
    requirement.updated_at = now
    requirement.updated_by = actor
    if NEEDS_FIELDS & set(fields) and (problems := requirement_needs_problems(requirement)):
        raise ValidationError(problems)
    requirement.full_clean()
    requirement.save()
    if changed_words:
        _version_snapshot(requirement, actor=actor, now=now)
    return requirement


def _clean_ip(value):
    """A valid IPv4/IPv6 address or None: a malformed header never breaks a checkout."""
    if not value:
        return None
    try:
        validate_ipv46_address(value)
    except ValidationError:
        return None
    return value


@transaction.atomic
def agreements_record(
    *, user, account, requirements, order_id, ip_address, required=None, now=None
):
    """Record ``user``'s agreement, for ``account``, to each of ``requirements``.

    ``required`` (optional): the requirements the order needs, e.g.
    ``selectors.requirements_for_blocks(blocks)`` computed inside ``order_place``; if any of
    them is missing from ``requirements``, nothing is recorded and ``ValidationError`` names
    it — the server-side guarantee that an order cannot complete without every agreement.

    Each requirement is recorded at the version the buyer was shown: its ``.version``
    attribute (load the instances when the page is shown, or set ``.version`` from the posted
    form). If that is no longer the current version — an admin changed the text meanwhile —
    nothing is recorded and ``ValidationError`` names the requirement, so checkout can show
    the new text. Inactive requirements are refused likewise.

    Meant to run inside checkout's ``order_place`` transaction, with that order's id. A
    repeat with the same ``order_id`` (a retried or double-submitted checkout) returns the
    rows already recorded and adds none; the unique constraint makes that hold under
    concurrency too. Returns the agreements in the order of ``requirements``.
    """
    if user.account_id != account.pk and not may_serve_customer(user, account):
        # The buyer's own users agree; so may its reseller's team, buying on its behalf.
        raise ValidationError("Agreements are recorded for the buyer's own account.")
    wanted = {}
    for requirement in requirements:
        wanted.setdefault(requirement.pk, requirement.version)
    missing_agreements = [r for r in required or () if r.pk not in wanted]
    if missing_agreements:
        raise ValidationError(
            [f"Agree to “{r.title}” to complete the order." for r in missing_agreements]
        )
    if not wanted:
        return []
    now = now or timezone.now()
    current = Requirement.objects.in_bulk(list(wanted))
    errors = []
    for pk, seen_version in wanted.items():
        requirement = current.get(pk)
        if requirement is None or not requirement.active:
            errors.append(f"Requirement {pk} no longer applies; review your order again.")
        elif requirement.version != seen_version:
            errors.append(
                f"“{requirement.title}” was updated (now version {requirement.version}) "
                "while you were checking out. Read it again and agree to continue."
            )
    if errors:
        raise ValidationError(errors)

    existing = _agreements_for_order(account, order_id, wanted)
    missing = []
    for pk, version in wanted.items():
        if (pk, version) in existing:
            continue
        snapshot = _version_snapshot(current[pk], now=now)
        missing.append(
            RequirementAgreement(
                account=account,
                user=user,
                requirement_id=pk,
                requirement_version=version,
                title=snapshot.title,
                text_sha256=snapshot.text_sha256,
                order_id=order_id,
                agreed_at=now,
                ip_address=_clean_ip(ip_address),
            )
        )
    if missing:
        # A concurrent retry may have inserted the same rows: the constraint keeps one.
        RequirementAgreement.objects.bulk_create(missing, ignore_conflicts=order_id is not None)
        existing = _agreements_for_order(account, order_id, wanted)
    return [existing[(pk, version)] for pk, version in wanted.items()]


def _agreements_for_order(account, order_id, wanted):
    rows = RequirementAgreement.objects.filter(
        account=account, order_id=order_id, requirement_id__in=list(wanted)
    )
    found = {}
    for row in rows.order_by("pk"):
        found.setdefault((row.requirement_id, row.requirement_version), row)
    return {key: row for key, row in found.items() if key[1] == wanted[key[0]]}
