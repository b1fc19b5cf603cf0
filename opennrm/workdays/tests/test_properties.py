"""Properties of the working-day calculator that must hold for every start date, count and nation."""

import datetime as dt

import holidays
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from opennrm.policy import Role
from opennrm.workdays.calendar import NATION_CODES, add_working_days, working_days_between
from opennrm.workdays.models import ClosureDay
from opennrm.workdays.services import closure_day_save

# A few closure days of both kinds inside the range the examples are drawn from.
CLOSURES = [
    (dt.date(2026, 12, 2), "", "Office move (all nations)"),
    (dt.date(2027, 6, 7), "", "System migration (all nations)"),
    (dt.date(2026, 11, 26), "SCT", "Severe weather closure (Scotland)"),
    (dt.date(2027, 2, 10), "WLS", "Severe weather closure (Wales)"),
    (dt.date(2027, 4, 14), "NIR", "Proclaimed holiday (Northern Ireland)"),
    (dt.date(2027, 9, 1), "ENG", "Proclaimed holiday (England)"),
]

starts = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2029, 12, 31))
counts = st.integers(min_value=1, max_value=40)
nations = st.sampled_from(NATION_CODES)

# The closure days are set up once per test, not per example, and do not change during it; the
# calculator reads the database, hence the function-scoped fixture. No example database on disk.
PROPERTY = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def closures(make_user, django_capture_on_commit_callbacks) -> dict[str, set[dt.date]]:
    admin = make_user(Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        for day, nation, description in CLOSURES:
            closure_day_save(actor=admin, closure=ClosureDay(date=day, nation=nation, description=description))
    return {code: {day for day, nation, _ in CLOSURES if nation in ("", code)} for code in NATION_CODES}


def non_working(day: dt.date, nation: str, closures: dict[str, set[dt.date]]) -> bool:
    """An oracle independent of the calculator: weekend, that nation's bank holiday, or a closure day."""
    return (
        day.weekday() >= 5
        or day in holidays.country_holidays("GB", subdiv=nation, years=day.year)
        or day in closures[nation]
    )


@PROPERTY
@given(start=starts, n=counts, nation=nations)
def test_the_result_is_a_working_day_strictly_after_the_start(closures, start, n, nation):
    due = add_working_days(start, n, nation)
    assert due > start
    assert due.weekday() < 5
    assert due not in holidays.country_holidays("GB", subdiv=nation, years=due.year)
    assert due not in closures[nation]


@PROPERTY
@given(start=starts, n=counts, nation=nations)
def test_exactly_n_working_days_lie_after_the_start_up_to_the_result(closures, start, n, nation):
    due = add_working_days(start, n, nation)
    days = [start + dt.timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(not non_working(d, nation, closures) for d in days) == n
    assert working_days_between(start, due, nation) == n
    # ... and the day before the result is still short of n: the result is the first that reaches it.
    assert working_days_between(start, due - dt.timedelta(days=1), nation) == n - 1


@PROPERTY
@given(a=starts, b=starts, n=counts, nation=nations)
def test_monotonic_in_the_start(closures, a, b, n, nation):
    a, b = sorted((a, b))
    assert add_working_days(a, n, nation) <= add_working_days(b, n, nation)


@PROPERTY
@given(start=starts, n=counts, more=st.integers(min_value=1, max_value=20), nation=nations)
def test_strictly_monotonic_in_n(closures, start, n, more, nation):
    assert add_working_days(start, n, nation) < add_working_days(start, n + more, nation)


@PROPERTY
@given(start=starts, n=counts, m=counts, nation=nations)
def test_adding_in_two_steps_equals_adding_at_once(closures, start, n, m, nation):
    assert add_working_days(add_working_days(start, n, nation), m, nation) == add_working_days(start, n + m, nation)
