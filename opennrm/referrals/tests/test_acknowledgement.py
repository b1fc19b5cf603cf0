"""A referral made through the pages is acknowledged by email, by the real worker, through a real SMTP server."""

import pytest
from django.utils import timezone

from opennrm.cases.services import referral_create
from opennrm.policy import Role
from opennrm.referrals.services import draft_start
from opennrm.referrals.validation import validate_referral
from opennrm.tests.mail import run_worker

SUBJECT = "NRM referral received:"


@pytest.mark.django_db(transaction=True)
def test_a_referral_from_the_pages_is_acknowledged_with_its_reference_and_deadline_only(
    make_user, child_referral_body, smtp_sink
):
    smtp_sink.start()
    responder = make_user(Role.FIRST_RESPONDER, username="fr.ack")
    data, errors = validate_referral(child_referral_body, now=timezone.now())
    assert not errors
    referral = referral_create(actor=responder, data=data, draft=draft_start(actor=responder))

    run_worker()

    [(to, text)] = smtp_sink.emails_with_subject(SUBJECT)
    assert to == [responder.email]
    assert referral.reference in text and f"{referral.reasonable_grounds_due:%-d %B %Y}" in text
    # Email is not a secure channel: nothing about the person.
    for value in ("Thi Anh", "Nguyen", "Croydon", "cannabis"):
        assert value not in text


@pytest.mark.django_db(transaction=True)
def test_an_api_referral_is_acknowledged_in_its_response_not_by_email(
    api_client, make_user, child_referral_body, smtp_sink
):
    smtp_sink.start()
    response = api_client(make_user(Role.FIRST_RESPONDER)).post("/api/v1/referrals", child_referral_body)
    assert response.status_code == 201 and response.json()["reference"]
    run_worker()
    assert smtp_sink.emails_with_subject(SUBJECT) == []
