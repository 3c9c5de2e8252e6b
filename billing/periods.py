"""Billing-period arithmetic, pure: no database, no settings, no clock.

A plan is a unit (day, week or month) and a count N: daily is (day, 1), weekly (week, 1),
monthly (month, 1), "every N days" (day, N). Period ``i`` of a subscription runs from
``period_start(anchor, unit, count, i)`` to ``period_start(anchor, unit, count, i + 1)``:
every boundary is computed from the anchor (the start of period 0), never from the previous
boundary, so nothing drifts and consecutive periods always touch.

Months follow the anchor day: a day that a month lacks is clamped to the month's last day,
and later months go back to the anchor day (31 Jan → 28/29 Feb → 31 Mar → 30 Apr → 31 May).
Arithmetic is on the wall clock of the anchor's own time zone (pass ``localtime(anchor)``),
so a period keeps its time of day across daylight-saving changes.
"""

import calendar
from datetime import timedelta

DAY, WEEK, MONTH = "day", "week", "month"
UNITS = (DAY, WEEK, MONTH)


def add_months(moment, months, anchor_day):
    """``moment`` moved by ``months`` months, on ``anchor_day`` or the month's last day."""
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(anchor_day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def period_start(anchor, unit, count, index):
    """The start of period ``index`` (0 is the anchor itself)."""
    if count < 1:
        raise ValueError("A period count is a positive number.")
    if index < 0:
        raise ValueError("Period indexes start at 0.")
    if unit == DAY:
        return anchor + timedelta(days=count * index)
    if unit == WEEK:
        return anchor + timedelta(weeks=count * index)
    if unit == MONTH:
        return add_months(anchor, count * index, anchor.day)
    raise ValueError(f"Unknown period unit “{unit}”.")


def period_bounds(anchor, unit, count, index):
    """``(start, end)`` of period ``index``; the end is the next period's start."""
    return (
        period_start(anchor, unit, count, index),
        period_start(anchor, unit, count, index + 1),
    )
