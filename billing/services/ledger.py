"""Writes on the prepaid ledger. Every movement of money goes through ``ledger_post``.

The wrappers (``topup_record``, ``adjustment_record``, ``refund_record``, ``charge``) check
who may do what and fill in the kind-specific fields; ``ledger_post`` is the one atomic
unit that locks the balance, refuses overdrafts, writes the entry and the cached balance,
and is idempotent on ``idempotency_key``. It is a batch of one: ``LedgerBatch`` holds the
rules, and the renewal run posts many debits through it at once.

This module imports nothing above the ledger: a top-up enqueues the
``resume_subscriptions`` task by name after commit.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from celery import signature
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.utils import timezone

from accounts.permissions import is_finance, may_record_topup_for
from didportal.enqueue import enqueue
from webhooks.services import events_emit

from ..models import Balance, LedgerEntry
from ..notifications import low_balance_email_send

CENT = Decimal("0.01")
# DecimalField(max_digits=14, decimal_places=2) holds up to 12 integer digits.
AMOUNT_LIMIT = Decimal("1e12")

RESUME_TASK = "billing.tasks.resume_subscriptions"

Kind = LedgerEntry.Kind
Method = LedgerEntry.Method


class InsufficientBalance(ValidationError):
    """A debit would take the balance below zero. ``account`` is whose balance was short
    (with two sides charged together — a reseller's customer and the reseller — the caller
    tells them apart by it)."""

    def __init__(self, *, balance, amount, currency, account=None):
        self.balance = balance
        self.amount = -amount
        self.shortfall = self.amount - balance
        self.account = account
        whose = f" of {account}" if account is not None else ""
        super().__init__(
            f"Insufficient balance: the balance{whose} is {balance} {currency}, the amount "
            f"is {self.amount} {currency}, {self.shortfall} {currency} short.",
            code="insufficient_balance",
        )

    @property
    def account_id(self):
        return getattr(self.account, "pk", None)


class IdempotencyConflict(ValidationError):
    """The idempotency key was already used for a different posting."""


class TopupDuplicate(ValidationError):
    """The payment reference was already credited by another top-up: nothing was credited."""

    def __init__(self, *, original):
        self.original = original
        super().__init__(
            f"Duplicate: the reference “{original.external_reference}” was already credited "
            f"on {timezone.localtime(original.created_at):%-d %b %Y} "
            f"({original.amount} {original.account.currency} to {original.account}). "
            "Nothing was credited now."
        )


def money(value) -> Decimal:
    """A ledger amount: Decimal, rounded half-up to cents, here and only here."""
    if isinstance(value, float):
        raise TypeError("Money is Decimal: pass a Decimal, an int or a string, not a float.")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError(f"“{value}” is not an amount.") from exc
    if not amount.is_finite() or abs(amount) >= AMOUNT_LIMIT:
        raise ValidationError(f"“{value}” is not a valid amount.")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _check_sign(kind, amount):
    valid = {
        Kind.TOPUP: amount > 0,
        Kind.REFUND: amount > 0,
        Kind.CHARGE: amount < 0,
        Kind.ADJUSTMENT: amount != 0,
        Kind.PAYOUT: amount < 0,
    }
    if kind not in valid:
        raise ValidationError(f"Unknown ledger entry kind “{kind}”.")
    if not valid[kind]:
        raise ValidationError(f"A {kind} of {amount} has the wrong sign.")


def _existing_entry(idempotency_key, *, account, kind, amount):
    if not idempotency_key:
        return None
    entry = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
    if entry is None:
        return None
    if (entry.account_id, entry.kind, entry.amount) != (account.pk, kind, amount):
        raise IdempotencyConflict(
            f"The key “{idempotency_key}” was already used for a {entry.kind} of "
            f"{entry.amount} on another posting."
        )
    return entry


def _locked_balance(account) -> Balance:
    # get_or_create retries the get after an IntegrityError, so two first postings racing
    # to create the row end with one row, locked by whichever gets it second.
    balance, _ = Balance.objects.select_for_update().get_or_create(account=account)
    return balance


def balance_lock(account) -> Balance:
    """Lock ``account``'s balance row until commit: checkout holds it while it sells, so an
    account's orders and charges go one at a time and the balance it checked stays true."""
    return _locked_balance(account)


def balances_lock(accounts) -> dict:
    """Lock the balance rows of ``accounts`` (Nones ignored) until commit, with one
    ``SELECT … FOR UPDATE`` in account-pk order (the lock order everywhere), creating the
    missing rows first. Returns {account pk: Balance}. Checkout locks a reseller's customer
    and the reseller together this way."""
    ids = sorted({account.pk for account in accounts if account is not None})
    missing = set(ids) - set(
        Balance.objects.filter(account_id__in=ids).values_list("account_id", flat=True)
    )
    if missing:
        Balance.objects.bulk_create(
            [Balance(account_id=pk) for pk in sorted(missing)], ignore_conflicts=True
        )
    locked = Balance.objects.select_for_update().filter(account_id__in=ids).order_by("account_id")
    return {balance.account_id: balance for balance in locked}


def _balance_move(balance, new_amount) -> bool:
    """Set the new cached amount and the low-balance flag (in memory); True when this
    movement crosses below the threshold and the low-balance e-mail is due (once per
    crossing: the flag clears when the balance is back at or above the threshold)."""
    old_amount, threshold = balance.amount, balance.low_balance_threshold
    balance.amount = new_amount
    if new_amount >= threshold:
        balance.low_balance_notified = False
    elif new_amount < old_amount and not balance.low_balance_notified:
        balance.low_balance_notified = True
        return True
    return False


@transaction.atomic
def ledger_post(
    *,
    account,
    kind,
    amount,
    idempotency_key,
    description="",
    reference=None,
    created_by=None,
    job="",
    **extra,
) -> LedgerEntry:
    """Post one entry and update the cached balance; a repeated key returns the first entry.

    A batch of one (``LedgerBatch``), so a single posting and the renewal run's batches
    follow the same rules. ``reference`` is an optional ``(type, id)`` pair, e.g.
    ``("order", 17)``. ``extra`` holds the kind-specific fields: ``method`` and
    ``external_reference`` (top-ups), ``reason`` (adjustments).
    """
    amount = money(amount)
    existing = _existing_entry(idempotency_key, account=account, kind=kind, amount=amount)
    if existing is not None:
        return existing
    batch = LedgerBatch(job=job, created_by=created_by)
    batch.balances[account.pk] = _locked_balance(account)
    entry = batch.add(
        account=account,
        kind=kind,
        amount=amount,
        idempotency_key=idempotency_key,
        description=description,
        reference=reference,
        **extra,
    )
    try:
        with transaction.atomic():
            batch.post()
    except IntegrityError:
        # Another transaction committed the same key after our first look.
        existing = _existing_entry(idempotency_key, account=account, kind=kind, amount=amount)
        if existing is None:
            raise
        return existing
    return entry


def update_rows(objs, fields, *, chunk=1000):
    """Write ``fields`` of saved model instances ``objs`` (one model) to their rows, one
    ``UPDATE … FROM (VALUES …)`` statement per ``chunk`` rows.

    What ``bulk_update`` does, without its per-row CASE expressions, which cost more Python
    time than the whole renewal. Values go through each field's ``get_db_prep_save`` as in
    ``save()``; on PostgreSQL each is cast to its column type.
    """
    if not objs:
        return
    meta = type(objs[0])._meta
    connection = connections[router.db_for_write(type(objs[0]))]
    qn = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    if connection.vendor == "postgresql":
        row = ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in columns)
    else:
        row = ", ".join("%s" for _ in columns)
    names = ", ".join(f"v{i}" for i in range(len(columns)))
    table = qn(meta.db_table)
    assign = ", ".join(f"{qn(field.column)} = v.v{i}" for i, field in enumerate(columns) if i)
    for first in range(0, len(objs), chunk):
        part = objs[first : first + chunk]
        values = ", ".join(f"({row})" for _ in part)
        params = [
            field.get_db_prep_save(getattr(obj, field.attname), connection)
            for obj in part
            for field in columns
        ]
        # Only quoted names from the model's meta are formatted in; values are parameters.
        # (The statement starts with UPDATE, so SQLite reports its rowcount.)
        sql = (
            f"UPDATE {table} SET {assign} "  # noqa: S608
            f"FROM (WITH v({names}) AS (VALUES {values}) SELECT * FROM v) AS v "
            f"WHERE {table}.{qn(meta.pk.column)} = v.v0"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            updated = cursor.rowcount
        if updated != len(part):
            raise DatabaseError(f"{meta.db_table}: {updated} of {len(part)} rows updated")


class LedgerBatch:
    """Ledger entries on one or many accounts, posted together: the one implementation of
    the ledger's rules. ``ledger_post`` is a batch of one; the renewal run posts a claimed
    batch's debits with a few statements whatever its size.

    ``lock`` takes every account's balance row in one ``SELECT … FOR UPDATE`` (in account
    order, as one-by-one postings would); ``add`` checks an entry (rounding, sign, key,
    author) and, for a debit, the running balance in memory (raising
    ``InsufficientBalance`` and changing nothing when it does not cover it), and stages it
    with the running ``balance_after``; ``post`` writes every staged entry with one INSERT,
    every moved balance with one UPDATE and the low-balance e-mails (once per crossing,
    with the balance right after the crossing debit). Call all of it inside the caller's
    transaction.

    ``add`` looks up no existing key: the caller does (``ledger_post``) or guarantees its
    keys are new (the renewal run holds the subscription rows whose next period each key
    names). The unique key backs it: a repeated key makes ``post`` raise ``IntegrityError``.
    """

    def __init__(self, *, job="", created_by=None):
        if created_by is None and not job:
            raise ValidationError("A ledger entry needs an author: created_by or job.")
        self.job = job
        self.created_by = created_by
        self.balances = {}
        self._entries = []
        self._moved = {}
        self._emails = []

    def lock(self, account_ids):
        locked = Balance.objects.select_for_update().filter(account_id__in=set(account_ids))
        self.balances.update((b.account_id, b) for b in locked.order_by("account_id"))

    def add(
        self, *, account, kind, amount, idempotency_key, description="", reference=None, **extra
    ):
        """Stage an entry of ``amount`` (signed) on a locked account; returns the unsaved
        entry. An account without a balance row has nothing to spend."""
        amount = money(amount)
        _check_sign(kind, amount)
        if not idempotency_key:
            raise ValidationError("An idempotency key is required.")
        balance = self.balances.get(account.pk)
        current = balance.amount if balance is not None else Decimal("0.00")
        new_amount = current + amount
        if new_amount < 0:
            raise InsufficientBalance(
                balance=current, amount=amount, currency=account.currency, account=account
            )
        reference_type, reference_id = reference or ("", "")
        entry = LedgerEntry(
            account=account,
            kind=kind,
            amount=amount,
            balance_after=new_amount,
            idempotency_key=idempotency_key,
            reference_type=reference_type,
            reference_id=str(reference_id),
            description=description,
            created_by=self.created_by,
            created_by_job=self.job,
            **extra,
        )
        self._entries.append(entry)
        self._moved[account.pk] = balance
        if _balance_move(balance, new_amount):
            self._emails.append((account.pk, new_amount, balance.low_balance_threshold))
        return entry

    def charge(self, *, account, amount, idempotency_key, description="", reference=None):
        """Stage a debit of ``amount`` (positive)."""
        if money(amount) <= 0:
            raise ValidationError("A charge amount must be positive.")
        return self.add(
            account=account,
            kind=Kind.CHARGE,
            amount=-money(amount),
            idempotency_key=idempotency_key,
            description=description,
            reference=reference,
        )

    def charge_all(self, debits):
        """Stage several debits (dicts of ``charge``'s keywords) all or nothing: when one
        does not pass (``InsufficientBalance`` on any account, a bad amount), none is
        staged and the batch is as before. A reseller's customer's period is charged this
        way: the customer's sale and the reseller's wholesale debit. Returns the entries."""
        saved = (
            len(self._entries),
            dict(self._moved),
            len(self._emails),
            {pk: (b.amount, b.low_balance_notified) for pk, b in self.balances.items() if b},
        )
        try:
            return [self.charge(**debit) for debit in debits]
        except Exception:
            entries, moved, emails, amounts = saved
            del self._entries[entries:]
            del self._emails[emails:]
            self._moved = moved
            for pk, (amount, notified) in amounts.items():
                self.balances[pk].amount, self.balances[pk].low_balance_notified = amount, notified
            raise

    def post(self):
        """Write the staged entries and balances; queue the low-balance e-mails."""
        LedgerEntry.objects.bulk_create(self._entries)
        moved = list(self._moved.values())
        now = timezone.now()
        for balance in moved:
            balance.updated_at = now
        update_rows(moved, ["amount", "low_balance_notified", "updated_at"])
        for account_id, amount, threshold in self._emails:
            low_balance_email_send(account_id=account_id, balance=amount, threshold=threshold)
        events_emit(
            [
                (pk, "balance.low", {"balance": amount, "threshold": threshold})
                for pk, amount, threshold in self._emails
            ]
        )
        self._entries, self._moved, self._emails = [], {}, []


def _check_finance_or_job(actor, job):
    """Finance staff record money by hand; a job (payment provider, task) records it alone."""
    if actor is None:
        if not job:
            raise PermissionDenied("Only finance staff or a named job may record this.")
    elif not is_finance(actor):
        raise PermissionDenied("Only finance staff may record this.")


def _check_may_record_for(actor, job, account):
    """Money received for ``account`` is recorded by whoever collects it
    (``accounts.permissions.may_record_topup_for``: the platform for resellers and direct
    customers, a reseller for its own customers), or by a named job."""
    if actor is None:
        _check_finance_or_job(actor, job)
    elif not may_record_topup_for(actor, account):
        raise PermissionDenied(f"You may not record money for {account}.")


def _topup_by_reference(method, external_reference):
    """The top-up that credited this payment reference, if any."""
    return (
        LedgerEntry.objects.filter(
            kind=Kind.TOPUP, method=method, external_reference=external_reference
        )
        .select_related("account")
        .first()
    )


def _refuse_used_reference(method, external_reference, idempotency_key):
    """A reference credits once: a repeat of the same request (same key) is answered by
    ``ledger_post`` with the first entry; any other use of the reference is a duplicate."""
    original = _topup_by_reference(method, external_reference)
    if original is not None and original.idempotency_key != idempotency_key:
        raise TopupDuplicate(original=original)


def topup_record(
    *,
    account,
    amount,
    external_reference,
    actor,
    method=Method.BANK_TRANSFER,
    idempotency_key=None,
    job="",
    description="",
) -> LedgerEntry:
    """Credit money received. One payment reference credits once (a database constraint):
    repeating the same request (same ``idempotency_key``) returns the first entry; using
    the reference again otherwise raises ``TopupDuplicate`` naming the original."""
    _check_may_record_for(actor, job, account)
    if method not in Method.values:
        raise ValidationError(f"Unknown payment method “{method}”.")
    external_reference = external_reference.strip()
    if not external_reference:
        raise ValidationError("A top-up needs the payment's reference.")
    amount = money(amount)
    if amount <= 0:
        raise ValidationError("A top-up amount must be positive.")
    idempotency_key = idempotency_key or f"topup:{method}:{external_reference}"
    _refuse_used_reference(method, external_reference, idempotency_key)
    try:
        entry = ledger_post(
            account=account,
            kind=Kind.TOPUP,
            amount=amount,
            idempotency_key=idempotency_key,
            description=description or f"{Method(method).label} {external_reference}",
            created_by=actor,
            job=job,
            method=method,
            external_reference=external_reference,
        )
    except IntegrityError:
        # Another request credited the same reference after our look.
        _refuse_used_reference(method, external_reference, idempotency_key)
        raise
    # Held subscriptions resume in a worker once the money is in, never in this request.
    account_id = account.pk
    transaction.on_commit(lambda: _resume_enqueue(account_id), robust=True)
    return entry


def _resume_enqueue(account_id):
    """Hand the account's held subscriptions to the ``resume_subscriptions`` task, named
    rather than imported: the ledger sits below subscriptions. A lost enqueue is caught up
    by the renewal run's resume pass."""
    enqueue(signature(RESUME_TASK), account_id, catch_up="renew_subscriptions")


def adjustment_record(*, account, amount, reason, actor, idempotency_key, job="") -> LedgerEntry:
    """A manual correction by finance, either sign, always with a reason."""
    _check_may_record_for(actor, job, account)
    reason = reason.strip()
    if not reason:
        raise ValidationError("An adjustment needs a reason.")
    return ledger_post(
        account=account,
        kind=Kind.ADJUSTMENT,
        amount=amount,
        idempotency_key=idempotency_key,
        description=f"Adjustment: {reason}"[:255],
        created_by=actor,
        job=job,
        reason=reason,
    )


def refund_record(
    *, account, amount, idempotency_key, description="", reference=None, actor=None, job=""
) -> LedgerEntry:
    """Give money back (positive ``amount``), by finance or by a job such as a failed order."""
    _check_finance_or_job(actor, job)
    return ledger_post(
        account=account,
        kind=Kind.REFUND,
        amount=amount,
        idempotency_key=idempotency_key,
        description=description or "Refund",
        reference=reference,
        created_by=actor,
        job=job,
    )


def payout_record(
    *, account, amount, idempotency_key, description, reference=None, actor=None, job=""
) -> LedgerEntry:
    """Money leaving the balance back to the payer (positive ``amount``): unused balance
    paid out by finance, or a card payment refunded at the provider (a job). Raises
    ``InsufficientBalance`` rather than take the balance below zero; the caller locks the
    balance first (``balance_lock``) when it must pay out at most what is there. A user
    pays out for the accounts whose money they collect (``may_record_topup_for``)."""
    _check_may_record_for(actor, job, account)
    amount = money(amount)
    if amount <= 0:
        raise ValidationError("A payout amount must be positive.")
    return ledger_post(
        account=account,
        kind=Kind.PAYOUT,
        amount=-amount,
        idempotency_key=idempotency_key,
        description=description,
        reference=reference,
        created_by=actor,
        job=job,
    )


def charge(
    *, account, amount, idempotency_key, description="", reference=None, created_by=None, job=""
) -> LedgerEntry:
    """Debit a price (positive ``amount``) for checkout or a renewal.

    The caller decides who may buy and supplies a key that names the thing paid for
    (e.g. ``order:17``, ``subscription_period:42``), so a retry charges once.
    """
    amount = money(amount)
    if amount <= 0:
        raise ValidationError("A charge amount must be positive.")
    return ledger_post(
        account=account,
        kind=Kind.CHARGE,
        amount=-amount,
        idempotency_key=idempotency_key,
        description=description,
        reference=reference,
        created_by=created_by,
        job=job,
    )
