"""The disclosure rules over the dashboard's own tables (issue 22 point 8), for random figures: pure, no database."""

import datetime as dt

from hypothesis import given, settings, strategies as st

from opennrm.dashboards.disclosure import disclosure_controlled, marked_small
from opennrm.dashboards.periods import Filters, Period
from opennrm.dashboards.selectors import Breaches, Dashboard, DeadlineShare, Timing

MONTHS = [dt.date(2026, m, 1) for m in (1, 2, 3)]
small_or_any = st.integers(min_value=0, max_value=4) | st.integers(min_value=0, max_value=40)


@st.composite
def dashboards(draw):
    decisions = [draw(small_or_any) for _ in MONTHS]
    within = [draw(st.integers(min_value=0, max_value=n)) for n in decisions]
    cg = [draw(small_or_any) for _ in MONTHS]
    rows = []
    for authority, nation in (("IECA", "SCT"), ("LOCAL_PANEL", "ENG"), ("SCA", "ENG")):
        rg_due, cg_due = draw(small_or_any), draw(small_or_any)
        rows.append(
            Breaches(authority, nation, rg_due, draw(st.integers(0, rg_due)), cg_due, draw(st.integers(0, cg_due)))
        )
    rows.append(
        Breaches(
            None, None, *(sum(getattr(b, k) for b in rows) for k in ("rg_due", "rg_missed", "cg_due", "cg_missed"))
        )
    )
    stages = [
        (s, s, draw(small_or_any))
        for s in ("awaiting_reasonable_grounds", "recovery_period", "awaiting_conclusive_grounds", "reconsideration")
    ]

    def timings(counts):
        return [
            Timing(m, n, 3.0 if n else None, 4.0 if n else None) for m, n in [*zip(MONTHS, counts), (None, sum(counts))]
        ]

    shares = [DeadlineShare(m, n, w, 100 * w / n if n else None) for m, n, w in zip(MONTHS, decisions, within)]
    shares.append(
        DeadlineShare(None, sum(decisions), sum(within), 100 * sum(within) / sum(decisions) if sum(decisions) else None)
    )
    return Dashboard(
        Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        Filters(),
        dt.date(2026, 4, 1),
        stages,
        sum(n for *_, n in stages),
        timings(decisions),
        timings(cg),
        shares,
        rows,
    )


def counts_of(d):
    """(where, true or published count, mark) for every count the dashboard shows."""
    yield from ((("open", s), n, d.open_marks.get(s)) for s, _, n in d.open_by_stage)
    yield ("open", None), d.open_total, d.open_marks.get(None)
    for kind, figures, names in (
        ("rg", d.time_to_rg, ["decisions"]),
        ("cg", d.time_to_cg, ["decisions"]),
        ("within", d.rg_within_deadline, ["decisions", "within_deadline"]),
        ("breach", d.breaches, ["rg_due", "rg_missed", "cg_due", "cg_missed"]),
    ):
        for i, f in enumerate(figures):
            for name in names:
                yield (kind, i, name), getattr(f, name), f.marks.get(name)


@settings(max_examples=60, deadline=None)
@given(dashboards())
def test_a_statistician_never_sees_a_count_of_1_to_4_and_every_count_is_rounded_to_5(exact):
    controlled = disclosure_controlled(exact)
    for (where, true, _), (_, shown, mark) in zip(counts_of(exact), counts_of(controlled), strict=True):
        if mark == "c":
            assert shown is None
        else:
            assert shown % 5 == 0 and abs(shown - true) <= 2, where
            assert not 1 <= true <= 4, where
    for t in (*controlled.time_to_rg, *controlled.time_to_cg):
        assert t.median_days is None or (t.decisions is not None and t.decisions >= 5)


@settings(max_examples=60, deadline=None)
@given(dashboards())
def test_a_decision_maker_sees_every_figure_exact_and_each_of_1_to_4_marked(exact):
    marked = marked_small(exact)
    for (where, true, _), (_, shown, mark) in zip(counts_of(exact), counts_of(marked), strict=True):
        assert shown == true, where
        assert (mark == "small") == (1 <= true <= 4), where
