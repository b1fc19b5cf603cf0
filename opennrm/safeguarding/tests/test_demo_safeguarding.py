"""The demo's safeguarding (contract section 8, issue 4): the walk-through as la.croydon, then guardian.one."""

import datetime as dt

import pytest
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.demo.loading import demo_load
from opennrm.safeguarding.models import (
    AlertKind,
    CareRecord,
    GuardianAllocationRequest,
    MissingEpisode,
    SafeguardingAlert,
)
from opennrm.safeguarding.selectors import missing_now_page
from opennrm.safeguarding.services import missing_episode_found, missing_episode_report, return_interview_record


@pytest.fixture
def loaded(db, coverage):
    demo_load(password="demo-password-for-tests")
    return {u.username: u for u in User.objects.all()}


def test_the_demo_has_children_in_croydon_and_la_croydon_reports_one_missing_and_guardian_one_is_told(loaded):
    la, guardian = loaded["la.croydon"], loaded["guardian.one"]
    assert CareRecord.objects.filter(local_authority="E09000008").values("referral").distinct().count() == 3
    # guardian.one is allocated to two children; the one not missing (ADR 0028: only an allocated guardian reports).
    allocated = (
        GuardianAllocationRequest.objects.filter(allocated_to=guardian)
        .exclude(referral__missing_episodes__isnull=False)
        .get()
    )
    _missing, total = missing_now_page(actor=la)
    assert total == 1
    assert (
        MissingEpisode.objects.filter(
            found_at__isnull=False, return_interview__isnull=True, local_authority="E09000008"
        ).count()
        == 1
    )

    now = timezone.now()
    episode = missing_episode_report(
        actor=la,
        referral=allocated.referral,
        missing_since=now - dt.timedelta(hours=1),
        last_seen="Bus stop",
        risk="high",
    )
    alert = SafeguardingAlert.objects.get(episode=episode, kind=AlertKind.MISSING, user=guardian)
    assert alert.organisation == guardian.organisation
    missing_episode_found(
        actor=la, referral=allocated.referral, episode=episode, found_at=now - dt.timedelta(minutes=10)
    )
    interview = return_interview_record(
        actor=la, referral=allocated.referral, episode=episode, completed_at=now, summary="Held at the placement"
    )
    assert interview.episode.return_interview_due == now - dt.timedelta(minutes=10) + dt.timedelta(hours=72)


def test_running_the_demo_twice_adds_no_safeguarding(loaded):
    before = (
        CareRecord.objects.count(),
        MissingEpisode.objects.count(),
        GuardianAllocationRequest.objects.filter(allocated_at__isnull=False).count(),
    )
    demo_load(password="demo-password-for-tests")
    assert (
        CareRecord.objects.count(),
        MissingEpisode.objects.count(),
        GuardianAllocationRequest.objects.filter(allocated_at__isnull=False).count(),
    ) == before
