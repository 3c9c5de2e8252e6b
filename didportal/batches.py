"""Work through a queue of rows in batches, each batch its own transaction."""


def drain(batch, *, batch_size, **kwargs):
    """Call ``batch(batch_size=..., **kwargs)`` until it handles less than a full batch.

    ``batch`` claims up to ``batch_size`` rows (``select_for_update(skip_locked=True)``),
    handles them and returns how many; a short batch means the queue is empty or the rest is
    being handled by another worker. Returns the total handled.
    """
    total = 0
    while True:
        count = batch(batch_size=batch_size, **kwargs)
        total += count
        if count < batch_size:
            return total
