"""Writes of the catalog: its read model (stock counts) and resellers' price lists."""

import copy

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.branding import brand_for_account
from accounts.models import Role
from accounts.permissions import may_edit_price_list
from outbox.services import email_queue

from .models import MarkupRule, RenewalPriceChange, StockDelta
from .pricing import price_list_forget


@transaction.atomic
def stock_compact():
    """Fold each block's delta rows into one. Safe to run any time, twice or concurrently:
    it deletes only the rows it sees and puts back their sums in the same transaction."""
    table = StockDelta._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH gone AS (DELETE FROM {table} RETURNING block_id, delta) "  # noqa: S608
                f"INSERT INTO {table} (block_id, delta) "
                "SELECT block_id, sum(delta) FROM gone GROUP BY block_id HAVING sum(delta) <> 0"
            )
        else:  # SQLite: one writer at a time, so read-then-replace is safe.
            cursor.execute(f"SELECT block_id, sum(delta) FROM {table} GROUP BY block_id")  # noqa: S608
            sums = cursor.fetchall()
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.executemany(
                f"INSERT INTO {table} (block_id, delta) VALUES (%s, %s)",  # noqa: S608
                [row for row in sums if row[1]],
            )


# --- Resellers' price lists -------------------------------------------------------------------

RULE_FIELDS = (
    "scope",
    "country",
    "number_type",
    "block",
    *(f"{part}_{kind}" for part, _ in MarkupRule.PARTS for kind in ("percent", "fixed")),
    "rounding",
)
TARGET_FIELD = {
    MarkupRule.Scope.COUNTRY: "country",
    MarkupRule.Scope.NUMBER_TYPE: "number_type",
    MarkupRule.Scope.BLOCK: "block",
}


def _require_editor(actor, reseller):
    if not (
        reseller.is_reseller and may_edit_price_list(actor) and actor.account_id == reseller.pk
    ):
        raise PermissionDenied("Only the reseller's admins may change its price list.")


def markup_rule_build(*, reseller, rule=None, **fields) -> MarkupRule:
    """An unsaved rule of ``reseller`` (``rule`` changed, or a new one) with ``fields``
    (``RULE_FIELDS``; the scope's target only — the others are cleared), checked field by
    field: ValidationError naming the field. The preview shows it; ``markup_rule_save``
    saves it."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown rule fields: {', '.join(sorted(unknown))}")
    if rule is None:
        rule = MarkupRule(reseller=reseller)
    elif rule.reseller_id != reseller.pk:
        raise PermissionDenied("This rule belongs to another reseller.")
    else:
        rule = copy.copy(rule)
    for name, value in fields.items():
        setattr(rule, name, value)
    target = TARGET_FIELD.get(rule.scope)
    if target != "country":
        rule.country = ""
    if target != "number_type":
        rule.number_type = ""
    if target != "block":
        rule.block = None
    try:
        rule.full_clean(exclude=["reseller"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    _check_target_free(rule)
    return rule


def _check_target_free(rule):
    """One rule per reseller and scope target: a second one names the field."""
    target = TARGET_FIELD.get(rule.scope)
    lookup = {"scope": rule.scope}
    if target:
        lookup[f"{target}_id" if target == "block" else target] = (
            rule.block_id if target == "block" else getattr(rule, target)
        )
    taken = MarkupRule.objects.filter(reseller_id=rule.reseller_id, **lookup).exclude(pk=rule.pk)
    if taken.exists():
        raise ValidationError(
            {
                target or "scope": f"Your price list already has a rule for "
                f"{rule.target_label}: change that one instead."
            }
        )


@transaction.atomic
def markup_rule_save(*, reseller, actor, rule=None, now=None, **fields) -> MarkupRule:
    """Add a rule to ``reseller``'s price list, or change ``rule`` (``markup_rule_build``
    checks the fields). Recorded in the rule's history with ``actor``. New purchases use
    it at once; existing subscriptions keep their price (``RenewalPriceChange``)."""
    _require_editor(actor, reseller)
    if rule is not None:
        rule = MarkupRule.objects.select_for_update().get(pk=rule.pk, reseller=reseller)
    rule = markup_rule_build(reseller=reseller, rule=rule, **fields)
    rule.updated_at = now or timezone.now()
    if rule.pk is None:
        rule.created_at = rule.updated_at
    rule._history_user = actor
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:  # a twin saved the same target meanwhile
        _check_target_free(rule)
        raise
    price_list_forget(reseller)
    return rule


@transaction.atomic
def markup_rule_delete(*, rule, actor):
    """Remove ``rule`` from its reseller's price list (recorded with ``actor``)."""
    _require_editor(actor, rule.reseller)
    rule._history_user = actor
    rule.delete()
    price_list_forget(rule.reseller)


@transaction.atomic
def renewal_price_change_cancel(*, change, actor, now=None) -> RenewalPriceChange:
    """Cancel a scheduled change before its date; its customers are told their prices stay
    (one e-mail per customer account, to its admins)."""
    now = now or timezone.now()
    change = (
        RenewalPriceChange.objects.select_for_update().select_related("reseller").get(pk=change.pk)
    )
    _require_editor(actor, change.reseller)
    if change.status != RenewalPriceChange.Status.SCHEDULED:
        raise ValidationError(f"This change is already {change.get_status_display().lower()}.")
    if change.effective_on <= timezone.localdate(now):
        raise ValidationError("This change takes effect today: it can no longer be cancelled.")
    change.status = RenewalPriceChange.Status.CANCELLED
    change.cancelled_by = actor
    change.cancelled_at = now
    change.save(update_fields=["status", "cancelled_by", "cancelled_at"])
    for account, lines in lines_by_customer(change):
        recipients = customer_admin_emails(account)
        seller = brand_for_account(account).name
        if not recipients:
            continue
        numbers = "\n".join(f"- {line.description}: {line.old_recurring}" for line in lines)
        email_queue(
            to=recipients,
            subject=f"{seller}: the price change of {change.effective_on} is cancelled",
            text=(
                f"Hello {account},\n\n{seller} has cancelled the price change it "
                f"announced for renewals from {change.effective_on:%d %B %Y}. Your numbers "
                f"keep their current prices:\n\n{numbers}\n"
            ),
            key=f"renewal-price-change:{change.pk}:cancelled:{account.pk}",
            account=account,
        )
    return change


def lines_by_customer(change):
    """(customer account, its lines) of ``change``, by account."""
    lines = change.lines.select_related("account").order_by("account_id", "description", "pk")
    grouped = {}
    for line in lines:
        grouped.setdefault(line.account_id, (line.account, []))[1].append(line)
    return list(grouped.values())


def customer_admin_emails(account):
    """The e-mail addresses of ``account``'s active admins."""
    return list(
        account.users.filter(is_active=True, role=Role.CUSTOMER_ADMIN)
        .order_by("email")
        .values_list("email", flat=True)
    )
