"""Decision pages driven with the Django test client, as a browser without JavaScript would (issue 3 items 6 and 9)."""

import html
import re

import pytest
from django.utils import timezone

from opennrm.audit.models import AuditEvent
from opennrm.decisions.models import Decision, DecisionState
from opennrm.decisions.routing import LONDON
from opennrm.decisions.tests.conftest import make_referral, people, seeded_rules  # noqa: F401 - fixtures
from opennrm.referrals.models import Status
from opennrm.web.tests.test_journey import summary_errors, text_of, title_of
from opennrm.workdays.calendar import working_days_between

RG, CG = "reasonable_grounds", "conclusive_grounds"
ISLINGTON = "E09000019"


@pytest.fixture
def clients(people, web_client):
    return {name: web_client(user) for name, user in people.items()}


def link(response, text: str) -> str:
    """The href of the link or button link with this text."""
    found = re.search(rf'<a [^>]*href="([^"]+)"[^>]*>\s*{re.escape(text)}\s*</a>', response.content.decode())
    assert found, f"no link {text!r}"
    return html.unescape(found[1])


def queue_references(response) -> list[str]:
    return re.findall(r'href="/referrals/[0-9a-f-]+">([^<]+)</a>', response.content.decode())


def banner(response) -> str:
    found = re.search(
        r'govuk-notification-banner--success.*?<p class="govuk-notification-banner__heading">\s*(.*?)\s*</p>',
        response.content.decode(),
        re.S,
    )
    assert found, "no success banner"
    return html.unescape(found[1])


def summary_messages(response) -> list[str]:
    """Every message in the GOV.UK error summary, linked to a field or not (a refusal is about the case, not a field)."""
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', response.content.decode(), re.S)
    assert found, "no error summary on the page"
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", "", item)).split())
        for item in re.findall(r"<li>(.*?)</li>", found[1], re.S)
    ]


def test_oldest_case_negative_rg_confirmed_by_another_then_reconsideration(clients, people, child_referral_body):
    newest = make_referral(people["referrer"], child_referral_body, days_ago=1)
    oldest = make_referral(people["referrer"], child_referral_body, days_ago=20)
    middle = make_referral(people["referrer"], child_referral_body, days_ago=10)

    queue = clients["sca1"].get("/queue")
    assert queue.status_code == 200 and title_of(queue) == "Work queue – OpenNRM"
    assert queue_references(queue) == [oldest.reference, middle.reference, newest.reference]
    today = timezone.now().astimezone(LONDON).date()
    overdue = -working_days_between(today, oldest.reasonable_grounds_due, "ENG")
    assert overdue > 0 and f"{overdue} working days overdue" in text_of(queue)
    assert re.search(rf'govuk-tag--red">\s*{overdue} working days overdue', queue.content.decode())
    assert oldest.display_name in text_of(queue)  # an SCA sees the referral compartment
    listed = AuditEvent.objects.filter(action="referral.list", actor_username="sca1", details__purpose="work_queue")
    assert sorted(listed.values_list("object_id", flat=True)) == sorted(str(r.uuid) for r in (oldest, middle, newest))

    # sca1 takes the oldest case: the form comes with the stage the case is at.
    detail = clients["sca1"].get(f"/referrals/{oldest.uuid}")
    decide_url = link(detail, "Make a decision")
    form = clients["sca1"].get(decide_url)
    assert title_of(form) == f"Make a decision on {oldest.reference} – OpenNRM"
    assert re.search(r'value="reasonable_grounds" checked', form.content.decode())
    proposed = clients["sca1"].post(
        decide_url, {"stage": RG, "outcome": "negative", "reasons": "Little detail of recruitment"}, follow=True
    )
    assert "second decision maker confirms it" in banner(proposed)
    assert "waiting for a second decision maker" in text_of(proposed)
    decision = Decision.objects.get(referral=oldest)
    assert decision.state == DecisionState.PROPOSED

    # Not yet a decision: the first responder sees none.
    assert "No decision has been issued yet" in text_of(clients["referrer"].get(f"/referrals/{oldest.uuid}"))
    assert "Request reconsideration" not in text_of(clients["referrer"].get(f"/referrals/{oldest.uuid}"))

    review_url = f"/referrals/{oldest.uuid}/decisions/{decision.uuid}"
    by_proposer = clients["sca1"].post(review_url, {"action": "confirm"})
    assert by_proposer.status_code == 409
    assert summary_messages(by_proposer) == [
        "A negative decision must be reviewed by a different decision maker from the one who proposed it"
    ]
    decision.refresh_from_db()
    assert decision.state == DecisionState.PROPOSED

    queue2 = clients["sca2"].get("/queue")
    assert "Needs confirmation" in text_of(queue2)
    detail2 = clients["sca2"].get(f"/referrals/{oldest.uuid}")
    assert link(detail2, "Review the proposed decision") == review_url
    confirmed = clients["sca2"].post(review_url, {"action": "confirm"}, follow=True)
    assert banner(confirmed) == "Decision confirmed: it has taken effect"
    oldest.refresh_from_db()
    assert oldest.status == Status.REASONABLE_GROUNDS_NEGATIVE
    assert oldest.reference not in queue_references(clients["sca1"].get("/queue"))

    # The first responder sees the issued decision and asks for it to be looked at again.
    mine = clients["referrer"].get(f"/referrals/{oldest.uuid}")
    assert re.search(r"Reasonable Grounds</td>\s*<td[^>]*>Negative", mine.content.decode())
    ask_url = link(mine, "Request reconsideration")
    empty = clients["referrer"].post(ask_url, {"grounds": " "})
    assert empty.status_code == 422 and summary_errors(empty) == [("#grounds", "Give the grounds for reconsideration")]
    asked = clients["referrer"].post(ask_url, {"grounds": "The school's safeguarding records"}, follow=True)
    assert "Reconsideration requested" in banner(asked)
    oldest.refresh_from_db()
    assert oldest.status == Status.RECONSIDERATION
    assert "Reconsideration of the Reasonable Grounds decision requested on" in text_of(asked)
    assert oldest.reference in queue_references(clients["sca2"].get("/queue?status=reconsideration"))
    # The fresh decision is at the stage reconsidered.
    fresh = clients["sca2"].get(f"/referrals/{oldest.uuid}/decision")
    assert re.search(r'value="reasonable_grounds" checked', fresh.content.decode())


def test_the_islington_panel_sees_and_decides_an_islington_childs_case(clients, people, child_referral_body):
    child_referral_body["local_authority_contact"]["local_authority"] = ISLINGTON
    child_referral_body["potential_victim"]["date_of_birth"] = "2014-03-01"
    referral = make_referral(people["referrer"], child_referral_body, days_ago=1)
    assert referral.competent_authority == "LOCAL_PANEL"
    assert queue_references(clients["panel"].get("/queue")) == [referral.reference]
    assert queue_references(clients["sca1"].get("/queue")) == []
    assert clients["sca1"].get(f"/referrals/{referral.uuid}/decision").status_code == 404
    assert (
        clients["other_panel"]
        .post(f"/referrals/{referral.uuid}/decision", {"stage": RG, "outcome": "positive", "reasons": "x"})
        .status_code
        == 404
    )
    decided = clients["panel"].post(
        f"/referrals/{referral.uuid}/decision",
        {"stage": RG, "outcome": "positive", "reasons": "Consistent account"},
        follow=True,
    )
    assert banner(decided) == "Decision recorded"
    referral.refresh_from_db()
    assert referral.status == Status.RECOVERY_PERIOD
    # The case stays in the queue, now awaiting its recovery period's end.
    queue = clients["panel"].get("/queue")
    assert queue_references(queue) == [referral.reference] and "Recovery period" in text_of(queue)


def test_send_back_with_a_comment_then_a_fresh_decision(clients, people, child_referral_body):
    referral = make_referral(people["referrer"], child_referral_body, days_ago=2)
    clients["sca1"].post(
        f"/referrals/{referral.uuid}/decision", {"stage": RG, "outcome": "negative", "reasons": "Thin account"}
    )
    decision = Decision.objects.get(referral=referral)
    review_url = f"/referrals/{referral.uuid}/decisions/{decision.uuid}"
    page = clients["sca2"].get(review_url)
    assert title_of(
        page
    ) == f"Review the proposed decision on {referral.reference} – OpenNRM" and "Thin account" in text_of(page)
    no_comment = clients["sca2"].post(review_url, {"action": "send_back", "comment": ""})
    assert no_comment.status_code == 422
    assert summary_errors(no_comment) == [("#comment", "Give a comment saying why the decision is sent back")]
    assert title_of(no_comment).startswith("Error: ")
    sent = clients["sca2"].post(
        review_url, {"action": "send_back", "comment": "Weigh the school's evidence"}, follow=True
    )
    assert banner(sent) == "Decision sent back for a fresh decision"
    decision.refresh_from_db()
    assert (decision.state, decision.review_comment) == (DecisionState.SENT_BACK, "Weigh the school's evidence")
    again = clients["sca1"].get(f"/referrals/{referral.uuid}")
    assert "Weigh the school's evidence" in text_of(again)
    assert link(again, "Make a decision") == f"/referrals/{referral.uuid}/decision"
    assert clients["sca2"].post(review_url, {"action": "confirm"}).status_code == 409


def test_a_refused_transition_shows_the_services_reason_and_changes_nothing(clients, people, child_referral_body):
    referral = make_referral(people["referrer"], child_referral_body, days_ago=2)
    refused = clients["sca1"].post(
        f"/referrals/{referral.uuid}/decision", {"stage": CG, "outcome": "positive", "reasons": "Too soon"}
    )
    assert refused.status_code == 409
    assert summary_messages(refused) == [
        "A Conclusive Grounds decision needs a positive Reasonable Grounds decision first"
    ]
    assert 'value="Too soon"' in refused.content.decode() or "Too soon</textarea>" in refused.content.decode()
    referral.refresh_from_db()
    assert referral.status == Status.AWAITING_REASONABLE_GROUNDS and not referral.decisions.exists()
    missing = clients["sca1"].post(f"/referrals/{referral.uuid}/decision", {"stage": RG, "outcome": "", "reasons": ""})
    assert missing.status_code == 422 and summary_errors(missing) == [("#outcome", "Choose positive or negative")]
    # Reconsideration of a case with no negative decision: the service's reason, not a 500.
    asked = clients["referrer"].post(f"/referrals/{referral.uuid}/reconsideration", {"grounds": "Please look again"})
    assert asked.status_code == 409 and "Only a negative decision can be reconsidered" in summary_messages(asked)[0]


@pytest.mark.parametrize("who", ["referrer", "immigration", "la", "admin"])
def test_roles_that_do_not_decide_have_no_queue_and_cannot_decide(clients, people, child_referral_body, who):
    referral = make_referral(people["referrer"], child_referral_body, days_ago=2)
    client = clients[who]
    assert client.get("/queue").status_code == 403
    assert "Work queue" not in text_of(client.get("/"))
    assert client.get(f"/referrals/{referral.uuid}/decision").status_code == 403
    assert (
        client.post(
            f"/referrals/{referral.uuid}/decision", {"stage": RG, "outcome": "positive", "reasons": "x"}
        ).status_code
        == 403
    )
    assert not referral.decisions.exists()


def test_queue_filters_and_pages(clients, people, child_referral_body, adult_referral_body, settings):
    import opennrm.web.decision_views as views

    adult_referral_body["nation"] = "SCT"
    adult = make_referral(people["referrer"], adult_referral_body, days_ago=3)
    children = [make_referral(people["referrer"], child_referral_body, days_ago=d) for d in (4, 5)]
    sca = clients["sca1"]
    assert queue_references(sca.get("/queue?nation=SCT")) == [adult.reference]
    assert queue_references(sca.get("/queue?age_group=adult")) == [adult.reference]
    assert queue_references(sca.get("/queue?age_group=child&nation=ENG")) == [c.reference for c in reversed(children)]
    assert queue_references(sca.get("/queue?status=recovery_period")) == []
    assert queue_references(sca.get("/queue?nation=nonsense")) == [
        children[1].reference,
        children[0].reference,
        adult.reference,
    ]
    views.PAGE_SIZE, size = 2, views.PAGE_SIZE
    try:
        first = sca.get("/queue?age_group=child")
        assert len(queue_references(first)) == 2 and "?page=2" not in first.content.decode()
        page1 = sca.get("/queue")
        assert "?page=2" in page1.content.decode()
        page2 = sca.get("/queue?page=2")
        assert queue_references(page2) == [adult.reference] and title_of(page2) == "Work queue (page 2) – OpenNRM"
    finally:
        views.PAGE_SIZE = size
