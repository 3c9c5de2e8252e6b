"""Compliance's writes, by sub-domain:

- ``requirements``: requirements (versioned legal texts and what a registration needs) and
  the buyers' recorded agreements;
- ``profile``: a customer's identities, addresses and documents;
- ``registrations``: numbers sold awaiting registration, submissions and their review
  (submit, approve, reject), and the deadline that cancels and refunds.

The requirements' names are exported here (``compliance.services.requirement_save``); the
other sub-domains are imported by module.
"""

from .requirements import (
    EDITABLE_FIELDS,
    VERSIONED_FIELDS,
    agreements_record,
    normalize_text,
    requirement_save,
)

__all__ = [
    "EDITABLE_FIELDS",
    "VERSIONED_FIELDS",
    "agreements_record",
    "normalize_text",
    "requirement_save",
]
