import datetime as dt

import pytest
from django.utils import timezone

from opennrm.cases.services import referral_create
from opennrm.policy import Role
from opennrm.referrals.validation import validate_referral
from opennrm.safeguarding.guardians import seed_guardian_coverage

CROYDON, CARDIFF, EDINBURGH, BELFAST = "E09000008", "W06000015", "S12000036", "N09000003"


@pytest.fixture
def coverage(db):
    """The guardianship coverage migration 0002 seeds, present even after a transactional test emptied the tables."""
    seed_guardian_coverage()


@pytest.fixture
def people(make_user, coverage):
    guardian = make_user(Role.GUARDIAN, "guardian")
    la = make_user(Role.LA_SOCIAL_WORKER, "la")
    return {
        "police": make_user(Role.FIRST_RESPONDER, "police"),  # Metropolitan Police Service
        "ngo": make_user(Role.FIRST_RESPONDER, "ngo", name="Synthetic charity", kind="ngo"),
        "la": la,
        "la2": make_user(Role.LA_SOCIAL_WORKER, "la2", organisation=la.organisation),
        "cardiff": make_user(
            Role.LA_SOCIAL_WORKER, "cardiff", name="Cardiff children's services", local_authority=CARDIFF
        ),
        "guardian": guardian,
        "guardian2": make_user(Role.GUARDIAN, "guardian2", organisation=guardian.organisation),
        "welsh_guardian": make_user(
            Role.GUARDIAN, "guardian.wales", name="Guardians for Cardiff", covered_local_authorities=[CARDIFF]
        ),
        "sca": make_user(Role.SCA_DECISION_MAKER, "sca"),
        "immigration": make_user(Role.IMMIGRATION_OFFICER, "immigration"),
        "stats": make_user(Role.STATISTICIAN, "stats"),
        "admin": make_user(Role.ADMIN, "admin"),
    }


def make_child(actor, body, *, local_authority: str = CROYDON, age_group: str = "child", days_ago: float = 3):
    body["local_authority_contact"]["local_authority"] = local_authority
    body["potential_victim"]["age_group"] = age_group
    data, errors = validate_referral(body, now=timezone.now())
    assert not errors, errors
    return referral_create(actor=actor, data=data, received_at=timezone.now() - dt.timedelta(days=days_ago))


@pytest.fixture
def child(people, child_referral_body):
    return make_child(people["police"], child_referral_body)


def ago(**kwargs) -> dt.datetime:
    return timezone.now() - dt.timedelta(**kwargs)


def allocate_guardian(people, referral):
    """Allocate people["guardian"] to the child: their service's guardians see only what allocating needs until then (ADR 0028)."""
    from opennrm.safeguarding.services import guardian_allocate

    guardian_allocate(
        actor=people["guardian"], referral=referral, guardian=people["guardian"].username, support_model="direct"
    )
    return referral


@pytest.fixture
def allocated_child(people, child):
    """`child`, with people["guardian"] allocated as their guardian."""
    return allocate_guardian(people, child)
