"""A date or time a form could not read: the service reports it, with every other problem, and writes nothing,
so no page has to run a service and roll it back to find the rest."""

import datetime as dt

import pytest

from opennrm.audit.models import AuditEvent
from opennrm.core.errors import Invalid, Refused
from opennrm.safeguarding.models import AgeAssessment, MissingEpisode
from opennrm.safeguarding.services import (
    Unreadable,
    age_assessment_record,
    missing_episode_found,
    missing_episode_report,
)

from .conftest import ago

NOT_REAL = Unreadable("The claimed date of birth must be a real date, such as 27 11 2026")


def test_an_unreadable_date_is_refused_even_when_all_else_is_right(people, child):
    audited = AuditEvent.objects.count()
    with pytest.raises(Invalid) as refused:
        age_assessment_record(
            actor=people["la"],
            referral=child,
            outcome="child",
            assessed_on=dt.date.today() - dt.timedelta(days=1),
            assessor="local_authority",
            claimed_date_of_birth=NOT_REAL,
        )
    assert [(e.field, e.message) for e in refused.value.errors] == [("claimed_date_of_birth", NOT_REAL.message)]
    assert not AgeAssessment.objects.exists() and AuditEvent.objects.count() == audited


def test_what_could_not_be_read_comes_first_and_stands_for_its_field(people, child):
    with pytest.raises(Invalid) as refused:
        missing_episode_report(
            actor=people["la"],
            referral=child,
            missing_since=Unreadable("Enter when the child went missing"),
            last_seen="",
            risk="",
        )
    assert [e.field for e in refused.value.errors] == ["missing_since", "last_seen", "risk"]
    # The service's own message for a missing time is not added: the form's says it already.
    assert refused.value.errors[0].message == "Enter when the child went missing"
    assert not MissingEpisode.objects.exists()


def test_what_could_not_be_read_is_put_right_before_the_record_s_state_is_considered(people, child):
    episode = missing_episode_report(
        actor=people["la"], referral=child, missing_since=ago(hours=5), last_seen="At school", risk="low"
    )
    missing_episode_found(actor=people["la"], referral=child, episode=episode, found_at=ago(hours=1))
    unreadable = Unreadable("Enter the time of when the child was found as hours and minutes, such as 21:30")
    with pytest.raises(Invalid) as refused:
        missing_episode_found(actor=people["la"], referral=child, episode=episode, found_at=unreadable)
    assert [(e.field, e.message) for e in refused.value.errors] == [("found_at", unreadable.message)]
    with pytest.raises(Refused):
        missing_episode_found(actor=people["la"], referral=child, episode=episode, found_at=ago(minutes=5))


def test_the_age_assessment_page_stores_nothing_when_a_date_is_not_real(people, child, web_client):
    la = web_client(people["la"])
    yesterday = dt.date.today() - dt.timedelta(days=1)
    page = la.post(
        f"/referrals/{child.uuid}/safeguarding/age-assessment",
        {
            "outcome": "child",
            "assessor": "local_authority",
            "assessed_on-day": yesterday.day,
            "assessed_on-month": yesterday.month,
            "assessed_on-year": yesterday.year,
            "claimed_date_of_birth-day": "31",
            "claimed_date_of_birth-month": "2",
            "claimed_date_of_birth-year": "2010",
        },
    )
    assert page.status_code == 422
    assert NOT_REAL.message in page.content.decode() and 'href="#claimed_date_of_birth-day"' in page.content.decode()
    assert not AgeAssessment.objects.exists()
