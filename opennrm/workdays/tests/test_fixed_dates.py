"""Working days worked out by hand from the GOV.UK bank holiday lists, one case per rule that differs by nation."""

import datetime as dt

import pytest

from opennrm.workdays.calendar import add_working_days, is_working_day, working_days_between

D = dt.date


@pytest.mark.parametrize(
    "nation, due",
    [
        ("ENG", D(2026, 12, 4)),
        ("SCT", D(2026, 12, 7)),  # St Andrew's Day, Monday 30 November 2026, is a Scottish bank holiday
        ("WLS", D(2026, 12, 4)),
        ("NIR", D(2026, 12, 4)),
    ],
)
def test_friday_27_november_2026_plus_five_working_days(db, nation, due):
    assert add_working_days(D(2026, 11, 27), 5, nation) == due


@pytest.mark.parametrize("nation", ["ENG", "WLS", "SCT", "NIR"])
def test_christmas_2026_boxing_day_moves_to_monday_28th(db, nation):
    # Christmas Day is Friday 25 December; Boxing Day falls on a Saturday, so Monday 28th is the substitute.
    assert not is_working_day(D(2026, 12, 25), nation)
    assert not is_working_day(D(2026, 12, 28), nation)
    assert add_working_days(D(2026, 12, 24), 1, nation) == D(2026, 12, 29)


@pytest.mark.parametrize(
    "nation, due",
    [
        ("ENG", D(2027, 1, 4)),
        ("WLS", D(2027, 1, 4)),
        ("NIR", D(2027, 1, 4)),
        # Scotland also has 2 January, a Saturday in 2027, so Monday 4 January is its substitute.
        ("SCT", D(2027, 1, 5)),
    ],
)
def test_new_year_2027(db, nation, due):
    # 29, 30, 31 December count; New Year's Day is Friday 1 January 2027.
    assert add_working_days(D(2026, 12, 24), 4, nation) == due


@pytest.mark.parametrize(
    "nation, due", [("ENG", D(2026, 1, 2)), ("WLS", D(2026, 1, 2)), ("NIR", D(2026, 1, 2)), ("SCT", D(2026, 1, 5))]
)
def test_2_january_is_a_holiday_in_scotland_only(db, nation, due):
    assert add_working_days(D(2025, 12, 31), 1, nation) == due


@pytest.mark.parametrize(
    "start, nation, due",
    [
        # Battle of the Boyne: Monday 12 July 2027 ...
        (D(2027, 7, 9), "NIR", D(2027, 7, 13)),
        (D(2027, 7, 9), "ENG", D(2027, 7, 12)),
        # ... and in 2026, a Sunday, moved to Monday 13 July.
        (D(2026, 7, 10), "NIR", D(2026, 7, 14)),
        (D(2026, 7, 10), "SCT", D(2026, 7, 13)),
        # St Patrick's Day: Wednesday 17 March 2027.
        (D(2027, 3, 16), "NIR", D(2027, 3, 18)),
        (D(2027, 3, 16), "WLS", D(2027, 3, 17)),
    ],
)
def test_northern_ireland_holidays(db, start, nation, due):
    assert add_working_days(start, 1, nation) == due


@pytest.mark.parametrize(
    "nation, due", [("ENG", D(2027, 3, 30)), ("WLS", D(2027, 3, 30)), ("NIR", D(2027, 3, 30)), ("SCT", D(2027, 3, 29))]
)
def test_easter_monday_is_not_a_holiday_in_scotland(db, nation, due):
    # Good Friday (26 March 2027) is a holiday everywhere; Easter Monday (29 March) everywhere but Scotland.
    assert not is_working_day(D(2027, 3, 26), nation)
    assert add_working_days(D(2027, 3, 25), 1, nation) == due


def test_the_start_day_never_counts_even_when_it_is_a_working_day(db):
    assert add_working_days(D(2026, 11, 25), 1, "ENG") == D(2026, 11, 26)
    assert add_working_days(D(2026, 11, 28), 1, "ENG") == D(2026, 11, 30)  # from a Saturday


def test_working_days_between_counts_after_start_up_to_and_including_end(db):
    assert working_days_between(D(2026, 11, 27), D(2026, 12, 7), "SCT") == 5
    assert working_days_between(D(2026, 12, 7), D(2026, 11, 27), "SCT") == -5
    assert working_days_between(D(2026, 11, 27), D(2026, 11, 27), "ENG") == 0


@pytest.mark.parametrize("bad_n", [0, -1])
def test_n_must_be_at_least_one(db, bad_n):
    with pytest.raises(ValueError):
        add_working_days(D(2026, 11, 27), bad_n, "ENG")


def test_an_unknown_nation_is_refused(db):
    with pytest.raises(ValueError, match="Unknown nation"):
        add_working_days(D(2026, 11, 27), 1, "GBR")
