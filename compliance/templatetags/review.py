"""Template filters of the review queue: a submission's age and a deadline's distance, in
one unit ("3 days", "5 hours")."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

register = template.Library()


@register.filter
def age(value, now=None):
    """How long ago ``value`` was, in its largest unit: "3 days", "just now"."""
    if not value:
        return ""
    now = now or timezone.now()
    if now - value < timedelta(minutes=1):
        return "just now"
    return timesince(value, now, depth=1)


@register.filter
def days_since(value, now=None):
    """Whole days since ``value`` (0 on the day itself)."""
    if not value:
        return 0
    return max(((now or timezone.now()) - value).days, 0)


@register.filter
def due_in(value, now=None):
    """ "in 12 days", or "overdue" once ``value`` has passed."""
    if not value:
        return ""
    now = now or timezone.now()
    if value <= now:
        return "overdue"
    return f"in {timeuntil(value, now, depth=1)}"


@register.filter
def lookup(mapping, key):
    """``mapping[key]``, or "" when it is not there."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.filter
def status_label(value):
    """A submission status value in words ("submitted" → "Awaiting review")."""
    from compliance.models import Submission

    if not value:
        return "Started"
    try:
        return Submission.Status(value).label
    except ValueError:
        return value
