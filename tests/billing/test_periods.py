"""Period arithmetic: the anchor-day rule for months, exact steps for days and weeks."""

import calendar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.periods import DAY, MONTH, WEEK, add_months, period_bounds, period_start

JAN31 = datetime(2025, 1, 31, 9, 30, tzinfo=UTC)


def test_a_number_bought_on_31_january_follows_the_anchor_day():
    starts = [period_start(JAN31, MONTH, 1, i).date().isoformat() for i in range(6)]
    assert starts == [
        "2025-01-31",
        "2025-02-28",
        "2025-03-31",
        "2025-04-30",
        "2025-05-31",
        "2025-06-30",
    ]


def test_leap_february():
    assert period_start(datetime(2024, 1, 31, tzinfo=UTC), MONTH, 1, 1).date().isoformat() == (
        "2024-02-29"
    )


def test_every_n_days_and_weeks():
    assert period_start(JAN31, DAY, 10, 3) == JAN31 + timedelta(days=30)
    assert period_start(JAN31, WEEK, 1, 2) == JAN31 + timedelta(days=14)
    assert period_bounds(JAN31, DAY, 1, 0) == (JAN31, JAN31 + timedelta(days=1))


def test_wall_clock_kept_across_daylight_saving():
    anchor = datetime(2025, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    later = period_start(anchor, MONTH, 1, 1)
    assert (later.hour, later.utcoffset()) == (9, timedelta(hours=2))


@pytest.mark.parametrize(("unit", "count", "index"), [("year", 1, 1), (DAY, 0, 1), (DAY, 1, -1)])
def test_bad_arguments(unit, count, index):
    with pytest.raises(ValueError):
        period_start(JAN31, unit, count, index)


anchors = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)


@given(anchor=anchors, count=st.integers(1, 12), periods=st.integers(1, 40))
def test_months_keep_the_anchor_day_or_the_last_day(anchor, count, periods):
    previous = anchor
    for i in range(1, periods + 1):
        start = period_start(anchor, MONTH, count, i)
        months = (start.year - anchor.year) * 12 + start.month - anchor.month
        assert months == count * i  # no month skipped or repeated
        last_day = calendar.monthrange(start.year, start.month)[1]
        assert start.day == min(anchor.day, last_day)
        assert start.time() == anchor.time()
        assert start > previous
        previous = start


@given(
    anchor=anchors,
    unit=st.sampled_from([DAY, WEEK, MONTH]),
    count=st.integers(1, 30),
    index=st.integers(0, 500),
)
def test_periods_touch(anchor, unit, count, index):
    start, end = period_bounds(anchor, unit, count, index)
    assert end > start
    assert period_bounds(anchor, unit, count, index + 1)[0] == end


@given(anchor=anchors, months=st.integers(0, 1000), day=st.integers(1, 31))
def test_add_months_clamps(anchor, months, day):
    moved = add_months(anchor, months, day)
    assert moved.day == min(day, calendar.monthrange(moved.year, moved.month)[1])
