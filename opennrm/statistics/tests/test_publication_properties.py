"""Property-based proof of the publication's disclosure control over random data (issue 24 point 2, ADR 0030).

For any extract: every published count is a multiple of the rounding base or marked [c]; no true count of 1 to
threshold - 1 is ever published; every count shared by several tables is suppressed in all of them or in none;
and for every suppressed small count, an integer programme over everything published (every table, every total,
each rounded count within half the rounding base of its true value, a published 0 exact, a suppressed count at
least 1) cannot narrow it below the threshold - 1 values that the [c] alone leaves. The attacker's programme is
built here from the published figures alone, not from disclosure.py's own check.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from opennrm.referrals.codes import countries
from opennrm.statistics.disclosure import SUPPRESSED
from opennrm.statistics.publication import PublicationPolicy, protect_publication
from opennrm.statistics.tables import (
    AGE_GROUPS,
    COMPETENT_AUTHORITIES,
    NATIONS,
    OUTCOMES,
    STAGES,
    DecisionRow,
    DutyToNotifyRow,
    ExtractRows,
    MissingRow,
    ReferralRow,
    tabulate,
)

POLICY = PublicationPolicy()
LEAVES = ["labour", "sexual", "criminal_county_lines", "criminal_other", "domestic_servitude", "multiple"]

referral_rows = st.lists(
    st.tuples(
        st.integers(0, 60),  # the person: some children referred more than once
        st.sampled_from(list(AGE_GROUPS)),
        st.sampled_from(["female", "male", "unknown"]),
        st.sampled_from(["VNM", "ALB", "GBR", "ERI", "not_known"]),
        st.sampled_from(list(NATIONS)),
        st.sampled_from(["Kent Police", "Metropolitan Police Service", "not_known"]),
        st.sampled_from(["police", "local_authority", "ngo"]),
        st.sampled_from(list(COMPETENT_AUTHORITIES)),
        st.sampled_from(LEAVES),
    ),
    min_size=1,
    max_size=80,
)
decision_rows = st.lists(
    st.tuples(
        st.sampled_from(list(STAGES)),
        st.sampled_from(list(OUTCOMES)),
        st.sampled_from(list(AGE_GROUPS)),
        st.integers(0, 400),
    ),
    max_size=60,
)


def extract_of(referrals, decisions, missing, notices) -> ExtractRows:
    rows = ExtractRows()
    for i, (person, *rest) in enumerate(referrals):
        rows.referrals.append(ReferralRow(f"R{i}", f"p{person}", *rest))
    rows.decisions = [DecisionRow(f"D{i}", *d) for i, d in enumerate(decisions)]
    rows.missing = [MissingRow(f"E{i}", f"p{p}") for i, p in enumerate(missing)]
    rows.duty_to_notify = [DutyToNotifyRow(f"N{i}", n, "male") for i, n in enumerate(notices)]
    return rows


def attacker_range(key, figures_by_key, lines, policy) -> tuple[int, float]:
    """The least and greatest whole value of `key` consistent with everything published: an integer programme."""
    keys = sorted({k for total, cells in lines for k in (total, *cells)} | set(figures_by_key), key=repr)
    index = {k: i for i, k in enumerate(keys)}
    cap = 10**6
    low, high = np.zeros(len(keys)), np.full(len(keys), float(cap))
    for k, (value, status) in figures_by_key.items():
        i = index[k]
        if status == SUPPRESSED:
            low[i] = 1
        else:
            low[i], high[i] = policy.true_range(value)
    rows = []
    for total, cells in lines:
        row = np.zeros(len(keys))
        row[index[total]] = 1
        for c in cells:
            row[index[c]] -= 1
        rows.append(row)
    constraints = [LinearConstraint(np.array(rows), 0, 0)] if rows else []
    ends = []
    for sign in (1, -1):
        objective = np.zeros(len(keys))
        objective[index[key]] = sign
        result = milp(objective, integrality=np.ones(len(keys)), bounds=Bounds(low, high), constraints=constraints)
        assert result.status == 0, result.message
        ends.append(round(sign * result.fun))
    return ends[0], ends[1]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    referral_rows,
    decision_rows,
    st.lists(st.integers(0, 60), max_size=15),
    st.lists(st.sampled_from(list(NATIONS)), max_size=12),
)
def test_no_small_count_is_published_nor_derivable_and_shared_cells_agree(referrals, decisions, missing, notices):
    rows = extract_of(referrals, decisions, missing, notices)
    tabulation = tabulate(rows, countries=countries(), min_category=POLICY.min_category_count)
    protected = protect_publication(tabulation, POLICY)

    by_key: dict = {}
    for table in tabulation.tables:
        for cell, figure in zip(table.cells, protected.figures[table.id]):
            if cell.key is None:
                continue
            true = tabulation.counts[cell.key]
            if figure.obs_status == SUPPRESSED:
                assert figure.value is None
            else:
                # A multiple of the rounding base, never a true count of 1 to threshold - 1.
                assert figure.value % POLICY.rounding_base == 0
                assert not POLICY.is_small(true)
                assert abs(figure.value - true) <= POLICY.rounding_base / 2
            by_key.setdefault(cell.key, set()).add((figure.value, figure.obs_status))
    # One count, one answer, in every table that shows it.
    assert all(len(answers) == 1 for answers in by_key.values())

    published = {k: next(iter(v)) for k, v in by_key.items()}
    for key, (_value, status) in published.items():
        if status == SUPPRESSED and POLICY.is_small(tabulation.counts[key]):
            low, high = attacker_range(key, published, tabulation.lines, POLICY)
            assert low <= tabulation.counts[key] <= high
            assert high - low + 1 >= POLICY.threshold - 1, (key, low, high)

    # Medians and percentiles never beside a group below the threshold or a suppressed count.
    for table in tabulation.tables:
        for cell, figure in zip(table.cells, protected.figures[table.id]):
            if cell.summary and cell.summary[0] == "summary" and figure.value is not None:
                _, _, count_key, group = cell.summary
                assert group >= POLICY.min_group_for_summary
                assert published[count_key][1] != SUPPRESSED
            if cell.summary and cell.summary[0] == "pct" and figure.value is not None:
                _, _part, base = cell.summary
                assert tabulation.counts[base] >= POLICY.min_percentage_base


@settings(max_examples=15, deadline=None)
@given(referral_rows)
def test_the_same_data_gives_the_same_figures(referrals):
    rows = extract_of(referrals, [], [], [])
    first = protect_publication(tabulate(rows, countries=countries(), min_category=10), POLICY)
    rows.referrals.reverse()  # the order rows are read in changes nothing
    second = protect_publication(tabulate(rows, countries=countries(), min_category=10), POLICY)
    assert first.released == second.released


def test_the_attackers_programme_finds_a_count_that_primary_suppression_alone_leaves_exposed():
    # Without secondary suppression and rounding, a total and the other cell give a withheld count away exactly.
    unrounded = PublicationPolicy(rounding_base=1)
    figures = {"a": (None, SUPPRESSED), "b": (20, ""), "total": (23, "")}
    assert attacker_range("a", figures, [("total", ("a", "b"))], unrounded) == (3, 3)
