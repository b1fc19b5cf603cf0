"""The dashboard's figures as the page shows them (charts and tables from the same numbers) and as the API answers."""

from markupsafe import Markup, escape

from opennrm.referrals.codes import NATIONS
from opennrm.referrals.models import CompetentAuthority
from opennrm.statistics.disclosure import SUPPRESSED

from .charts import Series, bar_chart
from .disclosure import SMALL
from .selectors import Dashboard

AUTHORITY_NAMES = dict(CompetentAuthority.choices)


def month_label(month) -> str:
    return "Whole period" if month is None else f"{month:%B %Y}"


def days(value) -> str:
    return "–" if value is None else f"{value:,.1f}"


def percent(value, decimals: int = 1) -> str:
    return "–" if value is None else f"{value:.{decimals}f}%"


def count(value) -> str:
    return f"{value:,}"


def cell(d: Dashboard, value, mark: str | None, show=count) -> Markup:
    """A table cell: the figure, "[c]" when it is withheld, or the figure tagged when it counts few cases; said in words."""
    if mark == SUPPRESSED:
        return Markup('[c]<span class="govuk-visually-hidden"> (withheld to protect confidentiality)</span>')
    if mark == SMALL:
        return Markup('{} <strong class="govuk-tag govuk-tag--yellow opennrm-small">fewer than {}</strong>').format(
            show(value), d.policy.threshold
        )
    return escape(show(value))


def chart_notes(d: Dashboard, marks: list) -> list[str]:
    """What a chart writes instead of, or beside, a figure: the same as its table."""
    return [
        "[c] withheld" if m == SUPPRESSED else f"(fewer than {d.policy.threshold})" if m == SMALL else "" for m in marks
    ]


def _series(d: Dashboard, name: str, figures, field: str) -> Series:
    return Series(name, [getattr(f, field) for f in figures], chart_notes(d, [f.marks.get(field) for f in figures]))


def _timing_section(d: Dashboard, key: str, title: str, timings) -> dict:
    months = timings[:-1]
    return {
        "id": key,
        "title": title,
        "chart": Markup(
            bar_chart(
                chart_id=f"{key}-chart",
                title=title,
                table_id=f"{key}-table",
                unit=" days",
                categories=[month_label(t.month) for t in months],
                series=[_series(d, "Median", months, "median_days"), _series(d, "90th percentile", months, "p90_days")],
            )
        ),
        "head": ["Month decided", "Decisions", "Median days", "90th percentile days"],
        "numeric": [False, True, True, True],
        "rows": [
            [
                escape(month_label(t.month)),
                cell(d, t.decisions, t.marks.get("decisions")),
                cell(d, t.median_days, t.marks.get("median_days"), days),
                cell(d, t.p90_days, t.marks.get("p90_days"), days),
            ]
            for t in timings
        ],
    }


def page_sections(d: Dashboard) -> list[dict]:
    """Each section's chart and table, in the order the page shows them."""
    within = d.rg_within_deadline[:-1]
    breach_rows = d.breaches[:-1]
    breach_labels = [f"{b.competent_authority}, {NATIONS.get(b.nation, b.nation)}" for b in breach_rows]
    open_stages = [(status, label, n, d.open_marks.get(status)) for status, label, n in d.open_by_stage]
    decimals = 1 if d.exact else d.policy.percentage_decimals
    return [
        {
            "id": "open",
            "title": "Open cases by stage",
            "chart": Markup(
                bar_chart(
                    chart_id="open-chart",
                    title="Open cases by stage",
                    table_id="open-table",
                    categories=[label for _, label, _, _ in open_stages],
                    series=[
                        Series(
                            "Open cases",
                            [n for _, _, n, _ in open_stages],
                            chart_notes(d, [m for _, _, _, m in open_stages]),
                        )
                    ],
                )
            ),
            "head": ["Stage", "Open cases"],
            "numeric": [False, True],
            "rows": [[escape(label), cell(d, n, mark)] for _, label, n, mark in open_stages]
            + [[escape("All open cases"), cell(d, d.open_total, d.open_marks.get(None))]],
        },
        _timing_section(d, "time-to-rg", "Days from referral to the Reasonable Grounds decision", d.time_to_rg),
        _timing_section(d, "time-to-cg", "Days from referral to the Conclusive Grounds decision", d.time_to_cg),
        {
            "id": "within",
            "title": "Reasonable Grounds decisions made within the deadline",
            "chart": Markup(
                bar_chart(
                    chart_id="within-chart",
                    title="Reasonable Grounds decisions made within the deadline",
                    table_id="within-table",
                    unit="%",
                    maximum=100,
                    categories=[month_label(s.month) for s in within],
                    series=[_series(d, "Within the deadline", within, "percent")],
                )
            ),
            "head": ["Month decided", "Decisions", "Within the deadline", "Share within the deadline"],
            "numeric": [False, True, True, True],
            "rows": [
                [
                    escape(month_label(s.month)),
                    cell(d, s.decisions, s.marks.get("decisions")),
                    cell(d, s.within_deadline, s.marks.get("within_deadline")),
                    cell(d, s.percent, s.marks.get("percent"), lambda v: percent(v, decimals)),
                ]
                for s in d.rg_within_deadline
            ],
        },
        {
            "id": "breaches",
            "title": "Missed deadlines by competent authority and nation",
            "chart": Markup(
                bar_chart(
                    chart_id="breaches-chart",
                    title="Missed deadlines by competent authority and nation",
                    table_id="breaches-table",
                    categories=breach_labels,
                    series=[
                        _series(d, "Reasonable Grounds", breach_rows, "rg_missed"),
                        _series(d, "Conclusive Grounds", breach_rows, "cg_missed"),
                    ],
                )
            ),
            "head": [
                "Competent authority",
                "Nation",
                "RG deadlines passed",
                "RG missed",
                "Recovery periods ended",
                "CG not made by then",
            ],
            "numeric": [False, False, True, True, True, True],
            "rows": [
                [
                    escape(AUTHORITY_NAMES.get(b.competent_authority, "All") if b.competent_authority else "All"),
                    escape(NATIONS.get(b.nation, "") if b.nation else "All"),
                    *(cell(d, getattr(b, k), b.marks.get(k)) for k in BREACH_FIGURES),
                ]
                for b in d.breaches
            ],
        },
    ]


def _with_marks(figures: dict, marks: dict, names: dict | None = None) -> dict:
    """The figures, then each one's GSS shorthand code ("c": withheld, value null) and whether it counts few cases."""
    names = names or {k: k for k in figures}
    return {
        **figures,
        "obs_status": {api: SUPPRESSED if marks.get(field) == SUPPRESSED else "" for field, api in names.items()},
        "below_threshold": {api: marks.get(field) == SMALL for field, api in names.items()},
    }


def _timing_dict(t) -> dict:
    return _with_marks({"decisions": t.decisions, "median_days": t.median_days, "p90_days": t.p90_days}, t.marks)


def _share_dict(s) -> dict:
    return _with_marks(
        {
            "decisions": s.decisions,
            "within_deadline": s.within_deadline,
            "percent": None if s.percent is None else round(s.percent, 2),
        },
        s.marks,
    )


BREACH_FIGURES = {
    "rg_due": "reasonable_grounds_due",
    "rg_missed": "reasonable_grounds_missed",
    "cg_due": "conclusive_grounds_due",
    "cg_missed": "conclusive_grounds_missed",
}


def _breach_dict(b) -> dict:
    return _with_marks({api: getattr(b, field) for field, api in BREACH_FIGURES.items()}, b.marks, BREACH_FIGURES)


def _disclosure_dict(d: Dashboard) -> dict:
    p = d.policy
    return {
        "method": "exact" if d.exact else "controlled",
        "policy_version": p.version,
        "threshold": p.threshold,
        "rounding_base": p.rounding_base,
        "min_percentage_base": p.min_percentage_base,
        "percentage_decimals": p.percentage_decimals,
        "min_group_for_summary": p.min_group_for_summary,
    }


def as_dict(d: Dashboard) -> dict:
    """The API's answer: the same figures as the page, with dates as YYYY-MM-DD and months as YYYY-MM."""
    return {
        "period": {"from": d.period.start.isoformat(), "to": d.period.end.isoformat()},
        "filters": {
            "authority": d.filters.competent_authority,
            "nation": d.filters.nation,
            "age_group": d.filters.age_group,
        },
        "as_of": d.today.isoformat(),
        "disclosure": _disclosure_dict(d),
        "open_by_stage": [
            {"status": s, "label": label, **_with_marks({"count": n}, {"count": d.open_marks.get(s)})}
            for s, label, n in d.open_by_stage
        ],
        "open_total": d.open_total,
        "open_total_obs_status": SUPPRESSED if d.open_marks.get(None) == SUPPRESSED else "",
        "open_total_below_threshold": d.open_marks.get(None) == SMALL,
        "time_to_reasonable_grounds": {
            "months": [{"month": f"{t.month:%Y-%m}", **_timing_dict(t)} for t in d.time_to_rg[:-1]],
            "period": _timing_dict(d.time_to_rg[-1]),
        },
        "time_to_conclusive_grounds": {
            "months": [{"month": f"{t.month:%Y-%m}", **_timing_dict(t)} for t in d.time_to_cg[:-1]],
            "period": _timing_dict(d.time_to_cg[-1]),
        },
        "reasonable_grounds_within_deadline": {
            "months": [{"month": f"{s.month:%Y-%m}", **_share_dict(s)} for s in d.rg_within_deadline[:-1]],
            "period": _share_dict(d.rg_within_deadline[-1]),
        },
        "missed_deadlines": {
            "rows": [
                {"competent_authority": b.competent_authority, "nation": b.nation, **_breach_dict(b)}
                for b in d.breaches[:-1]
            ],
            "total": _breach_dict(d.breaches[-1]),
        },
        "figures_as_of": d.as_of.isoformat() if d.as_of else None,
        "computed_in_ms": round(d.seconds * 1000, 1),
        "from_cache": d.from_cache,
    }
