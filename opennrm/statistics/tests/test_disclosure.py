"""Disclosure control (contract section 7; issue 22 point 8): rounding, primary and secondary suppression, summaries.

The property tests draw random tables and check what is published against the rules with a brute-force
oracle written here, independent of the module's integer programme.
"""

import itertools

import pytest
from hypothesis import given, settings, strategies as st

from opennrm.statistics.disclosure import (
    DEFAULT_POLICY,
    SUPPRESSED,
    DisclosurePolicy,
    Published,
    exposed_counts,
    feasible_range,
    protect_count,
    protect_percentage,
    protect_summary,
    protect_tables,
)

P = DEFAULT_POLICY


def test_the_default_policy_is_contract_section_7():
    assert (P.threshold, P.rounding_base) == (5, 5)
    assert P.version  # a release says which rules made it


@pytest.mark.parametrize(
    "count, shown",
    [
        (0, Published(0)),
        (1, Published(None, "c")),
        (4, Published(None, "c")),
        (5, Published(5)),
        (7, Published(5)),
        (8, Published(10)),
        (12, Published(10)),
        (13, Published(15)),
        (1002, Published(1000)),
        (1003, Published(1005)),
    ],
)
def test_a_count_alone_is_withheld_when_1_to_4_and_otherwise_rounded_to_the_nearest_5(count, shown):
    assert protect_count(count) == shown


def test_what_a_published_count_tells_of_the_true_one():
    assert P.true_range(0) == (0, 0)  # 1 and 2 would have been withheld, not rounded to 0
    assert P.true_range(5) == (5, 7)  # 3 and 4 would have been withheld
    assert P.true_range(10) == (8, 12)
    # Another policy: threshold 10, rounded to 5.
    assert DisclosurePolicy(threshold=10).true_range(10) == (10, 12)


def test_secondary_suppression_where_rounding_alone_would_give_a_withheld_count_away():
    # 1 + 8 + 8 = 17: published as [c], 10, 10 and 15, the withheld count is at most 15 + 2 - (8 + 8) = 1.
    counts = {"a": 1, "b": 8, "c": 8, "total": 17}
    lines = [("total", ["a", "b", "c"])]
    assert feasible_range("a", counts, lines, {"a"}) == (1, 1)
    assert exposed_counts(counts, lines, {"a"}) == ["a"]
    shown = protect_tables(counts, lines)
    # The smallest count beside it is withheld too, and then the withheld one could be anything from 1 to 8 (17 - 8 - 1).
    assert shown == {"a": Published(None, "c"), "b": Published(None, "c"), "c": Published(10), "total": Published(15)}
    assert feasible_range("a", counts, lines, {"a", "b"}) == (1, 8)


def test_rounding_alone_protects_when_the_totals_leave_the_count_open():
    counts = {"a": 3, "b": 10, "c": 10, "total": 23}
    shown = protect_tables(counts, [("total", ["a", "b", "c"])])
    assert shown == {"a": Published(None, "c"), "b": Published(10), "c": Published(10), "total": Published(25)}


def test_a_count_that_is_never_published_still_takes_part_in_the_check():
    # Decisions 5 = 1 within the deadline + 4 after it (never shown). The decisions (5) and the within-deadline count are
    # protected; "after" (hidden) is only known to be at least 0, so nothing pins the 1.
    counts = {"decisions": 5, "within": 1, "late": 4}
    shown = protect_tables(counts, [("decisions", ["within", "late"])], hidden={"late"})
    assert shown == {"decisions": Published(5), "within": Published(None, "c")}


def test_a_median_or_percentile_of_few_cases_or_of_a_withheld_count_is_withheld():
    assert protect_summary(3.0, group=1, group_published=Published(None, SUPPRESSED)) == Published(None, "c")
    assert protect_summary(3.0, group=4, group_published=Published(5)) == Published(None, "c")
    assert protect_summary(3.0, group=7, group_published=Published(None, SUPPRESSED)) == Published(None, "c")
    assert protect_summary(3.5, group=5, group_published=Published(5)) == Published(3.5)
    assert protect_summary(None, group=0, group_published=Published(0)) == Published(None)


def test_a_percentage_needs_a_big_enough_base_and_no_small_part_or_rest():
    assert protect_percentage(30, 60, base_published=Published(60)) == Published(50)
    assert protect_percentage(20, 49, base_published=Published(50)) == Published(None, "c")  # base below 50
    assert protect_percentage(3, 60, base_published=Published(60)) == Published(None, "c")  # 3 within: small
    assert protect_percentage(58, 60, base_published=Published(60)) == Published(None, "c")  # 2 late: small
    assert protect_percentage(0, 0, base_published=Published(0)) == Published(None)
    assert protect_percentage(2, 3, base_published=Published(None, "c")) == Published(None, "c")


# --- Properties over random tables ------------------------------------------------------------------------------


def published_as(count: int, policy: DisclosurePolicy = P) -> Published:
    """The oracle's own statement of the primary rule, to recognise what a true count could have been shown as."""
    if 0 < count < policy.threshold:
        return Published(None, "c")
    base = policy.rounding_base
    return Published(
        min(range(0, count + base, base), key=lambda m: (abs(m - count), -m))
    )  # the nearest multiple, halves up


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=60) | st.integers(min_value=0, max_value=4), min_size=1, max_size=12)
)
def test_every_published_count_is_a_multiple_of_5_or_withheld_and_no_count_of_1_to_4_is_published(cells):
    counts = dict(enumerate(cells)) | {"total": sum(cells)}
    shown = protect_tables(counts, [("total", list(range(len(cells))))])
    assert shown.keys() == counts.keys()
    for key, figure in shown.items():
        if figure.suppressed:
            assert figure.value is None
        else:
            assert figure.value % 5 == 0 and abs(figure.value - counts[key]) <= 2
            assert not 1 <= counts[key] <= 4, (key, counts[key])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=14), min_size=2, max_size=3))
def test_no_withheld_count_of_1_to_4_can_be_worked_out_from_what_is_published(cells):
    # Brute force: every set of true counts that would be published exactly as these were. Each withheld count of 1 to 4
    # must still have at least 4 possible values among them: the totals tell no more than the "c" itself.
    counts = dict(enumerate(cells)) | {"total": sum(cells)}
    shown = protect_tables(counts, [("total", list(range(len(cells))))])

    def fits(key, value):
        figure = shown[key]
        if figure.suppressed:
            return value >= 1  # all anyone knows of a withheld count
        return published_as(value) == figure

    possible = {i: set() for i in range(len(cells))}
    for candidate in itertools.product(range(0, 26), repeat=len(cells)):
        if all(fits(i, v) for i, v in enumerate(candidate)) and fits("total", sum(candidate)):
            for i, v in enumerate(candidate):
                possible[i].add(v)
    for i, n in enumerate(cells):
        assert n in possible[i]
        if 1 <= n <= 4:
            assert shown[i].suppressed
            assert len(possible[i]) >= 4, (cells, shown, i, sorted(possible[i]))
