"""The managers' dashboard figures (issue 3 item 8; ADR 0008): aggregates only, scoped to the actor.

One selector, `dashboard_figures`, for the page and the API. On PostgreSQL the figures are computed
in the database by one statement (percentile_cont, date_trunc, grouped sets), so that a million
referrals answer in well under a second; on SQLite (development, tests) the same figures are
computed in Python from one row per referral. Both follow the definitions in ADR 0008, and the
tests check both against the same hand-built cases.
"""

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from opennrm.audit.services import audit_record
from opennrm.decisions.models import Decision, DecisionState, Stage
from opennrm.decisions.selectors import QUEUE_STATUSES
from opennrm.policy import dashboard_scope
from opennrm.referrals.models import Referral, Status

from .periods import Filters, Period

LONDON = ZoneInfo("Europe/London")
OPEN_STAGES = [(s.value, s.label) for s in QUEUE_STATUSES]


class NotAllowed(Exception):
    """The actor's role may not see the dashboard at all (403)."""


@dataclass(frozen=True)
class Timing:
    """Calendar days from receipt to a decision, over the decisions that took effect in a month (or the whole period)."""

    month: dt.date | None  # None: the whole period
    decisions: int
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class DeadlineShare:
    month: dt.date | None
    decisions: int
    within_deadline: int

    @property
    def percent(self) -> float | None:
        return 100 * self.within_deadline / self.decisions if self.decisions else None


@dataclass(frozen=True)
class Breaches:
    competent_authority: str | None  # None in the totals row
    nation: str | None
    rg_due: int  # cases whose Reasonable Grounds deadline fell in the period (and has passed)
    rg_missed: int
    cg_due: int  # cases whose recovery period ended in the period (and has passed)
    cg_missed: int


@dataclass
class Dashboard:
    period: Period
    filters: Filters
    today: dt.date
    open_by_stage: list[tuple[str, str, int]]
    time_to_rg: list[Timing]  # one per month of the period, then the period's
    time_to_cg: list[Timing]
    rg_within_deadline: list[DeadlineShare]
    breaches: list[Breaches]  # one per authority and nation with a deadline in the period, then the totals
    engine: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def open_total(self) -> int:
        return sum(n for _, _, n in self.open_by_stage)


def dashboard_figures(*, actor, period: Period, filters: Filters, today: dt.date | None = None, via: str = "page") -> Dashboard:
    """The dashboard's figures for the actor's scope; the view (not any record) is audited once."""
    scope = dashboard_scope(actor)
    if scope is None:
        raise NotAllowed("Your role does not see the decisions dashboard")
    today = today or timezone.now().astimezone(LONDON).date()
    cases = Referral.objects.filter(scope)
    for name, value in filters.as_dict().items():
        cases = cases.filter(**{name: value})
    t0 = timezone.now()
    counts = dict(cases.filter(status__in=[s for s, _ in OPEN_STAGES]).values_list("status").annotate(n=Count("id")).order_by())
    open_by_stage = [(status, label, counts.get(status, 0)) for status, label in OPEN_STAGES]
    # A deadline that falls today has not passed yet: only deadlines up to yesterday can have been missed.
    breach_end = min(period.end, today - dt.timedelta(days=1))
    compute = _figures_in_postgresql if connection.vendor == "postgresql" else _figures_in_python
    time_to_rg, time_to_cg, within, breaches = compute(cases, period, breach_end)
    figures = Dashboard(period, filters, today, open_by_stage, time_to_rg, time_to_cg, within, breaches,
                        engine=connection.vendor, seconds=(timezone.now() - t0).total_seconds())
    # Audited after the figures are computed, so the audit chain is held only for the append itself.
    with transaction.atomic():
        audit_record(actor=actor, action="dashboard.view", object_type="dashboard", object_id="decisions", details={
            "via": via, "from": period.start.isoformat(), "to": period.end.isoformat(), **filters.as_dict(),
        })
    return figures


# --- Shared shaping -------------------------------------------------------------------------------


def _month_series(period: Period, by_month: dict, overall, empty) -> list:
    """One entry per month of the period (months with no decisions as `empty(month)`), then the period's."""
    return [by_month.get(m) or empty(m) for m in period.months()] + [overall or empty(None)]


def _timings(period: Period, rows: dict) -> list[Timing]:
    """rows: month (or None for the period) → (decisions, median, p90)."""
    by_month = {m: Timing(m, *v) for m, v in rows.items() if m is not None}
    overall = Timing(None, *rows[None]) if None in rows else None
    return _month_series(period, by_month, overall, lambda m: Timing(m, 0, None, None))


def _shares(period: Period, rows: dict) -> list[DeadlineShare]:
    """rows: month (or None) → (decisions, within the deadline)."""
    by_month = {m: DeadlineShare(m, *v) for m, v in rows.items() if m is not None}
    overall = DeadlineShare(None, *rows[None]) if None in rows else None
    return _month_series(period, by_month, overall, lambda m: DeadlineShare(m, 0, 0))


def _breach_rows(cells: dict) -> list[Breaches]:
    """cells: (authority, nation) → [rg_due, rg_missed, cg_due, cg_missed]; sorted, with a totals row."""
    rows = [Breaches(a, n, *v) for (a, n), v in sorted(cells.items())]
    totals = [sum(r[i] for r in cells.values()) for i in range(4)]
    return rows + [Breaches(None, None, *totals)]


# --- PostgreSQL: one statement --------------------------------------------------------------------

# The first issued decision of each stage per referral takes effect when issued: a positive on
# decided_at, a confirmed negative when the second decision maker confirmed it (reviewed_at).
# Days are calendar days between London dates. A case withdrawn without the decision is in no
# deadline count (when it was withdrawn is not recorded on the referral).
FIGURES_SQL = """
WITH cases AS MATERIALIZED (
    SELECT c.id, c.competent_authority, c.nation, c.status, c.reasonable_grounds_due AS rg_due,
           c.recovery_period_ends_on AS cg_due, (c.received_at AT TIME ZONE 'Europe/London')::date AS received_on
    FROM ({cases}) AS c
), firsts AS (
    SELECT d.referral_id,
           (MIN(COALESCE(d.reviewed_at, d.decided_at)) FILTER (WHERE d.stage = %(rg)s) AT TIME ZONE 'Europe/London')::date AS rg_on,
           (MIN(COALESCE(d.reviewed_at, d.decided_at)) FILTER (WHERE d.stage = %(cg)s) AT TIME ZONE 'Europe/London')::date AS cg_on
    FROM {decision} AS d
    WHERE d.state = %(issued)s AND d.referral_id IN (SELECT id FROM cases)
    GROUP BY d.referral_id
), joined AS MATERIALIZED (
    SELECT c.*, f.rg_on, f.cg_on FROM cases c LEFT JOIN firsts f ON f.referral_id = c.id
)
SELECT 'rg', date_trunc('month', rg_on)::date, NULL::text, NULL::text, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY rg_on - received_on),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY rg_on - received_on),
       count(*) FILTER (WHERE rg_on <= rg_due), NULL::bigint
FROM joined WHERE rg_on BETWEEN %(start)s AND %(end)s
GROUP BY ROLLUP (date_trunc('month', rg_on))
UNION ALL
SELECT 'cg', date_trunc('month', cg_on)::date, NULL, NULL, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY cg_on - received_on),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY cg_on - received_on),
       NULL, NULL
FROM joined WHERE cg_on BETWEEN %(start)s AND %(end)s
GROUP BY ROLLUP (date_trunc('month', cg_on))
UNION ALL
SELECT 'breach', NULL, competent_authority, nation, NULL, NULL, NULL,
       count(*), count(*) FILTER (WHERE rg_on IS NULL OR rg_on > rg_due)
FROM joined WHERE rg_due BETWEEN %(start)s AND %(breach_end)s AND NOT (rg_on IS NULL AND status = %(withdrawn)s)
GROUP BY competent_authority, nation
UNION ALL
SELECT 'cg_breach', NULL, competent_authority, nation, NULL, NULL, NULL,
       count(*), count(*) FILTER (WHERE cg_on IS NULL OR cg_on > cg_due)
FROM joined WHERE cg_due BETWEEN %(start)s AND %(breach_end)s AND NOT (cg_on IS NULL AND status = %(withdrawn)s)
GROUP BY competent_authority, nation
"""


def _figures_in_postgresql(cases, period: Period, breach_end: dt.date):
    cases_sql, cases_params = cases.values("id", "competent_authority", "nation", "status", "reasonable_grounds_due",
                                           "recovery_period_ends_on", "received_at").query.sql_with_params()
    # The scoped queryset's own SQL, placeholders kept: its parameters are bound as positional ones below.
    named = {"rg": Stage.REASONABLE_GROUNDS.value, "cg": Stage.CONCLUSIVE_GROUNDS.value, "issued": DecisionState.ISSUED.value,
             "start": period.start, "end": period.end, "breach_end": breach_end, "withdrawn": Status.WITHDRAWN.value}
    for i, value in enumerate(cases_params):
        named[f"p{i}"] = value
    cases_sql = cases_sql.replace("%s", "{}").format(*(f"%(p{i})s" for i in range(len(cases_params))))
    sql = FIGURES_SQL.format(cases=cases_sql, decision=connection.ops.quote_name(Decision._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, named)
        rows = cursor.fetchall()
    rg, cg, within = {}, {}, {}
    cells: dict = defaultdict(lambda: [0, 0, 0, 0])
    for kind, month, authority, nation, n, median, p90, a, b in rows:
        if kind == "rg":
            rg[month] = (n, median, p90)
            within[month] = (n, a)
        elif kind == "cg":
            cg[month] = (n, median, p90)
        elif kind == "breach":
            cells[(authority, nation)][0:2] = [a, b]
        else:
            cells[(authority, nation)][2:4] = [a, b]
    return _timings(period, rg), _timings(period, cg), _shares(period, within), _breach_rows(cells)


# --- Anywhere else (SQLite): one row per referral, computed here ----------------------------------


def percentile_cont(ordered: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks of the sorted values."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _first_issued(stage: str):
    return Subquery(
        Decision.objects.filter(referral=OuterRef("pk"), stage=stage, state=DecisionState.ISSUED)
        .annotate(effective_at=Coalesce("reviewed_at", "decided_at")).order_by("effective_at").values("effective_at")[:1]
    )


def _london_day(value):
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns a subquery's datetime as text
        value = dt.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(LONDON).date()


def _figures_in_python(cases, period: Period, breach_end: dt.date):
    rows = cases.annotate(rg_at=_first_issued(Stage.REASONABLE_GROUNDS), cg_at=_first_issued(Stage.CONCLUSIVE_GROUNDS)).values_list(
        "competent_authority", "nation", "status", "received_at", "reasonable_grounds_due", "recovery_period_ends_on", "rg_at", "cg_at")
    rg_days, cg_days = defaultdict(list), defaultdict(list)
    within: dict = defaultdict(int)
    cells: dict = defaultdict(lambda: [0, 0, 0, 0])
    for authority, nation, status, received_at, rg_due, cg_due, rg_at, cg_at in rows.iterator():
        received_on, rg_on, cg_on = _london_day(received_at), _london_day(rg_at), _london_day(cg_at)
        if rg_on and period.start <= rg_on <= period.end:
            for key in (rg_on.replace(day=1), None):
                rg_days[key].append((rg_on - received_on).days)
                within[key] += rg_on <= rg_due
        if cg_on and period.start <= cg_on <= period.end:
            for key in (cg_on.replace(day=1), None):
                cg_days[key].append((cg_on - received_on).days)
        withdrawn = status == Status.WITHDRAWN
        if period.start <= rg_due <= breach_end and not (rg_on is None and withdrawn):
            cells[(authority, nation)][0] += 1
            cells[(authority, nation)][1] += rg_on is None or rg_on > rg_due
        if cg_due and period.start <= cg_due <= breach_end and not (cg_on is None and withdrawn):
            cells[(authority, nation)][2] += 1
            cells[(authority, nation)][3] += cg_on is None or cg_on > cg_due

    def timing_rows(days: dict) -> dict:
        out = {}
        for key, values in days.items():
            values.sort()
            out[key] = (len(values), percentile_cont(values, 0.5), percentile_cont(values, 0.9))
        return out

    shares = {key: (len(days), within[key]) for key, days in rg_days.items()}
    return _timings(period, timing_rows(rg_days)), _timings(period, timing_rows(cg_days)), _shares(period, shares), _breach_rows(cells)
