"""Reads on requirements and agreements, scoped to the requesting user where tenants matter.

Which requirements apply to a number: **only the block's own ``requirement``, when it is
active.** A requirement's country and number type describe it (and help the admin pick it in
the block form) but never attach it by themselves. Matching by country/type as well would make
checkout ask for agreements the catalog does not announce (its "Documents required" badge and
filter read the block's link), and would give an admin no way to exempt one block of a country;
one explicit link keeps catalog, checkout and the console telling the same story.
"""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from accounts.scoping import get_scoped_or_404, scoped

from .models import Requirement, RequirementAgreement, RequirementVersion, Submission


def requirements_for_blocks(blocks):
    """The active requirements that apply to ``blocks`` (NumberBlock objects, or anything
    with ``requirement_id``): de-duplicated, ordered by country, number type, title and id.
    One query; none when no block has a requirement."""
    ids = {block.requirement_id for block in blocks if block.requirement_id}
    if not ids:
        return []
    return list(
        Requirement.objects.filter(pk__in=ids, active=True).order_by(
            "country", "number_type", "title", "pk"
        )
    )


def approved_requirement_ids(account, requirements):
    """The ids among ``requirements`` that ``account`` has an approved registration for (one
    query; none when ``requirements`` is empty)."""
    ids = [r.pk for r in requirements]
    if not ids:
        return set()
    approved = Submission.objects.filter(
        account=account, requirement_id__in=ids, status=Submission.Status.APPROVED
    )
    return set(approved.values_list("requirement_id", flat=True))


def requirements_at_versions(seen):
    """``{requirement_id: version shown to the buyer}`` → Requirement objects carrying the
    version the buyer saw (what ``services.agreements_record`` records and checks)."""
    requirements = list(Requirement.objects.filter(pk__in=list(seen)).order_by("pk"))
    for requirement in requirements:
        requirement.version = seen[requirement.pk]
    return requirements


def _count_of(relation):
    """How many rows of a reverse relation each requirement has, as a correlated subquery
    (two plain joins would multiply blocks by agreements)."""
    counts = Requirement.objects.filter(pk=OuterRef("pk")).annotate(n=Count(relation)).values("n")
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def requirements_for_console(*, country="", active=None):
    """Requirements with how many blocks use each and how many agreements were recorded:
    one query however many there are."""
    requirements = Requirement.objects.annotate(
        block_count=_count_of("blocks"), agreement_count=_count_of("agreements")
    )
    if country:
        requirements = requirements.filter(country=country)
    if active is not None:
        requirements = requirements.filter(active=active)
    return requirements.order_by("-active", "country", "number_type", "title", "pk")


def requirement_versions(requirement):
    return RequirementVersion.objects.filter(requirement=requirement).select_related("created_by")


def requirement_public(pk):
    """A requirement's current text; public (the catalog links to it), active or not."""
    return get_object_or_404(Requirement, pk=pk)


def agreements_for(user, account=None, requirement=None):
    """Agreements ``user`` may see (their account's; a reseller's customers'; platform staff:
    all), newest first, optionally for one account or one requirement."""
    agreements = scoped(
        RequirementAgreement.objects.select_related("account", "user", "requirement"), user
    )
    if account is not None:
        agreements = agreements.filter(account=account)
    if requirement is not None:
        agreements = agreements.filter(requirement=requirement)
    return agreements.order_by("-agreed_at", "-pk")


def agreement_for(user, pk):
    """One agreement the user may see, or 404 (another tenant's is "not found" too)."""
    return get_scoped_or_404(
        RequirementAgreement.objects.select_related("account", "user", "requirement"),
        user,
        pk=pk,
    )


def agreed_text(agreement):
    """The words the buyer agreed to (the version kept when agreeing), or None."""
    return RequirementVersion.objects.filter(
        requirement_id=agreement.requirement_id, version=agreement.requirement_version
    ).first()
