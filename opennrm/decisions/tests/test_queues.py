"""Work queues and assignment (issue 3 item 6): the assignment rules, bulk all or nothing, the queues' order,
filters, views and scope, through the services, the API and the pages."""

import copy
import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given, settings as hypothesis_settings, strategies as st

from opennrm.accounts.models import Team
from opennrm.audit.models import AuditEvent
from opennrm.core.errors import Invalid, NotAllowed, NotFound, Refused
from opennrm.decisions import selectors
from opennrm.decisions.assignment import BulkAssignmentRefused, case_assign, cases_assign
from opennrm.decisions.selectors import QueueView, work_queue_page
from opennrm.decisions.services import decision_record, referral_withdraw
from opennrm.policy import Role
from opennrm.referrals.models import Referral
from opennrm.workdays.calendar import is_working_day, working_days_between

from .conftest import ISLINGTON, make_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def sca_team(people):
    team = Team.objects.create(
        organisation=people["sca1"].organisation, name="SCA casework team 1", manager=people["sca2"]
    )
    for name in ("sca1", "sca2"):
        people[name].team = team
        people[name].save(update_fields=["team"])
    return team


@pytest.fixture
def cases(people, child_referral_body, adult_referral_body):
    """SCA cases received 60, 30, 10 and 1 days ago (so deadlines in that order), a Welsh adult, an IECA and a panel case."""
    made = {f"sca_{d}": make_referral(people["referrer"], child_referral_body, days_ago=d) for d in (60, 30, 10, 1)}
    welsh = dict(adult_referral_body, nation="WLS")
    made["sca_adult_wales"] = make_referral(people["referrer"], welsh, days_ago=20)
    ieca_body = {
        **adult_referral_body,
        "potential_victim": {**adult_referral_body["potential_victim"], "removal_action": True},
    }
    made["ieca"] = make_referral(people["referrer"], ieca_body, days_ago=5)
    islington = copy.deepcopy(child_referral_body)
    islington["local_authority_contact"]["local_authority"] = ISLINGTON
    islington["potential_victim"]["date_of_birth"] = "2014-03-01"
    made["panel"] = make_referral(people["referrer"], islington, days_ago=5)
    assert [made[k].competent_authority for k in ("sca_60", "ieca", "panel")] == ["SCA", "IECA", "LOCAL_PANEL"]
    return made


def refs(page) -> list[str]:
    return [item.referral.reference for item in page.items]


# --- Assignment rules ------------------------------------------------------------------------------


def test_assigning_to_a_decision_maker_brings_the_case_into_their_team_and_is_audited(people, sca_team, cases):
    case = case_assign(actor=people["sca2"], referral=cases["sca_30"].uuid, assigned_to="sca1")
    fresh = Referral.objects.get(pk=case.pk)
    assert (fresh.assigned_to, fresh.assigned_team, fresh.assigned_at is not None) == (people["sca1"], sca_team, True)
    event = AuditEvent.objects.get(action="referral.assign", object_id=str(case.uuid))
    assert (
        event.actor_username,
        event.details["assigned_to"],
        event.details["team"],
        event.details["assigned_to_from"],
    ) == ("sca2", "sca1", sca_team.pk, None)


def test_a_team_alone_then_unassigning(people, sca_team, cases):
    case_assign(actor=people["sca1"], referral=cases["sca_30"], team=sca_team.pk)
    fresh = Referral.objects.get(pk=cases["sca_30"].pk)
    assert (fresh.assigned_to, fresh.assigned_team) == (None, sca_team)
    case_assign(actor=people["sca1"], referral=cases["sca_30"])
    fresh.refresh_from_db()
    assert (fresh.assigned_to, fresh.assigned_team) == (None, None)
    assert AuditEvent.objects.filter(action="referral.assign", object_id=str(fresh.uuid)).count() == 2


def test_assignment_refusals_say_why_and_change_nothing(people, sca_team, cases, make_user):
    other_team = Team.objects.create(organisation=people["ieca"].organisation, name="IECA team")
    case = cases["sca_30"]
    with pytest.raises(NotFound):  # another authority's case looks like no case at all
        case_assign(actor=people["ieca"], referral=case.uuid, assigned_to="ieca")
    with pytest.raises(NotFound):
        case_assign(actor=people["sca1"], referral="not-an-id", assigned_to="sca1")
    with pytest.raises(Invalid) as exc:
        case_assign(actor=people["sca1"], referral=case, assigned_to="ieca")
    assert exc.value.field == "assigned_to" and "your own authority" in exc.value.message
    with pytest.raises(Invalid) as exc:
        case_assign(actor=people["sca1"], referral=case, assigned_to="no-such-user")
    assert exc.value.field == "assigned_to"
    clerk = make_user(Role.LA_SOCIAL_WORKER, "clerk", organisation=people["sca1"].organisation)
    with pytest.raises(Invalid) as exc:
        case_assign(actor=people["sca1"], referral=case, assigned_to=clerk.username)
    assert "not a decision maker" in exc.value.message
    with pytest.raises(Invalid) as exc:
        case_assign(actor=people["sca1"], referral=case, team=other_team.pk)
    assert exc.value.field == "team"
    with pytest.raises(NotAllowed):
        case_assign(actor=people["referrer"], referral=case, assigned_to="sca1")
    withdrawn = cases["sca_adult_wales"]
    referral_withdraw(actor=people["referrer"], referral=withdrawn, reason="Went home")
    with pytest.raises(Refused) as exc:
        case_assign(actor=people["sca1"], referral=withdrawn, assigned_to="sca1")
    assert "closed" in str(exc.value)
    assert not Referral.objects.filter(assigned_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="referral.assign").exists()


def test_bulk_assignment_is_all_or_nothing_and_lists_every_refusal(people, sca_team, cases):
    referral_withdraw(actor=people["referrer"], referral=cases["sca_adult_wales"], reason="Went home")
    asked = [cases["sca_60"].uuid, cases["sca_adult_wales"].uuid, cases["ieca"].uuid, cases["sca_10"].uuid]
    with pytest.raises(BulkAssignmentRefused) as exc:
        cases_assign(actor=people["sca2"], referrals=asked, assigned_to="sca1")
    assert [(r.index, r.status) for r in exc.value.refusals] == [(1, 409), (2, 404)]
    assert exc.value.refusals[1].message == "Not found"
    assert not Referral.objects.filter(assigned_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="referral.assign").exists()

    done = cases_assign(
        actor=people["sca2"], referrals=[cases["sca_60"].uuid, cases["sca_10"].uuid], assigned_to="sca1"
    )
    assert {r.pk for r in done} == {cases["sca_60"].pk, cases["sca_10"].pk}
    assert set(Referral.objects.filter(assigned_to=people["sca1"]).values_list("pk", flat=True)) == {r.pk for r in done}
    assert AuditEvent.objects.filter(action="referral.assign").count() == 2
    with pytest.raises(Invalid):
        cases_assign(actor=people["sca2"], referrals=[cases["sca_60"].uuid, cases["sca_60"].uuid], assigned_to="sca1")
    with pytest.raises(Invalid):
        cases_assign(actor=people["sca2"], referrals=[], assigned_to="sca1")


# --- The queues ------------------------------------------------------------------------------------


def test_queue_is_ordered_by_deadline_overdue_first_with_working_days_left(people, cases):
    page = work_queue_page(actor=people["sca1"])
    assert refs(page) == [cases[k].reference for k in ("sca_60", "sca_30", "sca_adult_wales", "sca_10", "sca_1")]
    today = timezone.now().astimezone(selectors.LONDON).date()
    for item in page.items:
        assert item.deadline == item.referral.reasonable_grounds_due
        assert item.working_days_left == working_days_between(today, item.deadline, item.referral.nation)
        assert item.overdue == (item.working_days_left < 0)
    assert page.items[0].overdue and not page.items[-1].overdue
    assert (page.total, page.total_capped) == (5, False)
    # A recovery period's end becomes the deadline once it starts.
    decision_record(
        actor=people["sca1"],
        referral=cases["sca_1"],
        stage="reasonable_grounds",
        outcome="positive",
        reasons="Consistent",
    )
    moved = work_queue_page(actor=people["sca1"]).items[-1]
    assert (
        moved.referral.pk == cases["sca_1"].pk
        and moved.deadline == Referral.objects.get(pk=cases["sca_1"].pk).recovery_period_ends_on
    )


def test_each_filter_narrows_the_queue(people, cases, seeded_rules):
    everything = refs(work_queue_page(actor=people["sca1"]))
    assert refs(work_queue_page(actor=people["sca1"], nation="WLS")) == [cases["sca_adult_wales"].reference]
    assert refs(work_queue_page(actor=people["sca1"], age_group="adult")) == [cases["sca_adult_wales"].reference]
    assert refs(work_queue_page(actor=people["sca1"], age_group="child")) == [
        r for r in everything if r != cases["sca_adult_wales"].reference
    ]
    assert refs(work_queue_page(actor=people["sca1"], authority="SCA")) == everything
    assert (
        refs(work_queue_page(actor=people["sca1"], authority="IECA")) == []
    )  # never another authority's, whatever is asked
    assert refs(work_queue_page(actor=people["sca1"], authority="E09000008")) == [
        r for r in everything if r != cases["sca_adult_wales"].reference
    ]
    assert refs(work_queue_page(actor=people["panel"], authority="E09000019")) == [cases["panel"].reference]
    decision_record(
        actor=people["sca1"],
        referral=cases["sca_30"],
        stage="reasonable_grounds",
        outcome="positive",
        reasons="Consistent",
    )
    assert refs(work_queue_page(actor=people["sca1"], status="recovery_period")) == [cases["sca_30"].reference]
    assert refs(work_queue_page(actor=people["sca1"], status="awaiting_reasonable_grounds")) == [
        r for r in everything if r != cases["sca_30"].reference
    ]


def test_each_view_mine_team_unassigned_all(people, sca_team, cases):
    case_assign(actor=people["sca2"], referral=cases["sca_60"], assigned_to="sca1")
    case_assign(actor=people["sca2"], referral=cases["sca_10"], team=sca_team)
    case_assign(actor=people["sca2"], referral=cases["sca_1"], assigned_to="sca2")
    assert refs(work_queue_page(actor=people["sca1"], view=QueueView.MINE)) == [cases["sca_60"].reference]
    assert refs(work_queue_page(actor=people["sca1"], view=QueueView.TEAM)) == [
        cases[k].reference for k in ("sca_60", "sca_10", "sca_1")
    ]
    assert refs(work_queue_page(actor=people["sca1"], view=QueueView.UNASSIGNED)) == [
        cases[k].reference for k in ("sca_30", "sca_adult_wales")
    ]
    assert work_queue_page(actor=people["sca1"], view=QueueView.ALL).total == 5
    item = work_queue_page(actor=people["sca1"], view=QueueView.MINE).items[0]
    assert (item.referral.assigned_to.username, item.referral.assigned_team.name) == ("sca1", "SCA casework team 1")
    # A manager outside the team sees the team they manage; someone in no team has an empty team view.
    people["sca2"].team = None
    people["sca2"].save(update_fields=["team"])
    assert work_queue_page(actor=people["sca2"], view=QueueView.TEAM).total == 3
    assert work_queue_page(actor=people["ieca"], view=QueueView.TEAM).total == 0


def test_another_authoritys_cases_never_appear_and_other_roles_get_nothing(people, cases):
    assert refs(work_queue_page(actor=people["ieca"])) == [cases["ieca"].reference]
    assert refs(work_queue_page(actor=people["panel"])) == [cases["panel"].reference]
    assert refs(work_queue_page(actor=people["other_panel"])) == []
    for name in ("referrer", "immigration", "la", "guardian", "admin"):
        assert work_queue_page(actor=people[name]).items == [] and work_queue_page(actor=people[name]).total == 0


def test_the_count_is_capped(people, cases, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    page = work_queue_page(actor=people["sca1"], limit=2)
    assert (page.total, page.total_capped, len(page.items)) == (3, True, 2)


def test_listed_cases_are_audited_as_read(people, cases):
    page = work_queue_page(actor=people["sca1"], limit=2)
    listed = AuditEvent.objects.filter(action="referral.list", actor_id=people["sca1"].pk)
    assert sorted(listed.values_list("object_id", flat=True)) == sorted(str(i.referral.uuid) for i in page.items)
    assert all(e.details["purpose"] == "work_queue" for e in listed)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    start=st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    span=st.integers(-1200, 1200),
    nation=st.sampled_from(["ENG", "WLS", "SCT", "NIR"]),
)
def test_working_days_between_counts_as_day_by_day_does(start, span, nation):
    end = start + dt.timedelta(days=span)
    lo, hi = sorted((start, end))
    naive = sum(1 for i in range(1, (hi - lo).days + 1) if is_working_day(lo + dt.timedelta(days=i), nation))
    assert working_days_between(start, end, nation) == (naive if end >= start else -naive)


# --- The API ---------------------------------------------------------------------------------------


@pytest.fixture
def clients(people, api_client):
    return {name: api_client(people[name]) for name in ("sca1", "sca2", "ieca", "referrer", "immigration", "admin")}


def test_api_queue_shape_views_and_filters(people, sca_team, cases, clients):
    case_assign(actor=people["sca2"], referral=cases["sca_60"], assigned_to="sca1")
    response = clients["sca1"].get("/api/v1/queue")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total"], body["total_capped"], body["next"]) == (5, False, None)
    first = body["items"][0]
    assert set(first) == {
        "id",
        "reference",
        "status",
        "nation",
        "competent_authority",
        "received_at",
        "deadline",
        "working_days_left",
        "overdue",
        "needs_confirmation",
        "assigned_to",
        "team",
        "assigned_at",
    }
    assert (first["id"], first["assigned_to"], first["team"]["name"], first["overdue"]) == (
        str(cases["sca_60"].uuid),
        "sca1",
        "SCA casework team 1",
        True,
    )
    assert first["working_days_left"] < 0 and first["deadline"] == cases["sca_60"].reasonable_grounds_due.isoformat()
    assert [i["id"] for i in clients["sca1"].get("/api/v1/queue", view="mine").json()["items"]] == [
        str(cases["sca_60"].uuid)
    ]
    assert clients["sca1"].get("/api/v1/queue", view="unassigned").json()["total"] == 4
    assert (
        clients["sca1"]
        .get("/api/v1/queue", nation="WLS", age_group="adult", authority="SCA", status="awaiting_reasonable_grounds")
        .json()["total"]
        == 1
    )
    paged = clients["sca1"].get("/api/v1/queue", limit=2).json()
    assert len(paged["items"]) == 2 and "offset=2" in paged["next"]
    assert clients["ieca"].get("/api/v1/queue").json()["total"] == 1


def test_api_queue_refusals(clients):
    bad = clients["sca1"].get("/api/v1/queue", view="everyone", authority="Croydon", limit=0)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"view", "authority", "limit"}
    for name in ("referrer", "immigration", "admin"):
        assert clients[name].get("/api/v1/queue").status_code == 403
    from django.test import Client

    assert Client().get("/api/v1/queue").status_code == 401


def test_api_single_assignment_and_its_refusals(people, sca_team, cases, clients):
    url = f"/api/v1/referrals/{cases['sca_30'].uuid}/assignment"
    done = clients["sca2"].post(url, {"assigned_to": "sca1"}, headers={"Idempotency-Key": "assign-1"})
    assert done.status_code == 200, done.content
    assert (done.json()["assigned_to"], done.json()["team"]["id"]) == ("sca1", sca_team.pk)
    again = clients["sca2"].post(url, {"assigned_to": "sca1"}, headers={"Idempotency-Key": "assign-1"})
    assert again.json() == done.json() and AuditEvent.objects.filter(action="referral.assign").count() == 1
    assert clients["sca2"].post(url, {"assigned_to": None, "team": None}).json()["assigned_to"] is None

    assert clients["ieca"].post(url, {"assigned_to": "ieca"}).status_code == 404
    assert clients["referrer"].post(url, {"assigned_to": "sca1"}).status_code == 403
    wrong_person = clients["sca2"].post(url, {"assigned_to": "ieca"})
    assert wrong_person.status_code == 422 and wrong_person.json()["errors"][0]["field"] == "assigned_to"
    unknown_field = clients["sca2"].post(url, {"assignee": "sca1"})
    assert unknown_field.status_code == 422 and unknown_field.json()["errors"][0]["field"] == "assignee"
    referral_withdraw(actor=people["referrer"], referral=cases["sca_adult_wales"], reason="Went home")
    closed = clients["sca2"].post(
        f"/api/v1/referrals/{cases['sca_adult_wales'].uuid}/assignment", {"assigned_to": "sca1"}
    )
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]


def test_api_bulk_assignment_all_or_nothing(people, sca_team, cases, clients):
    referral_withdraw(actor=people["referrer"], referral=cases["sca_adult_wales"], reason="Went home")
    asked = [str(cases["sca_60"].uuid), str(cases["sca_adult_wales"].uuid), str(cases["ieca"].uuid)]
    refused = clients["sca2"].post("/api/v1/assignments", {"referrals": asked, "team": sca_team.pk})
    assert refused.status_code == 409, refused.content
    assert [e["field"] for e in refused.json()["errors"]] == ["referrals.1", "referrals.2"]
    assert not Referral.objects.filter(assigned_at__isnull=False).exists()
    done = clients["sca2"].post(
        "/api/v1/assignments",
        {"referrals": [str(cases["sca_60"].uuid), str(cases["sca_10"].uuid)], "team": sca_team.pk},
    )
    assert done.status_code == 200 and done.json()["count"] == 2
    assert all(i["team"]["id"] == sca_team.pk and i["assigned_to"] is None for i in done.json()["items"])
    empty = clients["sca2"].post("/api/v1/assignments", {"referrals": [], "team": sca_team.pk})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "referrals"


def test_api_teams_lists_my_authoritys_teams(people, sca_team, clients):
    body = clients["sca1"].get("/api/v1/teams").json()
    assert body["items"] == [
        {"id": sca_team.pk, "name": "SCA casework team 1", "manager": "sca2", "members": ["sca1", "sca2"]}
    ]
    assert clients["ieca"].get("/api/v1/teams").json()["items"] == []
    assert clients["referrer"].get("/api/v1/teams").status_code == 403


# --- Teams in the administrator's pages -------------------------------------------------------------


def test_the_admin_page_makes_teams_through_the_audited_service_and_refuses_a_manager_of_another_organisation(people):
    from django.test import Client

    from opennrm.accounts.services import team_save

    people["admin"].is_staff = True  # Django's admin site needs it; the role decides the rest
    people["admin"].save()
    client = Client()
    client.force_login(people["admin"])
    organisation = people["sca1"].organisation
    made = client.post(
        "/admin/accounts/team/add/",
        {"organisation": organisation.pk, "name": "SCA casework team 2", "manager": people["sca2"].pk, "email": ""},
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    team = Team.objects.get(name="SCA casework team 2")
    event = AuditEvent.objects.get(action="team.create")
    assert (event.actor_username, event.details["after"]["manager_id"], event.object_id) == (
        "admin",
        people["sca2"].pk,
        str(team.pk),
    )
    refused = client.post(
        "/admin/accounts/team/add/",
        {"organisation": organisation.pk, "name": "Mixed team", "manager": people["ieca"].pk, "email": ""},
    )
    assert refused.status_code == 200 and "must belong to the team" in refused.content.decode()
    assert not Team.objects.filter(name="Mixed team").exists()
    with pytest.raises(NotAllowed):
        team_save(actor=people["sca1"], team=Team(organisation=organisation, name="By a caseworker"))
    sca = Client()
    sca.force_login(people["sca1"])
    assert sca.get("/admin/accounts/team/").status_code == 302  # to the admin's sign-in: not an administrator
