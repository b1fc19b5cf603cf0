"""The dashboard's figures as the page shows them (charts and tables from the same numbers) and as the API answers."""

from markupsafe import Markup

from opennrm.referrals.codes import NATIONS
from opennrm.referrals.models import CompetentAuthority

from .charts import Series, bar_chart
from .selectors import Dashboard

AUTHORITY_NAMES = dict(CompetentAuthority.choices)


def month_label(month) -> str:
    return "Whole period" if month is None else f"{month:%B %Y}"


def days(value) -> str:
    return "–" if value is None else f"{value:,.1f}"


def percent(value) -> str:
    return "–" if value is None else f"{value:.1f}%"


def _timing_section(key: str, title: str, timings) -> dict:
    months = timings[:-1]
    return {
        "id": key,
        "title": title,
        "chart": Markup(bar_chart(
            chart_id=f"{key}-chart", title=title, table_id=f"{key}-table", unit=" days",
            categories=[month_label(t.month) for t in months],
            series=[Series("Median", [t.median_days for t in months]), Series("90th percentile", [t.p90_days for t in months])],
        )),
        "head": ["Month decided", "Decisions", "Median days", "90th percentile days"],
        "numeric": [False, True, True, True],
        "rows": [[month_label(t.month), f"{t.decisions:,}", days(t.median_days), days(t.p90_days)] for t in timings],
    }


def page_sections(d: Dashboard) -> list[dict]:
    """Each section's chart and table, in the order the page shows them."""
    within = d.rg_within_deadline[:-1]
    breach_rows = d.breaches[:-1]
    breach_labels = [f"{b.competent_authority}, {NATIONS.get(b.nation, b.nation)}" for b in breach_rows]
    return [
        {
            "id": "open", "title": "Open cases by stage",
            "chart": Markup(bar_chart(chart_id="open-chart", title="Open cases by stage", table_id="open-table",
                                      categories=[label for _, label, _ in d.open_by_stage],
                                      series=[Series("Open cases", [n for _, _, n in d.open_by_stage])])),
            "head": ["Stage", "Open cases"], "numeric": [False, True],
            "rows": [[label, f"{n:,}"] for _, label, n in d.open_by_stage] + [["All open cases", f"{d.open_total:,}"]],
        },
        _timing_section("time-to-rg", "Days from referral to the Reasonable Grounds decision", d.time_to_rg),
        _timing_section("time-to-cg", "Days from referral to the Conclusive Grounds decision", d.time_to_cg),
        {
            "id": "within", "title": "Reasonable Grounds decisions made within the deadline",
            "chart": Markup(bar_chart(chart_id="within-chart", title="Reasonable Grounds decisions made within the deadline",
                                      table_id="within-table", unit="%", maximum=100,
                                      categories=[month_label(s.month) for s in within], series=[Series("Within the deadline", [s.percent for s in within])])),
            "head": ["Month decided", "Decisions", "Within the deadline", "Share within the deadline"],
            "numeric": [False, True, True, True],
            "rows": [[month_label(s.month), f"{s.decisions:,}", f"{s.within_deadline:,}", percent(s.percent)] for s in d.rg_within_deadline],
        },
        {
            "id": "breaches", "title": "Missed deadlines by competent authority and nation",
            "chart": Markup(bar_chart(chart_id="breaches-chart", title="Missed deadlines by competent authority and nation",
                                      table_id="breaches-table", categories=breach_labels,
                                      series=[Series("Reasonable Grounds", [b.rg_missed for b in breach_rows]),
                                              Series("Conclusive Grounds", [b.cg_missed for b in breach_rows])])),
            "head": ["Competent authority", "Nation", "RG deadlines passed", "RG missed", "Recovery periods ended", "CG not made by then"],
            "numeric": [False, False, True, True, True, True],
            "rows": [[AUTHORITY_NAMES.get(b.competent_authority, "All") if b.competent_authority else "All",
                      NATIONS.get(b.nation, "") if b.nation else "All",
                      f"{b.rg_due:,}", f"{b.rg_missed:,}", f"{b.cg_due:,}", f"{b.cg_missed:,}"] for b in d.breaches],
        },
    ]


def _timing_dict(t) -> dict:
    return {"decisions": t.decisions, "median_days": t.median_days, "p90_days": t.p90_days}


def _share_dict(s) -> dict:
    return {"decisions": s.decisions, "within_deadline": s.within_deadline, "percent": None if s.percent is None else round(s.percent, 2)}


def _breach_dict(b) -> dict:
    return {"reasonable_grounds_due": b.rg_due, "reasonable_grounds_missed": b.rg_missed,
            "conclusive_grounds_due": b.cg_due, "conclusive_grounds_missed": b.cg_missed}


def as_dict(d: Dashboard) -> dict:
    """The API's answer: the same figures as the page, with dates as YYYY-MM-DD and months as YYYY-MM."""
    return {
        "period": {"from": d.period.start.isoformat(), "to": d.period.end.isoformat()},
        "filters": {"authority": d.filters.competent_authority, "nation": d.filters.nation, "age_group": d.filters.age_group},
        "as_of": d.today.isoformat(),
        "open_by_stage": [{"status": s, "label": label, "count": n} for s, label, n in d.open_by_stage],
        "open_total": d.open_total,
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
            "rows": [{"competent_authority": b.competent_authority, "nation": b.nation, **_breach_dict(b)} for b in d.breaches[:-1]],
            "total": _breach_dict(d.breaches[-1]),
        },
        "figures_as_of": d.as_of.isoformat() if d.as_of else None,
        "computed_in_ms": round(d.seconds * 1000, 1),
        "from_cache": d.from_cache,
    }
