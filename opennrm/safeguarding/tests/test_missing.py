"""Missing episodes through the API (contract section 4), their notifications through the real worker
and a real SMTP server, the one-hour escalation, return interviews and the "missing now" lists."""

import datetime as dt

import pytest
from django.utils import timezone

from opennrm.audit.models import AuditEvent
from opennrm.safeguarding.models import AlertKind, MissingEpisode, ReturnInterview, SafeguardingAlert
from opennrm.safeguarding.services import missing_episode_acknowledge, missing_episode_report
from opennrm.safeguarding.tasks import escalate_missing_episode
from opennrm.tests.mail import run_worker

from .conftest import CARDIFF, ago, allocate_guardian, make_child

API = "/api/v1/referrals"


def iso(when: dt.datetime) -> str:
    return when.isoformat()


def report(
    api,
    referral,
    *,
    since=None,
    risk="medium",
    last_seen="Left the foster home after tea; seen at West Croydon bus station",
):
    return api.post(
        f"{API}/{referral.uuid}/missing-episodes",
        {"missing_since": iso(since or ago(hours=2)), "last_seen": last_seen, "risk": risk},
    )


def state(referral) -> list[tuple]:
    """Everything a refused request must leave as it was."""
    return [
        (e.pk, e.found_at, e.acknowledged_at, e.return_interview_due)
        for e in MissingEpisode.objects.filter(referral=referral).order_by("pk")
    ] + [
        ("interviews", ReturnInterview.objects.filter(episode__referral=referral).count()),
        ("alerts", SafeguardingAlert.objects.filter(episode__referral=referral).count()),
    ]


@pytest.mark.django_db(transaction=True)
def test_la_reports_a_child_missing_the_guardian_is_told_then_found_and_interviewed(
    people, child_referral_body, api_client, smtp_sink
):
    """The issue's "done when": as the local authority, report a child missing, the guardian is notified, found, interviewed."""
    smtp_sink.start()
    from opennrm.safeguarding.guardians import seed_guardian_coverage

    seed_guardian_coverage()
    child = make_child(people["police"], child_referral_body)
    la = api_client(people["la"])
    allocated = api_client(people["guardian"]).post(
        f"{API}/{child.uuid}/guardian-allocation", {"guardian": "guardian", "support_model": "direct"}
    )
    assert allocated.status_code == 200, allocated.content

    reported = report(la, child, risk="high")
    assert reported.status_code == 201, reported.content
    episode = reported.json()
    assert (episode["number"], episode["risk"], episode["reported_by"], episode["found_at"]) == (
        1,
        "high",
        "local_authority",
        None,
    )

    # In the work queues of the others responsible at once: the allocated guardian and the police force; not the reporter's.
    alerts = SafeguardingAlert.objects.filter(episode__uuid=episode["id"], kind=AlertKind.MISSING)
    assert {a.organisation.name for a in alerts} == {
        people["guardian"].organisation.name,
        "Metropolitan Police Service",
    }
    run_worker()
    emails = smtp_sink.emails_with_subject("Child reported missing")
    recipients = {address for to, _ in emails for address in to}
    assert "guardian@example.invalid" in recipients and "police@example.invalid" in recipients
    assert "la@example.invalid" not in recipients
    # Email is not a secure channel: the reference, nothing about the child.
    assert all(child.reference in text and "Nguyen" not in text and "bus station" not in text for _, text in emails)
    assert (
        SafeguardingAlert.objects.filter(episode__uuid=episode["id"], sent_at__isnull=False).count() == alerts.count()
    )

    # The guardian sees it in their work queue and acknowledges it.
    guardian = api_client(people["guardian"])
    acknowledged = guardian.post(f"{API}/{child.uuid}/missing-episodes/{episode['id']}/acknowledge", {})
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_at"]

    found_at = ago(minutes=30)
    found = la.post(f"{API}/{child.uuid}/missing-episodes/{episode['id']}/found", {"found_at": iso(found_at)})
    assert found.status_code == 200, found.content
    assert dt.datetime.fromisoformat(found.json()["return_interview_due"]) == found_at + dt.timedelta(hours=72)
    run_worker()
    assert smtp_sink.emails_with_subject("Missing child found")

    interview = la.post(
        f"{API}/{child.uuid}/missing-episodes/{episode['id']}/return-interview",
        {
            "completed_at": iso(ago(minutes=5)),
            "summary": "Spoke with the child at the placement; says an older boy collected her.",
        },
    )
    assert interview.status_code == 201, interview.content
    assert interview.json()["return_interview"]["within_72_hours"] is True
    # The escalation, if the worker runs it later, finds it acknowledged and found: nothing happens.
    assert (
        escalate_missing_episode.call(
            episode_id=MissingEpisode.objects.get(uuid=episode["id"]).pk,
            now=iso(timezone.now() + dt.timedelta(hours=2)),
        )
        == "found"
    )


def test_bad_input_and_wrong_order_are_refused_with_a_clear_message_and_nothing_changes(people, child, api_client):
    la = api_client(people["la"])
    episode = report(la, child).json()
    before = state(child)

    # A found time before the missing time.
    too_early = la.post(f"{API}/{child.uuid}/missing-episodes/{episode['id']}/found", {"found_at": iso(ago(hours=5))})
    assert too_early.status_code == 422
    assert (
        too_early.json()["errors"][0]["field"] == "found_at"
        and "after the time the child went missing" in too_early.json()["errors"][0]["message"]
    )
    # A second open episode for the same child.
    second = report(la, child)
    assert second.status_code == 409 and "already recorded as missing" in second.json()["detail"]
    # An interview before the return: before the child is found at all, then before the found time.
    not_found_yet = la.post(
        f"{API}/{child.uuid}/missing-episodes/{episode['id']}/return-interview",
        {"completed_at": iso(ago(minutes=1)), "summary": "x"},
    )
    assert not_found_yet.status_code == 409 and "not been recorded as found" in not_found_yet.json()["detail"]
    assert state(child) == before

    found_at = ago(hours=1)
    assert (
        la.post(f"{API}/{child.uuid}/missing-episodes/{episode['id']}/found", {"found_at": iso(found_at)}).status_code
        == 200
    )
    before = state(child)
    early = la.post(
        f"{API}/{child.uuid}/missing-episodes/{episode['id']}/return-interview",
        {"completed_at": iso(found_at - dt.timedelta(minutes=1)), "summary": "x"},
    )
    assert early.status_code == 422
    assert early.json()["errors"] == [
        {
            "field": "completed_at",
            "message": f"The interview must be after the child's return (found at {found_at.isoformat()})",
        }
    ]
    # Found twice.
    again = la.post(f"{API}/{child.uuid}/missing-episodes/{episode['id']}/found", {"found_at": iso(ago(minutes=10))})
    assert again.status_code == 409 and "already closed" in again.json()["detail"]
    # Bodies that are not what the contract says.
    for body, field in (
        ({"missing_since": "yesterday", "last_seen": "x", "risk": "high"}, "missing_since"),
        ({"missing_since": "2026-11-27T21:30:00", "last_seen": "x", "risk": "high"}, "missing_since"),  # no offset
        ({"missing_since": iso(ago(hours=1)), "last_seen": "x", "risk": "severe"}, "risk"),
        ({"missing_since": iso(ago(hours=1)), "last_seen": "", "risk": "low"}, "last_seen"),
        ({"missing_since": iso(ago(hours=1)), "last_seen": "x", "risk": "low", "colour": "red"}, "colour"),
        (
            {"missing_since": iso(timezone.now() + dt.timedelta(days=1)), "last_seen": "x", "risk": "low"},
            "missing_since",
        ),
    ):
        refused = la.post(f"{API}/{child.uuid}/missing-episodes", body)
        assert refused.status_code == 422, (body, refused.content)
        assert field in [e["field"] for e in refused.json()["errors"]], refused.json()
    assert la.post(f"{API}/{child.uuid}/missing-episodes", raw="{not json").status_code == 422
    assert state(child) == before


def test_who_may_report_and_see_episodes(people, allocated_child, api_client):
    child = allocated_child
    # An NGO first responder, a decision maker, immigration enforcement: not their kind of work (403).
    for who in ("ngo", "sca", "immigration", "stats", "admin"):
        assert report(api_client(people[who]), child).status_code == 403, who
    # Another local authority does not have the child: 404, the same as a child who does not exist.
    other = report(api_client(people["cardiff"]), child)
    assert other.status_code == 404 and other.json() == {"detail": "Not found"}
    assert MissingEpisode.objects.count() == 0
    # The police force that referred the child may report (and so may the guardian, see the first test).
    assert report(api_client(people["police"]), child).json()["reported_by"] == "police"
    for who in ("sca", "immigration", "stats", "admin"):
        assert api_client(people[who]).get(f"{API}/{child.uuid}/safeguarding").status_code == 403, who
    for who in ("la", "guardian", "police"):
        assert api_client(people[who]).get(f"{API}/{child.uuid}/safeguarding").json()["missing_episode_count"] == 1, who


def test_repeat_episodes_are_counted_and_history_kept(people, child, api_client):
    la = api_client(people["la"])
    for n in range(1, 4):
        episode = report(la, child, since=ago(hours=10 - 3 * n)).json()
        assert episode["number"] == n
        assert (
            la.post(
                f"{API}/{child.uuid}/missing-episodes/{episode['id']}/found", {"found_at": iso(ago(hours=9 - 3 * n))}
            ).status_code
            == 200
        )
    record = la.get(f"{API}/{child.uuid}/safeguarding").json()
    assert record["missing_episode_count"] == 3
    assert [e["number"] for e in record["missing_episodes"]] == [3, 2, 1]
    assert all(e["found_at"] and e["return_interview_due"] for e in record["missing_episodes"])


@pytest.mark.django_db(transaction=True)  # the worker runs in its own transactions, as in production
def test_a_high_risk_episode_escalates_if_not_acknowledged_within_the_hour_once(people, child, smtp_sink):
    smtp_sink.start()
    reported_at = ago(minutes=61)
    episode = missing_episode_report(
        actor=people["la"],
        referral=child,
        missing_since=ago(hours=3),
        last_seen="Station",
        risk="high",
        now=reported_at,
    )
    # The worker runs what is due: the alerts, and the escalation queued for reported + 1 hour.
    run_worker()
    episode.refresh_from_db()
    assert episode.escalated_at is not None
    escalations = SafeguardingAlert.objects.filter(episode=episode, kind=AlertKind.ESCALATION)
    # Everyone responsible, the reporting local authority too.
    assert {a.organisation.name for a in escalations} == {
        people["la"].organisation.name,
        people["guardian"].organisation.name,
        "Metropolitan Police Service",
    }
    assert smtp_sink.emails_with_subject("URGENT: high-risk missing child not acknowledged")
    # Once: running it again changes nothing.
    assert escalate_missing_episode.call(episode_id=episode.pk) == "already escalated"
    assert SafeguardingAlert.objects.filter(episode=episode, kind=AlertKind.ESCALATION).count() == escalations.count()
    assert AuditEvent.objects.filter(action="safeguarding.missing_escalated").count() == 1


@pytest.mark.django_db(transaction=True)  # the worker runs in its own transactions, as in production
def test_an_acknowledged_or_not_yet_due_or_lower_risk_episode_does_not_escalate(people, child_referral_body, coverage):
    acknowledged_child = allocate_guardian(people, make_child(people["police"], child_referral_body))
    episode = missing_episode_report(
        actor=people["la"],
        referral=acknowledged_child,
        missing_since=ago(hours=3),
        last_seen="Park",
        risk="high",
        now=ago(minutes=90),
    )
    missing_episode_acknowledge(
        actor=people["guardian"], referral=acknowledged_child, episode=episode, now=ago(minutes=80)
    )
    run_worker()
    episode.refresh_from_db()
    assert episode.escalated_at is None

    recent_child = make_child(people["police"], child_referral_body)
    recent = missing_episode_report(
        actor=people["la"], referral=recent_child, missing_since=ago(hours=1), last_seen="Park", risk="high"
    )
    run_worker()  # its escalation is queued for an hour from now: not run
    assert escalate_missing_episode.call(episode_id=recent.pk) == "not yet due"
    recent.refresh_from_db()
    assert recent.escalated_at is None
    # Driven to its due time, it escalates.
    assert (
        escalate_missing_episode.call(episode_id=recent.pk, now=iso(recent.reported_at + dt.timedelta(minutes=60)))
        == "escalated"
    )

    medium_child = make_child(people["police"], child_referral_body)
    medium = missing_episode_report(
        actor=people["la"],
        referral=medium_child,
        missing_since=ago(hours=3),
        last_seen="Park",
        risk="medium",
        now=ago(hours=2),
    )
    run_worker()
    medium.refresh_from_db()
    assert medium.escalated_at is None
    assert not SafeguardingAlert.objects.filter(episode=medium, kind=AlertKind.ESCALATION).exists()


def test_the_reporter_cannot_acknowledge_their_own_report(people, child, api_client):
    episode = report(api_client(people["la"]), child).json()
    own = api_client(people["la2"]).post(f"{API}/{child.uuid}/missing-episodes/{episode['id']}/acknowledge", {})
    assert own.status_code == 409 and "Your organisation reported this episode" in own.json()["detail"]


def test_missing_now_beyond_the_counted_bound_says_so(people, child_referral_body, api_client, monkeypatch):
    from opennrm.api import safeguarding as api_module
    from opennrm.safeguarding import selectors

    monkeypatch.setattr(selectors, "MISSING_NOW_COUNT_LIMIT", 1)
    monkeypatch.setattr(api_module, "MISSING_NOW_COUNT_LIMIT", 1)
    la = api_client(people["la"])
    for _ in range(3):
        report(la, make_child(people["police"], child_referral_body))
    listed = la.get("/api/v1/missing-now").json()
    assert (listed["count"], listed["count_is_lower_bound"], len(listed["items"])) == (1, True, 3)


def test_missing_now_for_a_local_authority_and_a_police_force(people, child_referral_body, api_client, coverage):
    croydon = [make_child(people["police"], child_referral_body) for _ in range(3)]
    named = make_child(people["ngo"], child_referral_body)  # an NGO's referral naming the Metropolitan Police
    child_referral_body["police"] = {"force": "South Wales Police", "crime_reference": "SWP-1"}
    cardiff = make_child(people["ngo"], child_referral_body, local_authority=CARDIFF)
    la = api_client(people["la"])
    ids = [report(la, c, since=ago(hours=h)).json()["id"] for c, h in zip(croydon, (5, 9, 2))]
    named_id = report(la, named, since=ago(hours=1)).json()["id"]
    report(api_client(people["cardiff"]), cardiff)
    # One found: no longer missing now.
    la.post(f"{API}/{croydon[2].uuid}/missing-episodes/{ids[2]}/found", {"found_at": iso(ago(hours=1))})

    now_missing = la.get("/api/v1/missing-now").json()
    assert now_missing["count"] == 3 and now_missing["count_is_lower_bound"] is False and now_missing["next"] is None
    second_page = la.get("/api/v1/missing-now", page=2, page_size=2).json()
    assert [i["episode"]["id"] for i in second_page["items"]] == [named_id] and second_page["next"] is None
    assert la.get("/api/v1/missing-now", page_size=2).json()["next"].endswith("/api/v1/missing-now?page=2&page_size=2")
    assert [i["episode"]["id"] for i in now_missing["items"]] == [ids[1], ids[0], named_id]  # longest missing first
    # The force: its own referrals, and the NGO's that names it; not Cardiff's, which names another force.
    police_api = api_client(people["police"])
    police = police_api.get("/api/v1/missing-now").json()
    assert {i["episode"]["id"] for i in police["items"]} == {ids[0], ids[1], named_id}
    # Named on a missing episode, the force may open the child's record to look for them (ADR 0009).
    assert police_api.get(f"{API}/{named.uuid}").status_code == 200
    assert police_api.get(f"{API}/{cardiff.uuid}").status_code == 404
    assert api_client(people["cardiff"]).get("/api/v1/missing-now").json()["count"] == 1
    for who in ("guardian", "ngo", "sca", "immigration", "stats"):
        assert api_client(people[who]).get("/api/v1/missing-now").status_code == 403, who
    assert AuditEvent.objects.filter(action="referral.list", details__purpose="missing_now").exists()
