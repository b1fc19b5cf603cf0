"""Working days in each UK nation: Monday to Friday, less that nation's bank holidays and closure days."""

import datetime as dt
from functools import lru_cache

import holidays

from opennrm.core.cache import ProcessCache

NATION_CODES = ("ENG", "WLS", "SCT", "NIR")


@lru_cache(maxsize=256)
def bank_holidays(nation: str, year: int) -> frozenset[dt.date]:
    if nation not in NATION_CODES:
        raise ValueError(f"Unknown nation {nation!r}")
    return frozenset(holidays.country_holidays("GB", subdiv=nation, years=year).keys())


def _load_closure_days() -> dict[str, frozenset[dt.date]]:
    from .models import ClosureDay

    days: dict[str, set[dt.date]] = {code: set() for code in NATION_CODES}
    for day, day_nation in ClosureDay.objects.values_list("date", "nation"):
        for code in [day_nation] if day_nation else NATION_CODES:
            days[code].add(day)
    return {code: frozenset(d) for code, d in days.items()}


# Closure days change a few times a year and are read for every deadline: kept per process (ADR 0011).
_closure_days = ProcessCache(_load_closure_days)
forget_closure_days = _closure_days.forget  # the services call it on commit of a change


def closure_days(nation: str) -> frozenset[dt.date]:
    return _closure_days.get()[nation]


def is_working_day(day: dt.date, nation: str) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(nation, day.year) and day not in closure_days(nation)


def add_working_days(start: dt.date, n: int, nation: str) -> dt.date:
    """The n-th working day after `start` (the start day itself never counts)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day = start
    counted = 0
    while counted < n:
        day += dt.timedelta(days=1)
        if is_working_day(day, nation):
            counted += 1
    return day


def working_days_between(start: dt.date, end: dt.date, nation: str) -> int:
    """Working days after `start` up to and including `end`; negative when `end` is earlier."""
    lo, hi, sign = (start, end, 1) if end >= start else (end, start, -1)
    # By arithmetic, not day by day: a work queue counts this for every case on its page, and a case in
    # the Conclusive Grounds backlog can be years from today.
    days = (hi - lo).days
    weekdays = days // 7 * 5 + sum(
        1 for i in range(days - days % 7 + 1, days + 1) if (lo + dt.timedelta(days=i)).weekday() < 5
    )
    closed = set().union(*(bank_holidays(nation, year) for year in range(lo.year, hi.year + 1)), closure_days(nation))
    return sign * (weekdays - sum(1 for day in closed if lo < day <= hi and day.weekday() < 5))
