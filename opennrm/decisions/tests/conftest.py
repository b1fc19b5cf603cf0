import datetime as dt

import pytest
from django.utils import timezone

from opennrm.cases.services import referral_create
from opennrm.decisions.models import RoutingRule
from opennrm.policy import Role
from opennrm.referrals.models import Referral
from opennrm.referrals.validation import validate_referral

ISLINGTON = "E09000019"


@pytest.fixture
def seeded_rules(db):
    """The rules migration 0003 seeds, present even after a transactional test emptied the table."""
    from importlib import import_module

    from django.apps import apps

    import_module("opennrm.decisions.migrations.0003_seed_routing_rules").seed_default_rules(apps, None)
    return list(RoutingRule.objects.all())


@pytest.fixture
def people(make_user, seeded_rules):
    return {
        "referrer": make_user(Role.FIRST_RESPONDER, "fr"),
        "other_referrer": make_user(Role.FIRST_RESPONDER, "fr.other", name="Another police force"),
        "sca1": make_user(Role.SCA_DECISION_MAKER, "sca1"),
        "sca2": make_user(Role.SCA_DECISION_MAKER, "sca2"),
        "ieca": make_user(Role.IECA_DECISION_MAKER, "ieca"),
        "panel": make_user(Role.PANEL_DECISION_MAKER, "panel"),
        "panel2": make_user(Role.PANEL_DECISION_MAKER, "panel2"),
        "other_panel": make_user(
            Role.PANEL_DECISION_MAKER, "panel.camden", name="Camden multi-agency panel", local_authority="E09000007"
        ),
        "la": make_user(Role.LA_SOCIAL_WORKER, "la"),
        "guardian": make_user(Role.GUARDIAN, "guardian"),
        "immigration": make_user(Role.IMMIGRATION_OFFICER, "immigration"),
        "admin": make_user(Role.ADMIN, "admin"),
    }


def make_referral(actor, body, *, days_ago: float = 60, received_at: dt.datetime | None = None) -> Referral:
    data, errors = validate_referral(body, now=timezone.now())
    assert not errors, errors
    return referral_create(
        actor=actor, data=data, received_at=received_at or timezone.now() - dt.timedelta(days=days_ago)
    )


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


@pytest.fixture
def child_referral(people, child_referral_body):
    return make_referral(people["referrer"], child_referral_body)


@pytest.fixture
def adult_referral(people, adult_referral_body):
    return make_referral(people["referrer"], adult_referral_body)


@pytest.fixture
def islington_child_body(child_referral_body):
    child_referral_body["local_authority_contact"]["local_authority"] = ISLINGTON
    child_referral_body["potential_victim"]["date_of_birth"] = "2014-03-01"
    return child_referral_body
