"""What every status history row has: from what, who (a user or a system job), when and why.

Numbers keep theirs with django-simple-history; subscriptions (``billing.SubscriptionEvent``)
and orders (``cart.OrderStatusChange``) subclass ``StatusChange`` and add the object they
belong to and their own ``to_status`` choices. Their transition functions (one per model,
each beside its table) write the rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def require_author(actor, job):
    """A status change is signed by a user or, for a system job, by the job's name."""
    if actor is None and not job:
        raise ValueError("A status change needs an actor (a user) or a job name.")


class StatusChange(models.Model):
    from_status = models.CharField(max_length=16, blank=True)  # blank: the first status
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    job = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(actor__isnull=False) | ~Q(job=""),
                name="%(app_label)s_%(class)s_has_author",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="%(app_label)s_%(class)s_has_reason"
            ),
        ]
