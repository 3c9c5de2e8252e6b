"""Demo price list for `make run`: Voxel Telecom (the demo reseller) marks up its wholesale
prices, so its customers' demo orders are bought at retail."""

from django.db import transaction

from accounts.models import User

from .services import markup_rule_save


@transaction.atomic
def seed_voxel_price_list(voxel):
    """Voxel's price list, once: +30 % on every price by default, rounded up to .x9, and
    Germany 1.00 a month more on top. Saved by Voxel's admin (its history shows who), before
    the demo orders, so its customers buy at retail."""
    actor = User.objects.filter(email__iexact="reseller@didportal.test").first()
    if actor is None or voxel.markup_rules.exists():
        return 0
    percent = {f"{part}_percent": 30 for part in ("setup", "recurring", "extra_channel")}
    markup_rule_save(reseller=voxel, actor=actor, scope="default", rounding="x9", **percent)
    markup_rule_save(
        reseller=voxel,
        actor=actor,
        scope="country",
        country="DE",
        rounding="x9",
        recurring_fixed=1,
        **percent,
    )
    return 2
