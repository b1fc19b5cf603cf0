"""The disclosure rules applied to the dashboard's figures (issue 22 point 8; contract section 7; ADR 0008).

A decision maker may open every case their figures count: they see them exact, and each figure that
counts fewer cases than the threshold is marked SMALL, to take care before sharing it. A statistician
sees no record: every count is rounded or suppressed by `opennrm.statistics.disclosure`, with the
dashboard's tables declared as the lines that add up, so that no suppressed count can be worked out:

- open cases: the stages add up to all open cases;
- decisions by month (one count shared by the days-to-RG and within-the-deadline tables) add up to the
  period's; in each month and the period, decisions within the deadline plus those after it (never
  shown, but derivable) make the decisions, and each of the two adds up over the months;
- deadlines passed and missed, by authority and nation, add up to the totals row; in each row and the
  totals, those missed plus those met (never shown) make those passed.

Medians and 90th percentiles follow their group's count; percentages their base (see the module above).
"""

from dataclasses import replace

from opennrm.statistics.disclosure import (
    DEFAULT_POLICY,
    SUPPRESSED,
    DisclosurePolicy,
    Published,
    protect_percentage,
    protect_summary,
    protect_tables,
)

SMALL = "small"  # exact, but fewer cases than the disclosure threshold
BREACH_PAIRS = (("rg_due", "rg_missed"), ("cg_due", "cg_missed"))


def marked_small(d, policy: DisclosurePolicy = DEFAULT_POLICY):
    """The exact figures, each that counts fewer than `policy.threshold` cases marked SMALL."""

    def marks(**groups) -> dict:
        # groups: figure → the number of cases behind it
        return {name: SMALL for name, n in groups.items() if n is not None and policy.is_small(n)}

    def timing(t):
        below = policy.is_small(t.decisions)
        return replace(
            t,
            marks={
                **marks(decisions=t.decisions),
                **{k: SMALL for k in ("median_days", "p90_days") if below and getattr(t, k) is not None},
            },
        )

    return replace(
        d,
        exact=True,
        policy=policy,
        open_marks={status: SMALL for status, _, n in d.open_by_stage if policy.is_small(n)}
        | ({None: SMALL} if policy.is_small(d.open_total) else {}),
        time_to_rg=[timing(t) for t in d.time_to_rg],
        time_to_cg=[timing(t) for t in d.time_to_cg],
        rg_within_deadline=[
            replace(
                s,
                marks=marks(decisions=s.decisions, within_deadline=s.within_deadline)
                | ({"percent": SMALL} if s.percent is not None and policy.is_small(s.decisions) else {}),
            )
            for s in d.rg_within_deadline
        ],
        breaches=[
            replace(b, marks=marks(**{k: getattr(b, k) for pair in BREACH_PAIRS for k in pair})) for b in d.breaches
        ],
    )


def disclosure_controlled(d, policy: DisclosurePolicy = DEFAULT_POLICY):
    """Every figure rounded or suppressed under `policy`, the dashboard's tables protected together."""
    counts, lines, hidden = {}, [], set()

    def line(total, cells: dict):
        counts.update(cells)
        lines.append((total, list(cells)))

    # Open cases by stage.
    counts[("open", None)] = d.open_total
    line(("open", None), {("open", s): n for s, _, n in d.open_by_stage})
    # Decisions by month; within the deadline and after it (hidden) by month, each adding up to the period's.
    for kind, timings in (("rg", d.time_to_rg), ("cg", d.time_to_cg)):
        counts[(kind, None)] = timings[-1].decisions
        line((kind, None), {(kind, t.month): t.decisions for t in timings[:-1]})
    for s in d.rg_within_deadline:
        line(
            ("rg", s.month),
            {("within", s.month): s.within_deadline, ("late", s.month): s.decisions - s.within_deadline},
        )
        hidden.add(("late", s.month))
    for kind in ("within", "late"):
        lines.append(((kind, None), [(kind, s.month) for s in d.rg_within_deadline[:-1]]))
    # Deadlines passed and missed by authority and nation, those met (hidden) beside them; the last row is the totals.
    rows = d.breaches
    for due, missed in BREACH_PAIRS:
        met = due.replace("due", "met")
        for b in rows:
            place = (b.competent_authority, b.nation)
            counts[(due, *place)] = getattr(b, due)
            line(
                (due, *place),
                {(missed, *place): getattr(b, missed), (met, *place): getattr(b, due) - getattr(b, missed)},
            )
            hidden.add((met, *place))
        for kind in (due, missed, met):
            lines.append(((kind, None, None), [(kind, b.competent_authority, b.nation) for b in rows[:-1]]))

    shown = protect_tables(counts, lines, hidden=hidden, policy=policy)

    def marks(figures: dict[str, Published]) -> dict:
        return {name: SUPPRESSED for name, p in figures.items() if p.suppressed}

    def timing(kind, t):
        n = shown[(kind, t.month)]
        figures = {
            "decisions": n,
            **{
                k: protect_summary(getattr(t, k), group=t.decisions, group_published=n, policy=policy)
                for k in ("median_days", "p90_days")
            },
        }
        return replace(t, **{k: p.value for k, p in figures.items()}, marks=marks(figures))

    def share(s):
        base = shown[("rg", s.month)]
        figures = {
            "decisions": base,
            "within_deadline": shown[("within", s.month)],
            "percent": protect_percentage(s.within_deadline, s.decisions, base_published=base, policy=policy),
        }
        return replace(s, **{k: p.value for k, p in figures.items()}, marks=marks(figures))

    def breach(b):
        figures = {k: shown[(k, b.competent_authority, b.nation)] for pair in BREACH_PAIRS for k in pair}
        return replace(b, **{k: p.value for k, p in figures.items()}, marks=marks(figures))

    return replace(
        d,
        exact=False,
        policy=policy,
        open_by_stage=[(s, label, shown[("open", s)].value) for s, label, _ in d.open_by_stage],
        open_total=shown[("open", None)].value,
        open_marks={
            s: SUPPRESSED for s in [*(s for s, _, _ in d.open_by_stage), None] if shown[("open", s)].suppressed
        },
        time_to_rg=[timing("rg", t) for t in d.time_to_rg],
        time_to_cg=[timing("cg", t) for t in d.time_to_cg],
        rg_within_deadline=[share(s) for s in d.rg_within_deadline],
        breaches=[breach(b) for b in d.breaches],
    )
