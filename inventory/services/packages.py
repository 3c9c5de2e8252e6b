"""Packages given to accounts and numbers assigned under them."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..choices import OWNED_STATUSES, DIDStatus
from ..models import DID, ClientPackage
from . import dependents
from .transitions import did_transition, dids_transition, reason_text

S = DIDStatus

# --- Packages ----------------------------------------------------------------------------


@transaction.atomic
def client_package_assign(*, account, package, start_date, actor):
    if not package.active:
        raise ValidationError(f"The package {package} is not active.")
    client_package = ClientPackage(account=account, package=package, start_date=start_date)
    client_package._change_reason = "package assigned"
    client_package._history_user = actor
    client_package.full_clean()
    client_package.save()
    return client_package


def held_under(client_package):
    return DID.objects.filter(client_package=client_package, status__in=OWNED_STATUSES)


@transaction.atomic
def did_assign(*, did, account, client_package, actor):
    """Give an in-stock (or reserved) number to ``account`` under one of its packages.

    What depends on the number starts in the same transaction (billing: its subscription at
    the package's price per number, else the number's own price, first period charged).
    Locks in the order everywhere: the account's balance (through ``dependents``), the
    package, the number.
    """
    dependents.lock_for_assignment(account=account)
    # The package row lock serialises assignments under it, so the count below is exact.
    client_package = (
        ClientPackage.objects.select_for_update(of=("self",))
        .select_related("package")
        .get(pk=client_package.pk)
    )
    if client_package.account_id != account.pk:
        raise ValidationError(f"This package does not belong to {account}.")
    if not client_package.active:
        raise ValidationError(f"The package {client_package.package} is not active.")
    held = held_under(client_package).count()
    limit = client_package.package.max_dids
    if held >= limit:
        raise ValidationError(
            f"The package {client_package.package} allows {limit} numbers "
            f"and {account} already holds {held}."
        )
    did = did_transition(
        did=did,
        to_status=S.ACTIVE,
        owner=account,
        client_package=client_package,
        actor=actor,
        reason=f"assigned to {account} under {client_package.package}",
    )
    dependents.number_assigned(
        did=did, client_package=client_package, actor=actor, now=timezone.now()
    )
    return did


def _client_package_set_active(client_package, *, active, actor, job, reason):
    client_package = ClientPackage.objects.select_for_update().get(pk=client_package.pk)
    client_package.active = active
    client_package._change_reason = reason_text(reason=reason, job=job, actor=actor)
    client_package._history_user = actor
    client_package.save(update_fields=["active"])
    return client_package


@transaction.atomic
def client_package_deactivate(*, client_package, actor=None, job=None):
    """Every number held under the package goes on hold, keeping its owner and destination."""
    client_package = _client_package_set_active(
        client_package, active=False, actor=actor, job=job, reason="package deactivated"
    )
    dids_transition(
        dids_queryset_or_ids=held_under(client_package).filter(status=S.ACTIVE),
        to_status=S.HOLD,
        actor=actor,
        job=job,
        reason=f"package {client_package.package} deactivated",
    )
    return client_package


@transaction.atomic
def client_package_reactivate(*, client_package, actor=None, job=None):
    """Numbers still on hold under the package become active again."""
    client_package = _client_package_set_active(
        client_package, active=True, actor=actor, job=job, reason="package reactivated"
    )
    dids_transition(
        # A number also held for an unpaid renewal stays on hold until it is paid.
        dids_queryset_or_ids=held_under(client_package).filter(status=S.HOLD, unpaid=False),
        to_status=S.ACTIVE,
        actor=actor,
        job=job,
        reason=f"package {client_package.package} reactivated",
    )
    return client_package
