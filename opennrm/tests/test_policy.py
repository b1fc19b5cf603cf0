"""policy.referral_scope, role by role, against referrals that differ in each thing a scope looks at."""

import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from opennrm.accounts.models import Organisation, OrganisationKind
from opennrm.policy import (
    POLICIES,
    Capability,
    Compartment,
    Role,
    compartments_for,
    has_capability,
    linkage_scope,
    referral_scope,
)
from opennrm.referrals.models import Referral
from opennrm.safeguarding.guardians import guardian_request_for_new_referral, seed_guardian_coverage

CROYDON, ISLINGTON, CARDIFF = "E09000008", "E09000019", "W06000015"


@pytest.fixture
def cases(make_user):
    return make_cases(make_user)


def make_cases(make_user):
    """One referral for every combination of organisation, competent authority, local authority and age group."""
    police = make_user(Role.FIRST_RESPONDER)  # the Metropolitan Police Service, as make_user's other first responders
    seed_guardian_coverage()
    make_user(
        Role.GUARDIAN, username="guardian.croydon"
    )  # its service covers Croydon: children there ask it for a guardian
    ngo = Organisation.objects.create(name="Synthetic NGO", kind=OrganisationKind.NGO)
    ngo_responder = make_user(Role.FIRST_RESPONDER, organisation=ngo)
    made = {}
    for author, authority, la, age in itertools.product(
        (police, ngo_responder),
        ("SCA", "IECA", "LOCAL_PANEL"),
        (CROYDON, ISLINGTON, CARDIFF, ""),
        ("child", "unknown", "adult"),
    ):
        key = (author.organisation.name, authority, la, age)
        made[key] = Referral.objects.create(
            organisation=author.organisation,
            created_by=author,
            nation="ENG",
            competent_authority=authority,
            received_at=timezone.now(),
            reasonable_grounds_due=dt.date(2026, 12, 4),
            age_group=age,
            local_authority=la,
            potential_victim={"given_names": "Synthetic", "age_group": age, "sex": "unknown"},
            exploitation=[{"types": ["labour"]}],
        )
        guardian_request_for_new_referral(referral=made[key])  # as referral_create does
    return made


def visible(user) -> set[int]:
    scope = referral_scope(user)
    return set() if scope is None else set(Referral.objects.filter(scope).values_list("pk", flat=True))


def keys(cases, wanted) -> set[int]:
    return {r.pk for key, r in cases.items() if wanted(*key)}


POLICE = "Metropolitan Police Service"
CHILD = ("child", "unknown")  # "not sure" is a child (presumption of age)

# What each role's scope must be, written independently of policy.py's Q objects.
EXPECTED_SCOPE = {
    Role.FIRST_RESPONDER: lambda org, ca, la, age: org == POLICE,
    Role.SCA_DECISION_MAKER: lambda org, ca, la, age: ca == "SCA",
    Role.IECA_DECISION_MAKER: lambda org, ca, la, age: ca == "IECA",
    Role.PANEL_DECISION_MAKER: lambda org, ca, la, age: ca == "LOCAL_PANEL" and la == ISLINGTON,
    Role.LA_SOCIAL_WORKER: lambda org, ca, la, age: la == CROYDON and age in CHILD,
    # Children whose guardian request went to the guardian's service (and is not allocated to someone else): ADR 0009.
    Role.GUARDIAN: lambda org, ca, la, age: la == CROYDON and age in CHILD,
    Role.IMMIGRATION_OFFICER: lambda *key: False,
    Role.STATISTICIAN: lambda *key: False,
    Role.AUDITOR: lambda *key: False,
    Role.ADMIN: lambda *key: False,
    # Opens no referral page: identities through duplicate detection only (linkage_scope, below).
    Role.DATA_QUALITY_OFFICER: lambda *key: False,
}

# Whose identities each role may compare and link (ADR 0014): a data-quality officer every referral, a decision
# maker their authority's cases, nobody else any; written independently of policy.py's Q objects.
EXPECTED_LINKAGE_SCOPE = {
    **{role: (lambda *key: False) for role in Role},
    Role.DATA_QUALITY_OFFICER: lambda *key: True,
    Role.SCA_DECISION_MAKER: EXPECTED_SCOPE[Role.SCA_DECISION_MAKER],
    Role.IECA_DECISION_MAKER: EXPECTED_SCOPE[Role.IECA_DECISION_MAKER],
    Role.PANEL_DECISION_MAKER: EXPECTED_SCOPE[Role.PANEL_DECISION_MAKER],
}


def test_every_role_has_an_expected_scope():
    assert set(EXPECTED_SCOPE) == set(Role) == set(POLICIES)


@pytest.mark.parametrize("role", list(Role))
def test_referral_scope(cases, make_user, role):
    user = make_user(role)
    assert visible(user) == keys(cases, EXPECTED_SCOPE[role])


@pytest.mark.parametrize("role", list(Role))
def test_linkage_scope(cases, make_user, role):
    user = make_user(role)
    scope = linkage_scope(user)
    linkable = set() if scope is None else set(Referral.objects.filter(scope).values_list("pk", flat=True))
    assert linkable == keys(cases, EXPECTED_LINKAGE_SCOPE[role])
    assert has_capability(user, Capability.LINK_RECORDS) == (
        role
        in (Role.DATA_QUALITY_OFFICER, Role.SCA_DECISION_MAKER, Role.IECA_DECISION_MAKER, Role.PANEL_DECISION_MAKER)
    )


@pytest.mark.parametrize("role", list(Role))
def test_an_inactive_user_sees_nothing_and_may_do_nothing(cases, make_user, role):
    user = make_user(role)
    user.is_active = False
    assert referral_scope(user) is None and linkage_scope(user) is None
    assert compartments_for(user) == frozenset()
    assert not any(has_capability(user, c) for c in Capability)


@pytest.mark.parametrize("role", list(Role))
def test_a_user_without_an_organisation_sees_nothing(db, make_user, role):
    user = make_user(role)
    user.organisation = None
    assert referral_scope(user) is None


def test_anonymous_sees_nothing():
    anonymous = AnonymousUser()
    assert referral_scope(anonymous) is None
    assert compartments_for(anonymous) == frozenset()
    assert not any(has_capability(anonymous, c) for c in Capability)


def test_a_panel_or_local_authority_without_an_area_sees_nothing(cases, make_user):
    assert referral_scope(make_user(Role.PANEL_DECISION_MAKER, local_authority="")) is None
    social_workers = Organisation.objects.create(
        name="Children's services, area not set", kind=OrganisationKind.LOCAL_AUTHORITY
    )
    assert referral_scope(make_user(Role.LA_SOCIAL_WORKER, organisation=social_workers)) is None
    guardians = Organisation.objects.create(name="Guardian service, no areas", kind=OrganisationKind.GUARDIAN_SERVICE)
    assert visible(make_user(Role.GUARDIAN, organisation=guardians)) == set()


def test_a_guardian_sees_the_children_of_every_area_it_covers(db, make_user):
    guardians = Organisation.objects.create(
        name="Guardians for two areas",
        kind=OrganisationKind.GUARDIAN_SERVICE,
        covered_local_authorities=[CROYDON, CARDIFF],
    )
    user = make_user(Role.GUARDIAN, organisation=guardians)
    cases = make_cases(make_user)  # referred after the service existed: the requests of its areas' children came to it
    assert visible(user) == keys(cases, lambda org, ca, la, age: la in (CROYDON, CARDIFF) and age in CHILD)


def test_the_firewall_roles_see_no_referral_or_safeguarding_compartment(db, make_user):
    # Contract section 5: immigration enforcement sees status only; statisticians, auditors and admins no case content.
    assert compartments_for(make_user(Role.IMMIGRATION_OFFICER)) == {Compartment.STATUS}
    for role in (Role.STATISTICIAN, Role.AUDITOR, Role.ADMIN):
        assert compartments_for(make_user(role)) == frozenset(), role
    decision_maker = make_user(Role.SCA_DECISION_MAKER)
    assert Compartment.SAFEGUARDING not in compartments_for(decision_maker)
