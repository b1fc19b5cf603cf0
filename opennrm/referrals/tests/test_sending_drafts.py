"""What a draft's answers make, what they ask by age and what of them is sent (MSA 2015 s.52(3)), and sending a
draft: the rules applied directly, without the pages."""

import copy
import datetime as dt

import pytest

from opennrm.audit.models import AuditEvent
from opennrm.cases.services import referral_send
from opennrm.conftest import VALID_CHILD_REFERRAL
from opennrm.core.errors import Invalid, NotAllowed, NotFound
from opennrm.policy import Role
from opennrm.referrals.models import DutyToNotify, Referral, ReferralDraft
from opennrm.referrals.schemas import DutyToNotifyIn, ReferralIn
from opennrm.referrals.services import draft_save, draft_start, duty_to_notify_send
from opennrm.referrals.validation import (
    IDENTIFYING_FIELDS,
    asks_consent,
    asks_local_authority_contact,
    consent_answer,
    duty_to_notify_answers,
    forget_answers_not_asked,
    is_duty_to_notify,
    may_identify,
    treated_as_child,
    validate_answers,
)

NOW = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)


def adult(consent: bool | None) -> dict:
    body = copy.deepcopy(VALID_CHILD_REFERRAL)
    body["potential_victim"].update(age_group="adult", date_of_birth="1990-05-04", home_office_reference="HO/123456")
    body["local_authority_contact"] = None
    body["consent"] = None if consent is None else {"given": consent, "recorded_at": "2026-11-27T09:00:00Z"}
    return body


# --- Which answers make a Duty to Notify ------------------------------------------------------------


@pytest.mark.parametrize(
    ("age_group", "consent", "expected"),
    [
        ("adult", {"given": False}, True),
        ("adult", {"given": True}, False),
        ("adult", None, False),  # not yet answered
        ("child", {"given": False}, False),  # a child is referred, without consent
        ("unknown", {"given": False}, False),  # so is a person who may be a child
        (None, {"given": False}, False),
        ("adult", "no", False),  # not a consent answer at all
    ],
)
def test_only_an_adult_who_does_not_consent_makes_a_duty_to_notify(age_group, consent, expected):
    body = {"potential_victim": {"age_group": age_group}, "consent": consent}
    assert is_duty_to_notify(body) is expected
    assert may_identify(body) is not expected


def test_a_duty_to_notify_carries_no_identifying_answer():
    answers = duty_to_notify_answers(adult(consent=False))
    assert answers == {
        "nation": "ENG",
        "first_responder_reference": "CRO-2026-0042",
        "age_group": "adult",
        "sex": "female",
        "nationalities": ["VNM"],
        "exploitation": VALID_CHILD_REFERRAL["exploitation"],
        "indicators": ["Found locked inside a cannabis farm"],
        "police": {"force": "Metropolitan Police Service", "crime_reference": "6029384/26"},
    }
    assert not set(answers) & set(IDENTIFYING_FIELDS)
    for identifying in ("Thi Anh", "Nguyen", "Annie", "1990", "Example Road", "020 7946", "HO/123456", '"vi"'):
        assert identifying not in repr(answers).replace("'", '"')


def test_a_duty_to_notify_leaves_out_what_was_not_given():
    assert duty_to_notify_answers({"potential_victim": {"age_group": "adult", "sex": None}, "nation": "WLS"}) == {
        "nation": "WLS",
        "age_group": "adult",
    }
    assert duty_to_notify_answers({"potential_victim": "not an object"}) == {}


def test_answers_are_checked_as_what_they_make():
    referral, errors = validate_answers(adult(consent=True), now=NOW)
    assert errors == [] and isinstance(referral, ReferralIn)
    report, errors = validate_answers(adult(consent=False), now=NOW)
    # The identifying answers are not an error: they are simply not what a Duty to Notify is made of.
    assert errors == [] and isinstance(report, DutyToNotifyIn)
    _, errors = validate_answers({**adult(consent=False), "exploitation": []}, now=NOW)
    assert [e.field for e in errors] == ["exploitation"]


# --- Sending a draft --------------------------------------------------------------------------------


@pytest.fixture
def first_responder(make_user):
    return make_user(Role.FIRST_RESPONDER)


def drafted(actor, body: dict) -> ReferralDraft:
    return draft_save(actor=actor, draft=draft_start(actor=actor), answers={"referral": body, "pages_saved": []})


def test_a_duty_to_notify_is_sent_and_its_draft_deleted_together(first_responder):
    draft = drafted(first_responder, adult(consent=False))
    report = duty_to_notify_send(actor=first_responder, draft_uuid=draft.uuid, now=NOW)
    assert DutyToNotify.objects.get() == report and report.reference.startswith("DTN-")
    assert report.sex == "female" and report.nationalities == ["VNM"]
    assert not ReferralDraft.objects.exists() and not Referral.objects.exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["duty_to_notify.create", "draft.delete"]
    # A second click finds the draft gone: NotFound, and nothing more is sent.
    with pytest.raises(NotFound):
        duty_to_notify_send(actor=first_responder, draft_uuid=draft.uuid, now=NOW)
    assert DutyToNotify.objects.count() == 1


def test_a_draft_that_does_not_make_a_duty_to_notify_is_not_sent_as_one(first_responder):
    for body in (
        adult(consent=True),
        copy.deepcopy(VALID_CHILD_REFERRAL),
        {**adult(consent=False), "exploitation": []},
    ):
        draft = drafted(first_responder, body)
        with pytest.raises(Invalid) as refused:
            duty_to_notify_send(actor=first_responder, draft_uuid=draft.uuid, now=NOW)
        assert refused.value.errors
        assert ReferralDraft.objects.filter(pk=draft.pk).exists()
    assert not DutyToNotify.objects.exists()


def test_only_the_drafts_owner_sends_it(first_responder, make_user):
    draft = drafted(first_responder, adult(consent=False))
    with pytest.raises(NotFound):
        duty_to_notify_send(actor=make_user(Role.FIRST_RESPONDER), draft_uuid=draft.uuid, now=NOW)
    with pytest.raises(NotAllowed):
        referral_send(actor=make_user(Role.FIRST_RESPONDER), draft=drafted(first_responder, adult(True)), now=NOW)
    assert ReferralDraft.objects.count() == 2 and not DutyToNotify.objects.exists() and not Referral.objects.exists()


def test_a_referral_is_sent_from_its_draft_once(first_responder):
    draft = drafted(first_responder, adult(consent=True))
    referral = referral_send(actor=first_responder, draft=draft, now=NOW)
    assert referral.reference.startswith("NRM-") and referral.age_group == "adult"
    draft.refresh_from_db()
    assert draft.submitted_referral == referral
    assert referral_send(actor=first_responder, draft=draft, now=NOW) == referral
    assert Referral.objects.count() == 1


def test_a_draft_that_is_not_a_valid_referral_is_not_sent(first_responder):
    draft = drafted(first_responder, adult(consent=False))
    with pytest.raises(Invalid) as refused:
        referral_send(actor=first_responder, draft=draft, now=NOW)
    assert [e.field for e in refused.value.errors] == ["consent.given"]
    assert not Referral.objects.exists() and not DutyToNotify.objects.exists()


# --- What a referral asks, by age (nrm.md 1.3) ------------------------------------------------------


@pytest.mark.parametrize(
    ("age_group", "child", "local_authority", "consent"),
    [
        ("child", True, True, False),
        ("unknown", True, True, False),  # presumption of age (MSA 2015 s.51): not sure is a child
        ("adult", False, False, True),
        (None, False, False, False),  # not answered yet: neither
    ],
)
def test_age_decides_what_a_referral_asks(age_group, child, local_authority, consent):
    body = {"potential_victim": {"age_group": age_group}}
    assert treated_as_child(body) is child
    assert asks_local_authority_contact(body) is local_authority
    assert asks_consent(body) is consent


def test_answers_the_age_does_not_ask_for_are_forgotten():
    body = {**adult(consent=True), "local_authority_contact": {"local_authority": "E09000008"}}
    forget_answers_not_asked(body)
    assert "local_authority_contact" not in body and body["consent"]["given"] is True
    body["potential_victim"]["age_group"] = "unknown"
    body["local_authority_contact"] = {"local_authority": "E09000008"}
    forget_answers_not_asked(body)
    assert "consent" not in body and body["local_authority_contact"] == {"local_authority": "E09000008"}
    body["potential_victim"] = {}
    forget_answers_not_asked(body)
    assert "consent" not in body and "local_authority_contact" not in body


def test_consent_keeps_when_it_was_first_recorded_while_the_answer_stays():
    first = consent_answer(None, given=True, now=dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC))
    assert first == {"given": True, "recorded_at": "2026-11-27T09:00:00Z"}
    assert consent_answer(first, given=True, now=NOW) == first  # the page saved again: not a new consent
    changed = consent_answer(first, given=False, now=NOW)
    assert changed == {"given": False, "recorded_at": "2026-11-28T15:00:00Z"}
    london = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert consent_answer("not an answer", given=True, now=london)["recorded_at"] == "2026-07-01T09:00:00Z"
