"""What other apps keep per number, and how inventory tells them when a number changes hands.

inventory sits below billing and never imports it (a lower app never imports a higher one),
yet a number that leaves its owner must end its subscriptions in the same transaction, and a
number an admin assigns must start one. So the dependency is inverted: billing registers a
``NumberDependent`` in its ``AppConfig.ready()``, and inventory's services call every
registered dependent inside their own transaction. A plain list of objects rather than a
Django signal: the hooks are part of the services' contract (lock order, one transaction),
not optional listeners, and there is one place to read what runs.
"""


class NumberDependent:
    """Something another app keeps per number. Subclass and override what applies."""

    def lock_for_assignment(self, *, account):
        """Take the locks that come before the client package in the lock order (balances
        → client package → numbers); ``did_assign`` calls this first."""

    def number_assigned(self, *, did, client_package, actor, now):
        """``did`` was just assigned to ``did.owner`` under ``client_package`` (locked)."""

    def numbers_left_owner(self, *, did_ids, reason, now):
        """The locked numbers ``did_ids`` just left their owner: end what depends on them."""


_registered = []


def register(dependent):
    """Add ``dependent`` once (``ready()`` may run more than once)."""
    if not any(type(existing) is type(dependent) for existing in _registered):
        _registered.append(dependent)


def registered():
    return tuple(_registered)


def numbers_left_owner(*, did_ids, reason, now):
    if did_ids:
        for dependent in _registered:
            dependent.numbers_left_owner(did_ids=sorted(did_ids), reason=reason, now=now)


def lock_for_assignment(*, account):
    for dependent in _registered:
        dependent.lock_for_assignment(account=account)


def number_assigned(*, did, client_package, actor, now):
    for dependent in _registered:
        dependent.number_assigned(did=did, client_package=client_package, actor=actor, now=now)
