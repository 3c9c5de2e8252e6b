"""Set-based writes of many DIDs and their history rows, for 100,000 numbers in seconds.

simple-history's ``bulk_create_with_history`` / ``bulk_update_with_history`` build a Python
object per row (and Django's ``bulk_update`` a CASE per row): measured on PostgreSQL they
took ~30 s to add 100,000 numbers and ~10 minutes to move them. Here the rows go in with
COPY (PostgreSQL) or executemany, updates are one UPDATE per distinct outcome, and history
rows are copied from the current table state by INSERT ... SELECT, so they hold exactly
what ``bulk_*_with_history`` would have written (same columns, user, reason and date).

Business rules stay in ``services``; these helpers only move rows.
"""

from collections import defaultdict

from django.db import connection

from .models import DID

BATCH_SIZE = 5000
HISTORY_META_FIELDS = ("history_date", "history_change_reason", "history_type", "history_user")


def chunks(values, size=BATCH_SIZE):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _quote(name):
    return connection.ops.quote_name(name)


def _where_in(column, values):
    """``(sql, params)`` pieces selecting rows whose ``column`` is in ``values``.

    PostgreSQL takes the whole list as one array parameter (a statement with 5,000
    placeholders costs more to build than to run); other databases get IN chunks.
    """
    if connection.vendor == "postgresql":
        array_type = DID._meta.get_field(column).cast_db_type(connection)
        yield f"{_quote(column)} = ANY(%s::{array_type}[])", [list(values)]
        return
    for chunk in chunks(values):
        yield f"{_quote(column)} IN ({', '.join(['%s'] * len(chunk))})", list(chunk)


def existing_numbers(numbers, *, limit):
    """Up to ``limit`` of ``numbers`` that are already DIDs, sorted."""
    found = []
    with connection.cursor() as cursor:
        for where, params in _where_in("number", numbers):
            cursor.execute(
                f"SELECT number FROM {_quote(DID._meta.db_table)} "  # noqa: S608
                f"WHERE {where} ORDER BY number LIMIT {int(limit)}",
                params,
            )
            found += [row[0] for row in cursor.fetchall()]
            if len(found) >= limit:
                break
    return sorted(found)[:limit]


def _copy_text(value):
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    for raw, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        text = text.replace(raw, escaped)
    return text


def insert_dids(template, numbers):
    """Insert one DID per number, each a copy of the unsaved ``template`` but for the number.

    Database errors (a number added meanwhile) surface as Django's IntegrityError.
    """
    insert_dids_batches([(template, numbers)])


def insert_dids_batches(batches):
    """``insert_dids`` for several ``(template, numbers)`` pairs, in one COPY on PostgreSQL."""
    fields = [field for field in DID._meta.concrete_fields if not field.primary_key]
    number_index = fields.index(DID._meta.get_field("number"))
    table = _quote(DID._meta.db_table)
    columns = ", ".join(_quote(field.column) for field in fields)

    def row_of(template):
        return [
            field.get_db_prep_save(getattr(template, field.attname), connection) for field in fields
        ]

    with connection.wrap_database_errors, connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for template, numbers in batches:
                    # The row is the same but for the number: format it once, around the
                    # number (E.164 digits need no escaping), and send text blocks.
                    texts = [_copy_text(value) for value in row_of(template)]
                    before = "\t".join(texts[:number_index])
                    before = f"{before}\t" if before else ""
                    after = "\t".join(texts[number_index + 1 :])
                    after = f"\t{after}\n" if after else "\n"
                    for chunk in chunks(numbers, 10_000):
                        copy.write("".join(f"{before}{number}{after}" for number in chunk))
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            for template, numbers in batches:
                row = row_of(template)

                def rows(row=row, numbers=numbers):
                    for number in numbers:
                        row[number_index] = number
                        yield tuple(row)

                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                    rows(),
                )


def update_dids(dids, attnames):
    """Save ``attnames`` of changed DID instances: one UPDATE per distinct set of values."""
    fields = [DID._meta.get_field(name) for name in attnames]
    assignments = ", ".join(f"{_quote(field.column)} = %s" for field in fields)
    outcomes = defaultdict(list)
    for did in dids:
        outcomes[tuple(getattr(did, name) for name in attnames)].append(did.pk)
    with connection.cursor() as cursor:
        for values, ids in outcomes.items():
            params = [
                field.get_db_prep_save(value, connection)
                for field, value in zip(fields, values, strict=True)
            ]
            for where, where_params in _where_in("id", ids):
                cursor.execute(
                    f"UPDATE {_quote(DID._meta.db_table)} SET {assignments} "  # noqa: S608
                    f"WHERE {where}",
                    [*params, *where_params],
                )


def record_history(*, column, values, history_type, actor, reason, now):
    """One history row per DID whose ``column`` is in ``values``, from its current state."""
    history = DID.history.model
    tracked = ", ".join(_quote(field.column) for field in history.tracked_fields)
    meta_columns = ", ".join(
        _quote(history._meta.get_field(name).column) for name in HISTORY_META_FIELDS
    )
    meta_values = [
        connection.ops.adapt_datetimefield_value(now),
        reason,
        history_type,
        actor.pk if actor else None,
    ]
    with connection.cursor() as cursor:
        for where, params in _where_in(column, values):
            # Only identifiers from the models' metadata are interpolated.
            cursor.execute(
                f"INSERT INTO {_quote(history._meta.db_table)} ({tracked}, {meta_columns}) "  # noqa: S608
                f"SELECT {tracked}, %s, %s, %s, %s FROM {_quote(DID._meta.db_table)} "
                f"WHERE {where}",
                [*meta_values, *params],
            )
