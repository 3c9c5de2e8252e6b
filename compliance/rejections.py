"""What each rejection reason asks the customer to do, and which part of the submission page
fixes it (its anchor: ``#identity``, ``#address``, ``#documents``). One wording for the
rejection e-mail, the reviewer's checkboxes and the customer's submission page."""

from .models import RejectionReason

R = RejectionReason

# reason → (the field of the submission to fix, or "" when only the comment says, advice)
ADVICE = {
    R.UNREADABLE: (
        "documents",
        "A document could not be read: upload a sharper scan or photo, every corner visible.",
    ),
    R.EXPIRED: ("documents", "A document has expired: upload one that is valid today."),
    R.NAME_MISMATCH: (
        "identity",
        "The name on the documents does not match the identity: correct the identity, or "
        "upload documents in that name.",
    ),
    R.ADDRESS_OUTSIDE_AREA: (
        "address",
        "The address is outside the number's area: choose or add an address there.",
    ),
    R.MISSING_PAGE: ("documents", "A page is missing: upload the whole document, every page."),
    R.OTHER: ("", "See the reviewer's comment."),
}


def reason_field(code):
    """The anchor of the part of the submission page that fixes ``code`` ("" if none)."""
    return ADVICE.get(code, ("", ""))[0]


def reason_advice(code):
    return ADVICE.get(code, ("", ""))[1]


def explained(codes):
    """``[{"code", "label", "field", "advice"}]`` for a submission's rejection reasons,
    unknown codes left out."""
    return [
        {
            "code": code,
            "label": RejectionReason(code).label,
            "field": reason_field(code),
            "advice": reason_advice(code),
        }
        for code in codes or ()
        if code in RejectionReason.values
    ]
