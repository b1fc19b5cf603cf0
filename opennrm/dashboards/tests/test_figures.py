"""The dashboard's figures against hand-built cases whose medians, 90th percentiles and missed deadlines are worked out here.

The same cases and expectations run on SQLite (figures computed in Python) and on PostgreSQL
(one SQL statement), so the two computations are held to the same definitions (ADR 0008).
"""

import datetime as dt

import pytest

from opennrm.audit.models import AuditEvent
from opennrm.core.errors import NotAllowed
from opennrm.dashboards.models import CaseFigures, FiguresRefresh
from opennrm.dashboards.periods import Filters, Period, last_twelve_months
from opennrm.dashboards.selectors import dashboard_figures, percentile_from_counts
from opennrm.dashboards.services import case_figures_refresh
from opennrm.decisions.models import Decision
from opennrm.policy import Role
from opennrm.referrals.models import Referral

TODAY = dt.date(2026, 6, 15)
PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 14))


def noon(day: str) -> dt.datetime:
    # Noon UTC is the same day in London, summer or winter.
    return dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")


@pytest.fixture
def people(make_user):
    return {
        "referrer": make_user(Role.FIRST_RESPONDER, "fr"),
        "sca": make_user(Role.SCA_DECISION_MAKER, "sca1"),
        "sca2": make_user(Role.SCA_DECISION_MAKER, "sca2"),
        "ieca": make_user(Role.IECA_DECISION_MAKER, "ieca"),
        "panel": make_user(Role.PANEL_DECISION_MAKER, "panel"),
        "other_panel": make_user(
            Role.PANEL_DECISION_MAKER, "panel.camden", name="Camden multi-agency panel", local_authority="E09000007"
        ),
        "stats": make_user(Role.STATISTICIAN, "stats"),
        "auditor": make_user(Role.AUDITOR, "auditor"),
        "admin": make_user(Role.ADMIN, "admin"),
        "la": make_user(Role.LA_SOCIAL_WORKER, "la"),
        "immigration": make_user(Role.IMMIGRATION_OFFICER, "immigration"),
    }


def case(
    people, name, *, received, rg_due, status, authority="SCA", nation="ENG", cg_due=None, local_authority="E09000008"
):
    return Referral.objects.create(
        organisation=people["referrer"].organisation,
        created_by=people["referrer"],
        reference=f"NRM-T-{name}",
        nation=nation,
        status=status,
        competent_authority=authority,
        received_at=noon(received),
        reasonable_grounds_due=dt.date.fromisoformat(rg_due),
        recovery_period_ends_on=dt.date.fromisoformat(cg_due) if cg_due else None,
        age_group="child",
        local_authority=local_authority,
        potential_victim={"given_names": "Canary", "family_name": f"Surname{name}"},
        exploitation=[{"types": ["labour"]}],
    )


def decide(people, referral, stage, on, *, outcome="positive", state="issued", confirmed=None):
    return Decision.objects.create(
        referral=referral,
        stage=stage,
        outcome=outcome,
        state=state,
        reasons="Synthetic",
        competent_authority=referral.competent_authority,
        decided_by=people["sca"],
        decided_at=noon(on),
        reviewed_by=people["sca2"] if confirmed else None,
        reviewed_at=noon(confirmed) if confirmed else None,
        policy_version="naba-2022-30-day",
        guidance_version="rg-all-evidence-2023-07",
    )


RG, CG = "reasonable_grounds", "conclusive_grounds"


@pytest.fixture
def cases(people):
    """SCA, England, unless said otherwise. RG days: 2, 4, 6, 10 decided in January, 3 in February."""
    a = case(
        people,
        "A",
        received="2025-12-30",
        rg_due="2026-01-04",
        cg_due="2026-02-01",
        status="conclusive_grounds_positive",
    )
    decide(people, a, RG, "2026-01-01")  # 2 days, in time
    decide(people, a, CG, "2026-04-01")  # 92 days; recovery period ended 1 February: not made by then
    b = case(
        people,
        "B",
        received="2026-01-10",
        rg_due="2026-01-15",
        cg_due="2026-03-01",
        status="conclusive_grounds_positive",
    )
    decide(people, b, RG, "2026-01-14")  # 4 days, in time
    decide(people, b, CG, "2026-03-01")  # 50 days; on the day the recovery period ended
    c = case(
        people,
        "C",
        received="2026-01-12",
        rg_due="2026-01-17",
        cg_due="2026-05-01",
        status="awaiting_conclusive_grounds",
    )
    decide(people, c, RG, "2026-01-13", outcome="negative", state="sent_back")  # sent back: never took effect
    decide(people, c, RG, "2026-01-18")  # 6 days, a day late
    d = case(people, "D", received="2026-01-15", rg_due="2026-01-20", status="reasonable_grounds_negative")
    decide(
        people, d, RG, "2026-01-18", outcome="negative", confirmed="2026-01-25"
    )  # proposed in time, took effect on day 10: late
    e = case(people, "E", received="2026-02-02", rg_due="2026-02-07", cg_due="2026-06-20", status="recovery_period")
    decide(people, e, RG, "2026-02-05")  # 3 days, in time
    case(
        people, "F", received="2026-02-20", rg_due="2026-03-01", status="awaiting_reasonable_grounds"
    )  # open past its deadline
    case(
        people, "G", received="2026-06-08", rg_due="2026-06-15", status="awaiting_reasonable_grounds"
    )  # due today: not yet missed
    case(
        people, "H", received="2026-01-20", rg_due="2026-02-01", status="withdrawn"
    )  # withdrawn undecided: in no deadline count
    old = case(people, "I", received="2025-11-01", rg_due="2025-11-07", status="reasonable_grounds_negative")
    decide(people, old, RG, "2025-11-05", outcome="negative", confirmed="2025-11-06")  # before the period
    i = case(
        people,
        "J",
        authority="IECA",
        nation="SCT",
        received="2026-03-03",
        rg_due="2026-03-10",
        cg_due="2026-06-30",
        status="recovery_period",
    )
    decide(people, i, RG, "2026-03-05")  # 2 days
    case(
        people,
        "K",
        authority="LOCAL_PANEL",
        received="2026-05-01",
        rg_due="2026-06-15",
        status="awaiting_reasonable_grounds",
        local_authority="E09000019",
    )
    case_figures_refresh(full=True)


def figures(user, **filters):
    return dashboard_figures(actor=user, period=PERIOD, filters=Filters(**filters), today=TODAY)


def month(d, when):
    return next(x for x in d if x.month == when)


def test_percentile_cont_interpolates_as_postgresql_does():
    assert percentile_from_counts({2: 1, 4: 1, 6: 1, 10: 1}, 0.5) == 5
    assert percentile_from_counts({2: 1, 4: 1, 6: 1, 10: 1}, 0.9) == pytest.approx(8.8)
    assert percentile_from_counts({7: 1}, 0.9) == 7
    assert percentile_from_counts({}, 0.5) is None
    # Repeated values: the same as listing them (3, 3, 3, 8, 8 → median 3, p90 8).
    assert percentile_from_counts({8: 2, 3: 3}, 0.5) == 3
    assert percentile_from_counts({8: 2, 3: 3}, 0.9) == 8
    assert percentile_from_counts({1: 1, 5: 3}, 0.25) == pytest.approx(4.0)


def test_sca_decision_maker_sees_their_authority_figures(people, cases):
    d = figures(people["sca"])
    assert [(s, n) for s, _, n in d.open_by_stage] == [
        ("awaiting_reasonable_grounds", 2),
        ("recovery_period", 1),
        ("awaiting_conclusive_grounds", 1),
        ("reconsideration", 0),
    ]
    assert d.open_total == 4

    # One entry per month of the period, then the period's.
    assert [t.month for t in d.time_to_rg] == [dt.date(2026, m, 1) for m in range(1, 7)] + [None]
    jan = month(d.time_to_rg, dt.date(2026, 1, 1))
    assert (jan.decisions, jan.median_days, jan.p90_days) == (4, 5, pytest.approx(8.8))
    feb = month(d.time_to_rg, dt.date(2026, 2, 1))
    assert (feb.decisions, feb.median_days, feb.p90_days) == (1, 3, 3)
    assert month(d.time_to_rg, dt.date(2026, 3, 1)).decisions == 0  # the IECA decision is not the SCA's
    overall = d.time_to_rg[-1]
    assert (overall.decisions, overall.median_days, overall.p90_days) == (5, 4, pytest.approx(8.4))

    cg = d.time_to_cg[-1]
    assert (cg.decisions, cg.median_days, cg.p90_days) == (2, 71, pytest.approx(87.8))
    assert month(d.time_to_cg, dt.date(2026, 4, 1)).median_days == 92

    within_jan = month(d.rg_within_deadline, dt.date(2026, 1, 1))
    assert (within_jan.decisions, within_jan.within_deadline, within_jan.percent) == (4, 2, 50)
    assert (d.rg_within_deadline[-1].decisions, d.rg_within_deadline[-1].within_deadline) == (5, 3)
    assert d.rg_within_deadline[-1].percent == 60

    [england, totals] = d.breaches
    assert (england.competent_authority, england.nation) == ("SCA", "ENG")
    # RG: A, B, C, D, E, F due in the period and passed (G is due today, H withdrawn): C, D late and F open.
    # CG: A, B, C's recovery periods ended in it (E's ends later): A decided after, C not yet.
    assert (england.rg_due, england.rg_missed, england.cg_due, england.cg_missed) == (6, 3, 3, 2)
    assert (totals.competent_authority, totals.rg_due, totals.rg_missed, totals.cg_due, totals.cg_missed) == (
        None,
        6,
        3,
        3,
        2,
    )


def test_statistician_sees_every_authority_rounded_or_withheld_and_filters_narrow_it(people, cases):
    # Issue 22 point 8: a statistician sees no record, so no figure is exact (this test asserted exact counts before).
    d = figures(people["stats"])
    assert not d.exact
    # 6 open (SCA's 4, IECA's J and the panel's K), rounded to 5; each stage's 1 to 3 withheld, none in reconsideration.
    assert d.open_total == 5
    assert [(s, n, d.open_marks.get(s)) for s, _, n in d.open_by_stage] == [
        ("awaiting_reasonable_grounds", None, "c"),
        ("recovery_period", None, "c"),
        ("awaiting_conclusive_grounds", None, "c"),
        ("reconsideration", 0, None),
    ]
    # RG deadlines passed: IECA's 1 withheld, and SCA's 6 beside it: else IECA's would be the total's 5 (7, rounded) less
    # SCA's 5 (6, rounded), which only 1 or 2 can be.
    assert [(b.competent_authority, b.nation, b.rg_due, b.marks.get("rg_due")) for b in d.breaches] == [
        ("IECA", "SCT", None, "c"),
        ("SCA", "ENG", None, "c"),
        (None, None, 5, None),
    ]
    # March: IECA's one decision, neither its count nor its median; the period's 6 decisions, rounded, with their median.
    march = month(d.time_to_rg, dt.date(2026, 3, 1))
    assert (march.decisions, march.median_days, march.p90_days) == (None, None, None)
    assert march.marks == {"decisions": "c", "median_days": "c", "p90_days": "c"}
    assert (d.time_to_rg[-1].decisions, d.time_to_rg[-1].median_days) == (5, 3.5)
    # 4 of the 6 within the deadline: withheld, and so is the share (of fewer than 50 decisions).
    assert (d.rg_within_deadline[-1].within_deadline, d.rg_within_deadline[-1].percent) == (None, None)

    scotland = figures(people["stats"], nation="SCT")
    assert scotland.open_total is None and scotland.time_to_rg[-1].decisions is None
    assert figures(people["stats"], competent_authority="LOCAL_PANEL").open_marks[None] == "c"
    assert figures(people["stats"], age_group="adult").open_total == 0


def test_a_decision_maker_sees_exact_figures_with_the_small_ones_marked(people, cases):
    d = figures(people["sca"])
    assert (
        d.exact
        and d.open_total == 4
        and d.open_marks
        == {
            "awaiting_reasonable_grounds": "small",
            "recovery_period": "small",
            "awaiting_conclusive_grounds": "small",
            None: "small",
        }
    )
    feb = month(d.time_to_rg, dt.date(2026, 2, 1))
    assert (feb.decisions, feb.median_days, feb.marks) == (
        1,
        3,
        {"decisions": "small", "median_days": "small", "p90_days": "small"},
    )
    assert d.time_to_rg[-1].marks == {}  # 5 decisions: not small
    [england, _totals] = d.breaches
    assert (england.rg_due, england.rg_missed, england.marks) == (
        6,
        3,
        {"rg_missed": "small", "cg_due": "small", "cg_missed": "small"},
    )


def test_a_decision_maker_cannot_widen_their_scope_by_a_filter(people, cases):
    assert figures(people["sca"], competent_authority="IECA").open_total == 0
    assert figures(people["ieca"]).open_total == 1


def test_a_panel_sees_its_own_panel_only(people, cases):
    assert figures(people["panel"]).open_total == 1
    assert figures(people["other_panel"]).open_total == 0


@pytest.mark.parametrize("role", ["auditor", "admin", "referrer", "la", "immigration"])
def test_other_roles_get_no_figures(people, cases, role):
    with pytest.raises(NotAllowed):
        figures(people[role])


def test_an_empty_period_has_no_medians_and_no_rows(people, cases):
    d = dashboard_figures(
        actor=people["sca"], period=Period(dt.date(2024, 1, 1), dt.date(2024, 2, 29)), filters=Filters(), today=TODAY
    )
    assert [t.decisions for t in d.time_to_rg] == [0, 0, 0]
    assert d.time_to_rg[-1].median_days is None and d.rg_within_deadline[-1].percent is None
    assert len(d.breaches) == 1 and d.breaches[0].rg_due == 0


def test_each_view_is_audited_once_with_its_period_and_filters(people, cases):
    before = AuditEvent.objects.count()
    figures(people["stats"], nation="ENG")
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.actor_username, event.object_type) == ("dashboard.view", "stats", "dashboard")
    assert event.details == {"via": "page", "from": "2026-01-01", "to": "2026-06-14", "nation": "ENG"}


def test_the_last_twelve_months_are_this_month_and_the_eleven_before():
    assert last_twelve_months(dt.date(2026, 11, 28)) == Period(dt.date(2025, 12, 1), dt.date(2026, 11, 28))
    assert len(last_twelve_months(dt.date(2026, 1, 5)).months()) == 12


def test_the_summary_takes_a_decision_made_through_the_service_at_the_next_refresh(people, cases):
    from opennrm.decisions.services import decision_record

    f = Referral.objects.get(reference="NRM-T-F")
    decision_record(
        actor=people["sca"],
        referral=f,
        stage=RG,
        outcome="positive",
        reasons="Synthetic reasons",
        decided_at=noon("2026-03-03"),
    )
    assert CaseFigures.objects.get(referral=f).rg_on is None  # not until the summary is refreshed
    assert case_figures_refresh() >= 1  # only what changed since the last refresh (and its overlap)
    assert CaseFigures.objects.get(referral=f).rg_on == dt.date(2026, 3, 3)
    d = figures(people["sca"])
    assert month(d.time_to_rg, dt.date(2026, 3, 1)).median_days == 11  # received 20 February
    assert d.breaches[0].rg_missed == 3  # F is still late, now decided after its deadline of 1 March


@pytest.mark.django_db(transaction=True)  # the worker runs the task in its own transaction, after the view's commits
def test_a_stale_summary_is_refreshed_by_the_worker(people, cases):
    from opennrm.tests.mail import run_worker

    FiguresRefresh.objects.filter(pk=1).update(
        refreshed_at=FiguresRefresh.objects.get(pk=1).refreshed_at - dt.timedelta(hours=1)
    )
    Referral.objects.filter(reference="NRM-T-H").update(
        status="awaiting_reasonable_grounds"
    )  # a change the summary has not seen
    stale = figures(people["sca"])
    assert [b.rg_due for b in stale.breaches] == [6, 6]  # H still counted as withdrawn
    assert FiguresRefresh.objects.get(pk=1).requested_at is not None
    run_worker()
    assert FiguresRefresh.objects.get(pk=1).refreshed_at > stale.as_of
    assert figures(people["sca"]).breaches[0].rg_missed == 4  # H is now open past its deadline


def test_a_second_view_until_the_next_refresh_takes_the_summary_figures_from_the_cache(people, cases):
    first, second = figures(people["sca"]), figures(people["sca"])
    assert (first.from_cache, second.from_cache) == (False, True)
    assert (second.time_to_rg, second.breaches) == (first.time_to_rg, first.breaches)
    assert figures(people["sca"], nation="SCT").from_cache is False  # other filters: other figures
    assert figures(people["ieca"]).from_cache is False  # another scope
    case_figures_refresh()
    assert figures(people["sca"]).from_cache is False
