"""The safeguarding pages: the child's record off the referral's page, the forms with GOV.UK error
summaries, "missing now", and the work queue, as a social worker, a guardian and the police use them."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from opennrm.safeguarding.models import AgeAssessment, CareRecord, MissingEpisode, ReturnInterview

LONDON = ZoneInfo("Europe/London")


def when(prefix: str, at: dt.datetime) -> dict:
    local = at.astimezone(LONDON)
    return {
        f"{prefix}-day": local.day,
        f"{prefix}-month": local.month,
        f"{prefix}-year": local.year,
        f"{prefix}-time": f"{local:%H:%M}",
    }


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_social_worker_reports_a_child_missing_records_found_and_the_interview(people, allocated_child, web_client):
    child = allocated_child
    la = web_client(people["la"])
    detail = la.get(f"/referrals/{child.uuid}")
    assert f"/referrals/{child.uuid}/safeguarding" in text(detail)
    page = la.get(f"/referrals/{child.uuid}/safeguarding")
    assert page.status_code == 200 and "Report the child missing" in text(page)

    # A form sent with nothing in it: an error summary naming each field, nothing stored.
    empty = la.post(f"/referrals/{child.uuid}/missing", {})
    assert empty.status_code == 422
    body = text(empty)
    assert (
        "There is a problem" in body
        and 'href="#missing_since-day"' in body
        and 'href="#last_seen"' in body
        and 'href="#risk"' in body
    )
    assert MissingEpisode.objects.count() == 0

    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    reported = la.post(
        f"/referrals/{child.uuid}/missing",
        {**when("missing_since", now - dt.timedelta(hours=3)), "last_seen": "Near the school gates", "risk": "high"},
    )
    assert reported.status_code == 302, text(reported)
    episode = MissingEpisode.objects.get(referral=child)
    assert episode.missing_since == now - dt.timedelta(hours=3)

    missing = la.get("/missing-now")
    assert child.reference in text(missing) and "Near the school gates" in text(missing)

    # The guardian sees it in their work queue and acknowledges it from the child's page.
    guardian = web_client(people["guardian"])
    queue = guardian.get("/safeguarding")
    assert child.reference in text(queue) and "Reported missing" in text(queue)
    assert guardian.post(f"/referrals/{child.uuid}/missing/{episode.uuid}/acknowledge").status_code == 302
    episode.refresh_from_db()
    assert episode.acknowledged_by == people["guardian"]

    # Found before missing: refused, with the reason, nothing changed.
    early = la.post(
        f"/referrals/{child.uuid}/missing/{episode.uuid}/found", when("found_at", now - dt.timedelta(hours=4))
    )
    assert early.status_code == 422 and "after the time the child went missing" in text(early)
    found = la.post(
        f"/referrals/{child.uuid}/missing/{episode.uuid}/found", when("found_at", now - dt.timedelta(hours=1))
    )
    assert found.status_code == 302
    episode.refresh_from_db()
    assert episode.return_interview_due == now - dt.timedelta(hours=1) + dt.timedelta(hours=72)
    assert "Return interviews to hold" in text(la.get("/safeguarding"))

    interview = la.post(
        f"/referrals/{child.uuid}/missing/{episode.uuid}/return-interview",
        {**when("completed_at", now - dt.timedelta(minutes=10)), "summary": "Spent the night at a friend's flat"},
    )
    assert interview.status_code == 302
    assert ReturnInterview.objects.get(episode=episode).summary == "Spent the night at a friend's flat"
    assert "Spent the night at a friend" in text(la.get(f"/referrals/{child.uuid}/safeguarding"))


def test_care_age_and_guardian_forms(people, child, web_client):
    la = web_client(people["la"])
    saved = la.post(
        f"/referrals/{child.uuid}/safeguarding/care",
        {
            "care_status": "section_20",
            "placement_type": "foster_care",
            "placement_address": "3 Synthetic Row",
            "social_worker": "la2",
        },
    )
    assert saved.status_code == 302 and CareRecord.objects.get(referral=child).social_worker == people["la2"]
    assessed = la.post(
        f"/referrals/{child.uuid}/safeguarding/age-assessment",
        {
            "outcome": "adult",
            "assessor": "local_authority",
            "assessed_on-day": "1",
            "assessed_on-month": "11",
            "assessed_on-year": "2026",
        },
    )
    assert assessed.status_code == 302 and AgeAssessment.objects.filter(referral=child).count() == 1
    # Now assessed as an adult: looked after is refused with the reason in the error summary.
    refused = la.post(
        f"/referrals/{child.uuid}/safeguarding/care", {"care_status": "looked_after", "placement_type": "none"}
    )
    assert refused.status_code == 409 and "treated as an adult" in text(refused)
    assert CareRecord.objects.filter(referral=child).count() == 1

    guardian = web_client(people["guardian"])
    form = guardian.get(f"/referrals/{child.uuid}/safeguarding/guardian")
    assert "guardian2" in text(form)
    allocated = guardian.post(
        f"/referrals/{child.uuid}/safeguarding/guardian", {"guardian": "guardian2", "support_model": "direct"}
    )
    assert allocated.status_code == 302
    assert "Time to allocation" in text(web_client(people["guardian2"]).get(f"/referrals/{child.uuid}/safeguarding"))


def test_roles_without_the_safeguarding_compartment_are_refused_everywhere(people, child, web_client):
    for who in ("sca", "immigration", "stats", "admin"):
        client = web_client(people[who])
        for path in (
            f"/referrals/{child.uuid}/safeguarding",
            f"/referrals/{child.uuid}/missing",
            "/missing-now",
            "/safeguarding",
        ):
            response = client.get(path)
            assert response.status_code == 403, (who, path)
            assert child.reference not in text(response)
    # A guardian has no "missing now" list (it belongs to a local authority or a police force).
    assert web_client(people["guardian"]).get("/missing-now").status_code == 403
