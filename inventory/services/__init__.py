"""Writes on the number stock, by sub-domain. Views, admin actions, tasks and commands call
these names; every DID status change goes through ``did_transition`` / ``dids_transition``
(``transitions``), which apply ``ALLOWED_TRANSITIONS`` and record who and why.

- ``transitions``: the status table, the one transition function, holds for non-payment;
- ``packages``: client packages and numbers assigned under them;
- ``holds``: cart holds and the release of expired holds;
- ``sales``: claiming numbers for a buyer inside the checkout's transaction;
- ``release``: a number leaves its owner (hold expiry, cancellation): the one release,
  which ends what depends on the number in the same transaction;
- ``dependents``: what other apps (billing) register to run when a number changes hands;
- ``console``: the stock console's writes (numbers added, operators, blocks, edits).
"""

from .console import (
    block_create,
    block_update,
    did_update_details,
    dids_add,
    dids_bulk_edit,
    dids_delete_unsold,
    operator_create,
    operator_update,
    package_create,
    package_update,
)
from .holds import (
    cart_holdable,
    cart_holds_release_expired,
    dids_cart_hold,
    dids_cart_release,
    holds_release_expired,
)
from .packages import (
    client_package_assign,
    client_package_deactivate,
    client_package_reactivate,
    did_assign,
)
from .release import did_release, dids_release
from .sales import (
    did_sell,
    dids_lock_any,
    dids_lock_specific,
    sale_package,
    sale_packages_lock,
)
from .transitions import (
    ALLOWED_TRANSITIONS,
    InvalidTransition,
    did_hold_unpaid,
    did_paid,
    did_transition,
    dids_transition,
    moves_without_owner,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "InvalidTransition",
    "block_create",
    "block_update",
    "cart_holdable",
    "cart_holds_release_expired",
    "client_package_assign",
    "client_package_deactivate",
    "client_package_reactivate",
    "did_assign",
    "did_hold_unpaid",
    "did_paid",
    "did_release",
    "did_sell",
    "did_transition",
    "did_update_details",
    "dids_add",
    "dids_bulk_edit",
    "dids_cart_hold",
    "dids_cart_release",
    "dids_delete_unsold",
    "dids_lock_any",
    "dids_lock_specific",
    "dids_release",
    "dids_transition",
    "holds_release_expired",
    "moves_without_owner",
    "operator_create",
    "operator_update",
    "package_create",
    "package_update",
    "sale_package",
    "sale_packages_lock",
]
