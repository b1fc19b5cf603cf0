"""Keeping the dashboard's summary (CaseFigures) up to date: the only writes of the dashboards app.

A refresh re-derives the row of every referral updated since the last one (`Referral.updated_at`
changes whenever a decision is issued or confirmed, the status or the competent authority
changes), or of all referrals with `full=True`. A proposed or sent-back decision changes no figure,
so not touching the referral is right for them. Rows are derived data: the same input always gives
the same row, so taking a referral twice is harmless, and each refresh takes again the changes of
the last REFRESH_OVERLAP, so a transaction that committed late is still taken.
"""

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from opennrm.audit.services import audit_record
from opennrm.decisions.models import Decision, DecisionState, Stage
from opennrm.referrals.models import Referral, Status

from .derive import first_issued, london_day
from .models import CaseFigures, FiguresRefresh

REFRESH_OVERLAP = dt.timedelta(hours=1)

REFRESH_SQL = """
INSERT INTO {figures} (referral_id, competent_authority, local_authority, nation, age_group, withdrawn, received_on, rg_due, cg_due,
                       rg_on, cg_on, source_updated_at)
SELECT r.id, r.competent_authority, r.local_authority, r.nation, r.age_group, r.status = %(withdrawn)s,
       (r.received_at AT TIME ZONE 'Europe/London')::date, r.reasonable_grounds_due, r.recovery_period_ends_on,
       (f.rg_at AT TIME ZONE 'Europe/London')::date, (f.cg_at AT TIME ZONE 'Europe/London')::date, r.updated_at
FROM {referral} r
LEFT JOIN (
    SELECT d.referral_id,
           MIN(COALESCE(d.reviewed_at, d.decided_at)) FILTER (WHERE d.stage = %(rg)s) AS rg_at,
           MIN(COALESCE(d.reviewed_at, d.decided_at)) FILTER (WHERE d.stage = %(cg)s) AS cg_at
    FROM {decision} d
    WHERE d.state = %(issued)s {decision_filter}
    GROUP BY d.referral_id
) f ON f.referral_id = r.id
{referral_filter}
ON CONFLICT (referral_id) DO UPDATE SET
    competent_authority = EXCLUDED.competent_authority, local_authority = EXCLUDED.local_authority, nation = EXCLUDED.nation,
    age_group = EXCLUDED.age_group, withdrawn = EXCLUDED.withdrawn, received_on = EXCLUDED.received_on, rg_due = EXCLUDED.rg_due,
    cg_due = EXCLUDED.cg_due, rg_on = EXCLUDED.rg_on, cg_on = EXCLUDED.cg_on, source_updated_at = EXCLUDED.source_updated_at
"""


def _refresh_in_postgresql(since: dt.datetime | None) -> int:
    qn = connection.ops.quote_name
    referral_filter = "WHERE r.updated_at >= %(since)s" if since else ""
    decision_filter = (
        f"AND d.referral_id IN (SELECT id FROM {qn(Referral._meta.db_table)} WHERE updated_at >= %(since)s)"
        if since
        else ""
    )
    sql = REFRESH_SQL.format(
        figures=qn(CaseFigures._meta.db_table),
        referral=qn(Referral._meta.db_table),
        decision=qn(Decision._meta.db_table),
        referral_filter=referral_filter,
        decision_filter=decision_filter,
    )
    with connection.cursor() as cursor:
        # A full refresh joins every referral to its decisions: let it hash in memory rather than spill.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute(
            sql,
            {
                "withdrawn": Status.WITHDRAWN.value,
                "rg": Stage.REASONABLE_GROUNDS.value,
                "cg": Stage.CONCLUSIVE_GROUNDS.value,
                "issued": DecisionState.ISSUED.value,
                "since": since,
            },
        )
        rows = cursor.rowcount
    if since is None:
        with connection.cursor() as cursor:
            # Fresh statistics, or the planner reads the new rows' indexes as nearly empty.
            cursor.execute(f"ANALYZE {qn(CaseFigures._meta.db_table)}")
    return rows


def _refresh_in_python(since: dt.datetime | None) -> int:
    referrals = Referral.objects.all() if since is None else Referral.objects.filter(updated_at__gte=since)
    rows = [
        CaseFigures(
            referral_id=r["id"],
            competent_authority=r["competent_authority"],
            local_authority=r["local_authority"],
            nation=r["nation"],
            age_group=r["age_group"],
            withdrawn=r["status"] == Status.WITHDRAWN,
            received_on=london_day(r["received_at"]),
            rg_due=r["reasonable_grounds_due"],
            cg_due=r["recovery_period_ends_on"],
            rg_on=london_day(r["rg_at"]),
            cg_on=london_day(r["cg_at"]),
            source_updated_at=r["updated_at"],
        )
        for r in referrals.annotate(
            rg_at=first_issued(Stage.REASONABLE_GROUNDS), cg_at=first_issued(Stage.CONCLUSIVE_GROUNDS)
        ).values(
            "id",
            "competent_authority",
            "local_authority",
            "nation",
            "age_group",
            "status",
            "received_at",
            "reasonable_grounds_due",
            "recovery_period_ends_on",
            "updated_at",
            "rg_at",
            "cg_at",
        )
    ]
    CaseFigures.objects.filter(referral_id__in=[row.referral_id for row in rows]).delete()
    CaseFigures.objects.bulk_create(rows, batch_size=500)
    return len(rows)


@transaction.atomic
def case_figures_refresh(*, full: bool = False) -> int:
    """Bring the summary up to date; returns the number of referrals taken. One refresh at a time (the row lock)."""
    state, _ = FiguresRefresh.objects.get_or_create(pk=1)
    state = FiguresRefresh.objects.select_for_update().get(pk=1)
    started = timezone.now()
    since = None if full or state.covered_from is None else state.covered_from
    rows = (_refresh_in_postgresql if connection.vendor == "postgresql" else _refresh_in_python)(since)
    state.refreshed_at, state.covered_from, state.rows_last_refresh = timezone.now(), started - REFRESH_OVERLAP, rows
    state.save()
    audit_record(
        actor=None,
        action="dashboard.refresh",
        object_type="dashboard",
        object_id="decisions",
        details={
            "full": since is None,
            "referrals": rows,
            "seconds": round((state.refreshed_at - started).total_seconds(), 3),
        },
    )
    return rows


def refresh_state() -> FiguresRefresh:
    return FiguresRefresh.objects.filter(pk=1).first() or FiguresRefresh(pk=1)


def refresh_requested(*, at: dt.datetime) -> None:
    FiguresRefresh.objects.update_or_create(pk=1, defaults={"requested_at": at})


def case_figures_vacuum() -> None:
    """After a full refresh (outside its transaction): mark the summary's pages all-visible, so its indexes answer alone."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(CaseFigures._meta.db_table)}")
