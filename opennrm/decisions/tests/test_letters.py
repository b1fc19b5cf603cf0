"""The decision letter: scoped and audited like the referral, the same words as a page and as a PDF."""

import logging

import pytest

from opennrm.audit.models import AuditEvent
from opennrm.core.errors import NotFound
from opennrm.decisions.letters import letter_pdf
from opennrm.decisions.models import Outcome, Stage
from opennrm.decisions.selectors import decision_letter_open
from opennrm.decisions.services import decision_confirm, decision_record
from opennrm.safeguarding.services import guardian_allocate

from .conftest import days_ago, make_referral

REASONS = "The account is consistent and detailed; the indicators of criminal exploitation are present."


def letter_url(decision, suffix=""):
    return f"/referrals/{decision.referral.uuid}/decisions/{decision.uuid}/letter{suffix}"


@pytest.fixture
def positive_rg(people, child_referral):
    return decision_record(
        actor=people["sca1"],
        referral=child_referral,
        stage=Stage.REASONABLE_GROUNDS,
        outcome=Outcome.POSITIVE,
        reasons=REASONS,
        decided_at=days_ago(50),
    )


def test_first_responder_reads_the_letter_of_a_positive_reasonable_grounds_decision(people, positive_rg, web_client):
    response = web_client(people["referrer"]).get(letter_url(positive_rg))
    assert response.status_code == 200
    page = response.content.decode()
    ends = positive_rg.referral.recovery_period_ends_on
    assert "Reasonable Grounds decision: positive" in page
    assert REASONS.replace("'", "&#39;") in page
    assert f"The recovery period has started. It ends on {ends.day} {ends:%B %Y}" in page
    assert "We think you may have been trafficked" in page  # the plain-language explanation
    assert "You will keep getting help from the council" in page  # the person is a child
    assert positive_rg.referral.reference in page and "Thi Anh Nguyen" in page
    assert "Flat 1, 1 Example Road" not in page  # safeguarding details never go in a letter
    event = AuditEvent.objects.filter(action="referral.read", object_id=str(positive_rg.referral.uuid)).latest("id")
    assert event.details["purpose"] == f"decision_letter:{positive_rg.uuid}"


def test_the_pdf_letter_is_a_pdf_with_the_decision(people, positive_rg, web_client):
    response = web_client(people["referrer"]).get(letter_url(positive_rg, ".pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f"{positive_rg.referral.reference}-decision-{positive_rg.uuid}.pdf" in response["Content-Disposition"]


def test_vietnamese_names_render_in_the_pdf_and_geez_is_reported_missing(people, child_referral_body, caplog):
    child_referral_body["potential_victim"].update(given_names="Thị Ánh Ngọc", family_name="Nguyễn")
    referral = make_referral(people["referrer"], child_referral_body)
    decision = decision_record(
        actor=people["sca1"],
        referral=referral,
        stage=Stage.REASONABLE_GROUNDS,
        outcome=Outcome.POSITIVE,
        reasons=REASONS,
    )
    letter = decision_letter_open(actor=people["referrer"], referral_id=referral.uuid, decision_id=decision.uuid)
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        assert letter_pdf(letter).startswith(b"%PDF-")
    assert "missing the following glyphs" not in caplog.text

    # DejaVu has no Ethiopic: fpdf2 says so rather than failing (the module docstring says what to expect).
    referral.potential_victim["given_names"] = "ሰላም"
    referral.save(update_fields=["potential_victim"])
    letter = decision_letter_open(actor=people["referrer"], referral_id=referral.uuid, decision_id=decision.uuid)
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        letter_pdf(letter)
    assert "missing the following glyphs" in caplog.text


def test_a_negative_decision_has_a_letter_only_once_confirmed_and_it_names_the_reconsideration_route(
    people, adult_referral, web_client
):
    proposed = decision_record(
        actor=people["sca1"],
        referral=adult_referral,
        stage=Stage.REASONABLE_GROUNDS,
        outcome=Outcome.NEGATIVE,
        reasons="No indicators of exploitation were described.",
        decided_at=days_ago(50),
    )
    client = web_client(people["referrer"])
    assert client.get(letter_url(proposed)).status_code == 404
    decision_confirm(actor=people["sca2"], referral=adult_referral, decision=proposed, confirmed_at=days_ago(49))
    page = client.get(letter_url(proposed)).content.decode()
    assert "Reasonable Grounds decision: negative" in page
    assert "can ask for the decision to be reconsidered" in page
    assert "the person who helped you can ask us to look again" in page
    assert "You will keep getting help from the council" not in page  # an adult


@pytest.mark.parametrize("who", ["other_referrer", "ieca", "other_panel", "immigration", "admin"])
def test_the_letter_is_404_to_whoever_may_not_see_the_referral(people, positive_rg, web_client, who):
    client = web_client(people[who])
    assert client.get(letter_url(positive_rg)).status_code == 404
    assert client.get(letter_url(positive_rg, ".pdf")).status_code == 404
    assert AuditEvent.objects.filter(action="referral.read_refused", object_id=str(positive_rg.referral.uuid)).exists()


@pytest.mark.parametrize("who", ["sca2", "la", "guardian"])
def test_the_letter_is_open_to_the_authority_and_the_childs_local_authority_and_guardian(
    people, positive_rg, web_client, who
):
    if who == "guardian":  # the child's guardian: allocated (ADR 0028)
        guardian_allocate(
            actor=people["guardian"],
            referral=positive_rg.referral,
            guardian=people["guardian"].username,
            support_model="direct",
        )
    assert web_client(people[who]).get(letter_url(positive_rg)).status_code == 200


def test_a_decision_of_another_referral_is_not_found_through_this_one(people, positive_rg, adult_referral):
    with pytest.raises(NotFound):
        decision_letter_open(actor=people["referrer"], referral_id=adult_referral.uuid, decision_id=positive_rg.uuid)


def test_signed_out_is_sent_to_sign_in(positive_rg, client):
    response = client.get(letter_url(positive_rg))
    assert response.status_code == 302 and "/sign-in" in response["Location"]
