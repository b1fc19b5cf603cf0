"""The work queue page with its views, filters and bulk assignment, and the first responder's view of a referral
(issue 3 items 6 and 9), driven with the Django test client as a browser without JavaScript would."""

import re

import pytest

from opennrm.accounts.models import Team
from opennrm.audit.models import AuditEvent
from opennrm.decisions.models import Decision
from opennrm.decisions.services import decision_confirm, decision_record, decision_send_back, referral_withdraw
from opennrm.decisions.tests.conftest import make_referral, people, seeded_rules  # noqa: F401 - fixtures
from opennrm.referrals.models import Referral
from opennrm.web.tests.test_decision_pages import banner, link, queue_references, summary_messages
from opennrm.web.tests.test_journey import text_of

RG, CG = "reasonable_grounds", "conclusive_grounds"


@pytest.fixture
def clients(people, web_client):
    return {name: web_client(user) for name, user in people.items()}


@pytest.fixture
def team(people):
    made = Team.objects.create(
        organisation=people["sca1"].organisation, name="SCA casework team 1", manager=people["sca2"]
    )
    for name in ("sca1", "sca2"):
        people[name].team = made
        people[name].save(update_fields=["team"])
    return made


@pytest.fixture
def sca_cases(people, child_referral_body, adult_referral_body):
    made = [make_referral(people["referrer"], child_referral_body, days_ago=d) for d in (40, 20, 3)]
    made.append(make_referral(people["referrer"], dict(adult_referral_body, nation="SCT"), days_ago=10))
    return made  # deadline order: 40, 20, 10 (Scottish adult), 3


def test_views_filters_and_bulk_assignment(clients, people, team, sca_cases):
    oldest, middle, newest, scottish = sca_cases
    page = clients["sca1"].get("/queue")
    assert page.status_code == 200
    assert queue_references(page) == [r.reference for r in (oldest, middle, scottish, newest)]
    assert "4 open cases" in text_of(page) and "working days overdue" in text_of(page)
    # The views are links, the filters a GET form: all work without JavaScript.
    assert link(page, "My cases") == "?view=mine" and 'method="get"' in page.content.decode()
    assert queue_references(clients["sca1"].get("/queue", {"view": "all", "nation": "SCT"})) == [scottish.reference]
    assert queue_references(clients["sca1"].get("/queue", {"age_group": "child", "authority": "E09000008"})) == [
        r.reference for r in (oldest, middle, newest)
    ]
    assert queue_references(clients["sca1"].get("/queue", {"status": "recovery_period"})) == []

    back = "/queue?view=all&nation=ENG"
    done = clients["sca2"].post(
        "/queue/assign", {"referrals": [str(oldest.uuid), str(newest.uuid)], "assign_to": "user:sca1", "back": back}
    )
    assert done.status_code == 302 and done["Location"] == back
    shown = clients["sca2"].get(done["Location"])
    assert banner(shown) == "2 cases assigned to sca1"
    assert set(Referral.objects.filter(assigned_to=people["sca1"]).values_list("pk", flat=True)) == {
        oldest.pk,
        newest.pk,
    }
    mine = clients["sca1"].get("/queue", {"view": "mine"})
    assert queue_references(mine) == [oldest.reference, newest.reference]
    clients["sca2"].post(
        "/queue/assign", {"referrals": [str(middle.uuid)], "assign_to": f"team:{team.pk}", "back": "/queue"}
    )
    assert queue_references(clients["sca1"].get("/queue", {"view": "team"})) == [
        r.reference for r in (oldest, middle, newest)
    ]
    assert queue_references(clients["sca1"].get("/queue", {"view": "unassigned"})) == [scottish.reference]
    assert "Not assigned to a person, SCA casework team 1" in text_of(clients["sca1"].get("/queue", {"view": "team"}))


def test_bulk_assignment_refused_shows_every_reason_and_assigns_nothing(clients, people, team, sca_cases):
    oldest, _middle, _newest, scottish = sca_cases
    referral_withdraw(actor=people["referrer"], referral=scottish, reason="Returned home")
    refused = clients["sca1"].post(
        "/queue/assign",
        {"referrals": [str(oldest.uuid), str(scottish.uuid)], "assign_to": "user:sca2", "back": "/queue"},
    )
    assert refused.status_code == 409
    messages = summary_messages(refused)
    assert messages[0].startswith("Nothing was assigned") and any(
        "Case 2 of those selected" in m and "closed" in m for m in messages
    )
    assert "checked" in refused.content.decode()  # the ticks survive, to correct and resubmit
    no_target = clients["sca1"].post(
        "/queue/assign", {"referrals": [str(oldest.uuid)], "assign_to": "", "back": "/queue"}
    )
    assert no_target.status_code == 422 and summary_messages(no_target) == [
        "Choose who to assign the selected cases to"
    ]
    nothing = clients["sca1"].post("/queue/assign", {"assign_to": "user:sca2", "back": "/queue"})
    assert nothing.status_code == 422 and summary_messages(nothing) == ["Choose at least one case"]
    other_authority = clients["sca1"].post(
        "/queue/assign", {"referrals": [str(oldest.uuid)], "assign_to": "user:ieca", "back": "/queue"}
    )
    assert other_authority.status_code == 422
    assert not Referral.objects.filter(assigned_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="referral.assign").exists()


def test_the_queue_and_assignment_are_closed_to_other_roles(clients, sca_cases):
    for name in ("referrer", "immigration", "la", "guardian", "admin"):
        assert clients[name].get("/queue").status_code == 403
        assert (
            clients[name]
            .post("/queue/assign", {"referrals": [str(sca_cases[0].uuid)], "assign_to": "nobody"})
            .status_code
            == 403
        )
    assert not AuditEvent.objects.filter(action="referral.assign").exists()
    assert queue_references(clients["ieca"].get("/queue")) == []


def test_first_responders_view_history_letters_and_reconsideration(clients, people, child_referral_body):
    referral = make_referral(people["referrer"], child_referral_body, days_ago=80)
    sent_back = decision_record(
        actor=people["sca1"], referral=referral, stage=RG, outcome="negative", reasons="Thin account"
    )
    decision_send_back(
        actor=people["sca2"],
        referral=referral,
        decision=sent_back,
        comment="Internal: ask the police for the interview notes",
    )
    positive = decision_record(
        actor=people["sca1"], referral=referral, stage=RG, outcome="positive", reasons="Consistent account"
    )
    # As if the recovery period had run its course.
    Referral.objects.filter(pk=referral.pk).update(recovery_period_ends_on=referral.received_at.date())
    negative = decision_record(
        actor=people["sca1"], referral=referral, stage=CG, outcome="negative", reasons="Inconsistent account"
    )
    decision_confirm(actor=people["sca2"], referral=referral, decision=negative)

    listing = clients["referrer"].get("/referrals")
    assert referral.reference in text_of(listing) and "Negative Conclusive Grounds decision" in text_of(listing)
    assert "None: decided" in text_of(listing)

    page = clients["referrer"].get(f"/referrals/{referral.uuid}")
    text = text_of(page)
    history = text[text.index("History") :]
    assert "Referral received" in history and "Sent to the Single Competent Authority" in history
    assert (
        "Positive Reasonable Grounds decision issued" in history
        and "Negative Conclusive Grounds decision issued" in history
    )
    # The authority's own working stays with it: no proposal, no send-back, no reviewer's comment.
    for internal in ("proposed", "sent back", "Internal: ask the police", "sca1", "sca2", "Assigned"):
        assert internal not in history, internal
    letters = re.findall(r'href="(/referrals/[^"]+/letter(?:\.pdf)?)"', page.content.decode())
    assert f"/referrals/{referral.uuid}/decisions/{positive.uuid}/letter" in letters
    assert f"/referrals/{referral.uuid}/decisions/{negative.uuid}/letter.pdf" in letters
    assert f"/referrals/{referral.uuid}/decisions/{sent_back.uuid}/letter" not in letters
    for url in letters:
        assert clients["referrer"].get(url).status_code == 200, url

    asked = clients["referrer"].post(link(page, "Request reconsideration"), {"grounds": "New medico-legal report"})
    assert asked.status_code == 302
    history = text_of(clients["referrer"].get(f"/referrals/{referral.uuid}"))
    assert (
        "Reconsideration of the Conclusive Grounds decision requested" in history
        and "New medico-legal report" in history
    )

    # The decision makers see their own working in the same history.
    theirs = text_of(clients["sca2"].get(f"/referrals/{referral.uuid}"))
    assert "Negative Reasonable Grounds decision proposed" in theirs and "Internal: ask the police" in theirs
    # Another organisation's first responder learns nothing: not the page, not the letters.
    assert clients["other_referrer"].get(f"/referrals/{referral.uuid}").status_code == 404
    for url in letters:
        assert clients["other_referrer"].get(url).status_code == 404
    assert referral.reference not in text_of(clients["other_referrer"].get("/referrals"))
    assert Decision.objects.filter(referral=referral).count() == 3


def test_assigning_one_case_from_its_page(clients, people, team, sca_cases):
    oldest, _middle, _newest, scottish = sca_cases
    url = f"/referrals/{oldest.uuid}"
    page = clients["sca2"].get(url)
    assert "Assign this case to" in text_of(page) and "Nobody" in text_of(page)
    done = clients["sca2"].post(f"{url}/assignment", {"assign_to": "user:sca1"})
    assert done.status_code == 302 and done["Location"] == url
    shown = clients["sca2"].get(url)
    assert banner(shown) == "Case assigned to sca1" and "sca1, SCA casework team 1" in text_of(shown)
    assert Referral.objects.get(pk=oldest.pk).assigned_to == people["sca1"]

    unchosen = clients["sca2"].post(f"{url}/assignment", {"assign_to": ""})
    assert unchosen.status_code == 422 and summary_messages(unchosen) == ["Choose who to assign the case to"]
    wrong = clients["sca2"].post(f"{url}/assignment", {"assign_to": "user:ieca"})
    assert wrong.status_code == 422 and "your own authority" in summary_messages(wrong)[0]
    referral_withdraw(actor=people["referrer"], referral=scottish, reason="Returned home")
    assert "Assign this case to" not in text_of(clients["sca2"].get(f"/referrals/{scottish.uuid}"))
    closed = clients["sca2"].post(f"/referrals/{scottish.uuid}/assignment", {"assign_to": "user:sca1"})
    assert closed.status_code == 409 and "closed" in summary_messages(closed)[0]
    assert clients["ieca"].post(f"{url}/assignment", {"assign_to": "user:ieca"}).status_code == 404
    assert clients["referrer"].post(f"{url}/assignment", {"assign_to": "user:sca1"}).status_code == 403
    assert "Assign this case to" not in text_of(clients["referrer"].get(url))
    assert AuditEvent.objects.filter(action="referral.assign").count() == 1
