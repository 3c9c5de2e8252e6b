"""The buyer-side read model: how many numbers of each block can be bought right now."""

from django.db import models


class StockDelta(models.Model):
    """Changes to a block's count of buyable (in-stock) numbers.

    Database triggers on the DID table (migration 0002) append a row for every write that
    changes what is in stock: COPY, bulk updates and single saves alike, so no code path can
    forget. A block's available count is the sum of its rows. Appending never locks a shared
    counter row, so concurrent checkouts do not queue or deadlock on it; ``stock_compact``
    periodically folds the rows into one per block.
    """

    # No database-level foreign key: the DID triggers may write a row for a block in the
    # same statement that empties the tables (a test flush on SQLite); a trigger on block
    # deletion removes its rows instead (migration 0002).
    block = models.ForeignKey(
        "inventory.NumberBlock",
        on_delete=models.CASCADE,
        related_name="stock_deltas",
        db_constraint=False,
    )
    delta = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["block"], name="stockdelta_block")]

    def __str__(self):
        return f"{self.block_id}: {self.delta:+d}"
