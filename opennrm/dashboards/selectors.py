"""The managers' dashboard figures (issue 3 item 8; ADR 0008): aggregates only, scoped to the actor.

One selector, `dashboard_figures`, for the page and the API. Open cases by stage are counted from
the referrals, now. The other figures come from the summary (models.CaseFigures): on PostgreSQL by
one statement (percentile_cont, date_trunc, ROLLUP) whose parts are index-only scans; elsewhere
(SQLite: development, tests) the same definitions in Python over the same rows. They change only
when the summary is refreshed, so they are cached per scope, period and filters until then. The
tests hold both computations to the same hand-built cases.
"""

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.services import audit_record
from opennrm.core.errors import NotAllowed
from opennrm.decisions.selectors import QUEUE_STATUSES
from opennrm.policy import dashboard_figures_exact, dashboard_scope
from opennrm.referrals.models import Referral
from opennrm.statistics.disclosure import DEFAULT_POLICY, DisclosurePolicy

from .derive import LONDON
from .disclosure import disclosure_controlled, marked_small
from .models import CaseFigures
from .periods import Filters, Period
from .services import case_figures_refresh, refresh_requested, refresh_state
from .tasks import refresh_case_figures

OPEN_STAGES = [(s.value, s.label) for s in QUEUE_STATUSES]


@dataclass(frozen=True)
class Timing:
    """Calendar days from receipt to a decision, over the decisions that took effect in a month (or the whole period)."""

    month: dt.date | None  # None: the whole period
    decisions: int | None
    median_days: float | None
    p90_days: float | None
    marks: dict = field(
        default_factory=dict, compare=False
    )  # by field: SUPPRESSED ("c": value None) or SMALL (exact, few cases)


@dataclass(frozen=True)
class DeadlineShare:
    month: dt.date | None
    decisions: int | None
    within_deadline: int | None
    percent: float | None = None
    marks: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Breaches:
    competent_authority: str | None  # None in the totals row
    nation: str | None
    rg_due: int | None  # cases whose Reasonable Grounds deadline fell in the period (and has passed)
    rg_missed: int | None
    cg_due: int | None  # cases whose recovery period ended in the period (and has passed)
    cg_missed: int | None
    marks: dict = field(default_factory=dict, compare=False)


# What the summary's figures compute to, in Dashboard's field order: time_to_rg, time_to_cg, rg_within_deadline, breaches.
type Figures = tuple[list[Timing], list[Timing], list[DeadlineShare], list[Breaches]]


@dataclass
class Dashboard:
    period: Period
    filters: Filters
    today: dt.date
    open_by_stage: list[tuple[str, str, int | None]]
    open_total: int | None
    time_to_rg: list[Timing]  # one per month of the period, then the period's
    time_to_cg: list[Timing]
    rg_within_deadline: list[DeadlineShare]
    breaches: list[Breaches]  # one per authority and nation with a deadline in the period, then the totals
    open_marks: dict = field(default_factory=dict)  # by status (None: the total), as `marks`
    exact: bool = True  # False: disclosure-controlled (rounded, small counts suppressed) for a role that sees no record
    policy: DisclosurePolicy = DEFAULT_POLICY
    as_of: dt.datetime | None = None  # when the summary behind the decision and deadline figures was last refreshed
    from_cache: bool = False  # the summary's figures were computed by an earlier view since that refresh
    engine: str = ""
    seconds: float = 0.0

    @property
    def marked(self) -> set[str]:
        """The marks any figure carries (to explain them once, above the figures)."""
        figures: list[Timing | DeadlineShare | Breaches] = [
            *self.time_to_rg,
            *self.time_to_cg,
            *self.rg_within_deadline,
            *self.breaches,
        ]
        return set(self.open_marks.values()) | {m for f in figures for m in f.marks.values()}


def dashboard_figures(
    *, actor: User, period: Period, filters: Filters, today: dt.date | None = None, via: str = "page"
) -> Dashboard:
    """The dashboard's figures for the actor's scope; the view (not any record) is audited once."""
    scope = dashboard_scope(actor)
    if scope is None:
        raise NotAllowed("Your role does not see the decisions dashboard")
    today = today or timezone.now().astimezone(LONDON).date()
    cases = Referral.objects.filter(scope)
    for name, value in filters.as_dict().items():
        cases = cases.filter(**{name: value})
    t0 = timezone.now()
    as_of = _summary_as_of(t0)
    counts = dict(
        cases.filter(status__in=[s for s, _ in OPEN_STAGES]).values_list("status").annotate(n=Count("id")).order_by()
    )
    open_by_stage = [(status, label, counts.get(status, 0)) for status, label in OPEN_STAGES]
    # A deadline that falls today has not passed yet: only deadlines up to yesterday can have been missed.
    breach_end = min(period.end, today - dt.timedelta(days=1))
    # The summary's figures change only when it is refreshed: the same scope, period and filters are computed once per refresh.
    key = "dashboard:" + hashlib.sha256(repr((str(scope), period, filters, breach_end, as_of)).encode()).hexdigest()
    computed = cache.get(key)
    from_cache = computed is not None
    if not from_cache:
        summary = CaseFigures.objects.filter(scope)
        for name, value in filters.as_dict().items():
            summary = summary.filter(**{name: value})
        compute = _figures_in_postgresql if connection.vendor == "postgresql" else _figures_in_python
        with transaction.atomic():  # SET LOCAL lasts for the transaction
            computed = compute(summary, period, breach_end)
        cache.set(key, computed, timeout=2 * settings.DASHBOARD_REFRESH_SECONDS)
    exact = Dashboard(period, filters, today, open_by_stage, sum(n for _, _, n in open_by_stage), *computed)
    # Exact figures, small ones marked, for those who may open the cases counted; controlled ones for the rest.
    figures = marked_small(exact) if dashboard_figures_exact(actor) else disclosure_controlled(exact)
    figures.as_of, figures.from_cache, figures.engine = as_of, from_cache, connection.vendor
    figures.seconds = (timezone.now() - t0).total_seconds()
    # Audited after the figures are computed, so the audit chain is held only for the append itself.
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="dashboard.view",
            object_type="dashboard",
            object_id="decisions",
            details={
                "via": via,
                "from": period.start.isoformat(),
                "to": period.end.isoformat(),
                **filters.as_dict(),
            },
        )
    return figures


SUMMARY_COLUMNS = ("competent_authority", "nation", "withdrawn", "received_on", "rg_due", "cg_due", "rg_on", "cg_on")


def _summary_as_of(now: dt.datetime) -> dt.datetime | None:
    """When the summary was refreshed; asks the worker for a refresh when it is older than DASHBOARD_REFRESH_SECONDS.

    Never refreshed at all (a new installation): refreshed here and now, once.
    """
    state = refresh_state()
    if state.refreshed_at is None:
        case_figures_refresh(full=True)
        return refresh_state().refreshed_at
    stale = dt.timedelta(seconds=settings.DASHBOARD_REFRESH_SECONDS)
    if now - state.refreshed_at > stale and (
        state.requested_at is None or state.requested_at < state.refreshed_at or now - state.requested_at > 10 * stale
    ):
        refresh_requested(at=now)
        transaction.on_commit(refresh_case_figures.enqueue)
    return state.refreshed_at


# --- Shared shaping -------------------------------------------------------------------------------


def _month_series[T](
    period: Period, by_month: dict[dt.date, T], overall: T | None, empty: Callable[[dt.date | None], T]
) -> list[T]:
    """One entry per month of the period (months with no decisions as `empty(month)`), then the period's."""
    return [by_month.get(m) or empty(m) for m in period.months()] + [overall or empty(None)]


def _timings(period: Period, rows: dict) -> list[Timing]:
    """rows: month (or None for the period) → (decisions, median, p90)."""
    by_month = {m: Timing(m, *v) for m, v in rows.items() if m is not None}
    overall = Timing(None, *rows[None]) if None in rows else None
    return _month_series(period, by_month, overall, lambda m: Timing(m, 0, None, None))


def _shares(period: Period, rows: dict) -> list[DeadlineShare]:
    """rows: month (or None) → (decisions, within the deadline)."""
    by_month = {m: _share(m, *v) for m, v in rows.items() if m is not None}
    overall = _share(None, *rows[None]) if None in rows else None
    return _month_series(period, by_month, overall, lambda m: DeadlineShare(m, 0, 0))


def _share(month: dt.date | None, decisions: int, within: int) -> DeadlineShare:
    return DeadlineShare(month, decisions, within, 100 * within / decisions if decisions else None)


def _breach_rows(cells: dict) -> list[Breaches]:
    """cells: (authority, nation) → [rg_due, rg_missed, cg_due, cg_missed]; sorted, with a totals row."""
    rows = [Breaches(a, n, *v) for (a, n), v in sorted(cells.items())]
    totals = [sum(r[i] for r in cells.values()) for i in range(4)]
    return rows + [Breaches(None, None, *totals)]


# --- PostgreSQL: one statement over the summary -----------------------------------------------------

# The summary's rows of the actor's scope, four times over ({cases}): each part reads its own range of an index.
# Days to a decision are whole numbers, so each month's percentiles come exactly from a count of
# decisions per number of days (a hash aggregate) rather than a sort of every decision (ADR 0008).
FIGURES_SQL = """
SELECT 'rg', date_trunc('month', rg_on)::date, NULL::text, NULL::text, rg_on - received_on, count(*),
       count(*) FILTER (WHERE rg_on <= rg_due)
FROM ({cases}) AS c WHERE rg_on BETWEEN %(start)s AND %(end)s
GROUP BY 2, 5
UNION ALL
SELECT 'cg', date_trunc('month', cg_on)::date, NULL, NULL, cg_on - received_on, count(*), NULL
FROM ({cases}) AS c WHERE cg_on BETWEEN %(start)s AND %(end)s
GROUP BY 2, 5
UNION ALL
SELECT 'breach', NULL, competent_authority, nation, NULL, count(*), count(*) FILTER (WHERE rg_on IS NULL OR rg_on > rg_due)
FROM ({cases}) AS c WHERE rg_due BETWEEN %(start)s AND %(breach_end)s AND NOT (rg_on IS NULL AND withdrawn)
GROUP BY competent_authority, nation
UNION ALL
SELECT 'cg_breach', NULL, competent_authority, nation, NULL, count(*), count(*) FILTER (WHERE cg_on IS NULL OR cg_on > cg_due)
FROM ({cases}) AS c WHERE cg_due BETWEEN %(start)s AND %(breach_end)s AND NOT (cg_on IS NULL AND withdrawn)
GROUP BY competent_authority, nation
"""


def percentile_from_counts(counts: dict[int, int], fraction: float) -> float | None:
    """percentile_cont over the values that `counts` ({value: how many}) stands for, without listing them."""
    total = sum(counts.values())
    if total == 0:
        return None
    position = fraction * (total - 1)
    below, above = int(position), min(int(position) + 1, total - 1)
    lower: int | None = None
    upper: int | None = None
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if lower is None and seen > below:
            lower = value
        if seen > above:
            upper = value
            break
    assert lower is not None and upper is not None  # `seen` reaches `total`, past both ranks
    return lower + (position - below) * (upper - lower)


def _timing_rows(days_by_month: dict) -> dict:
    """month → {days: decisions} into month (and None for the whole period) → (decisions, median, p90)."""
    overall: dict = defaultdict(int)
    rows = {}
    for month, counts in days_by_month.items():
        for days, n in counts.items():
            overall[days] += n
        rows[month] = (sum(counts.values()), percentile_from_counts(counts, 0.5), percentile_from_counts(counts, 0.9))
    if overall:
        rows[None] = (sum(overall.values()), percentile_from_counts(overall, 0.5), percentile_from_counts(overall, 0.9))
    return rows


def _figures_in_postgresql(figures: QuerySet[CaseFigures], period: Period, breach_end: dt.date) -> Figures:
    cases_sql, cases_params = figures.values(*SUMMARY_COLUMNS).query.sql_with_params()
    # The scoped queryset's own SQL, its positional placeholders renamed so that it can appear four times.
    named = {"start": period.start, "end": period.end, "breach_end": breach_end}
    named.update({f"p{i}": value for i, value in enumerate(cases_params)})
    cases_sql = cases_sql.replace("%s", "{}").format(*(f"%(p{i})s" for i in range(len(cases_params))))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # compiling these small aggregates costs more than running them
        cursor.execute(FIGURES_SQL.format(cases=cases_sql), named)
        rows = cursor.fetchall()
    rg_days: dict = defaultdict(lambda: defaultdict(int))
    cg_days: dict = defaultdict(lambda: defaultdict(int))
    within: dict = defaultdict(lambda: [0, 0])
    cells: dict = defaultdict(lambda: [0, 0, 0, 0])
    for kind, month, authority, nation, days, n, a in rows:
        if kind == "rg":
            rg_days[month][days] += n
            for key in (month, None):
                within[key][0] += n
                within[key][1] += a
        elif kind == "cg":
            cg_days[month][days] += n
        elif kind == "breach":
            cells[(authority, nation)][0:2] = [n, a]
        else:
            cells[(authority, nation)][2:4] = [n, a]
    shares = {month: tuple(v) for month, v in within.items()}
    return (
        _timings(period, _timing_rows(rg_days)),
        _timings(period, _timing_rows(cg_days)),
        _shares(period, shares),
        _breach_rows(cells),
    )


# --- Anywhere else (SQLite): one row per referral, computed here ----------------------------------


def _figures_in_python(figures: QuerySet[CaseFigures], period: Period, breach_end: dt.date) -> Figures:
    rg_days: dict = defaultdict(lambda: defaultdict(int))
    cg_days: dict = defaultdict(lambda: defaultdict(int))
    within: dict = defaultdict(lambda: [0, 0])
    cells: dict = defaultdict(lambda: [0, 0, 0, 0])
    for authority, nation, withdrawn, received_on, rg_due, cg_due, rg_on, cg_on in figures.values_list(
        *SUMMARY_COLUMNS
    ).iterator():
        if rg_on and period.start <= rg_on <= period.end:
            rg_days[rg_on.replace(day=1)][(rg_on - received_on).days] += 1
            for key in (rg_on.replace(day=1), None):
                within[key][0] += 1
                within[key][1] += rg_on <= rg_due
        if cg_on and period.start <= cg_on <= period.end:
            cg_days[cg_on.replace(day=1)][(cg_on - received_on).days] += 1
        if period.start <= rg_due <= breach_end and not (rg_on is None and withdrawn):
            cells[(authority, nation)][0] += 1
            cells[(authority, nation)][1] += rg_on is None or rg_on > rg_due
        if cg_due and period.start <= cg_due <= breach_end and not (cg_on is None and withdrawn):
            cells[(authority, nation)][2] += 1
            cells[(authority, nation)][3] += cg_on is None or cg_on > cg_due
    shares = {month: tuple(v) for month, v in within.items()}
    return (
        _timings(period, _timing_rows(rg_days)),
        _timings(period, _timing_rows(cg_days)),
        _shares(period, shares),
        _breach_rows(cells),
    )
