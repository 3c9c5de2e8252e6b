"""Reads for the requirements console (platform staff: every tenant's figures, no details)."""

from django.db.models import Count

from .models import NumberRegistration, Submission


def requirement_registration_counts(requirement):
    """How many numbers await, were registered or cancelled under ``requirement``, and how
    many registrations are in each status: ``{"numbers": {status: n}, "submissions":
    {status: n}}`` with every status present (0 when none). Two queries."""
    numbers = dict.fromkeys(NumberRegistration.Status.values, 0)
    rows = NumberRegistration.objects.filter(requirement=requirement).values("status").order_by()
    numbers.update({row["status"]: row["n"] for row in rows.annotate(n=Count("pk"))})
    submissions = dict.fromkeys(Submission.Status.values, 0)
    rows = Submission.objects.filter(requirement=requirement).values("status").order_by()
    submissions.update({row["status"]: row["n"] for row in rows.annotate(n=Count("pk"))})
    return {"numbers": numbers, "submissions": submissions}
