"""Loading the synthetic demo (contract section 8): its organisations, sign-ins and referrals.

Everything goes through the services, so the demo is audited like real use. Each referral is
recognised by its organisation and first responder reference, which depend only on the seed, so
a second run finds everything present and changes nothing.
"""

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import Organisation, OrganisationKind, Team, User
from opennrm.accounts.services import organisation_save, team_save, user_save
from opennrm.cases.services import referral_create
from opennrm.decisions.assignment import cases_assign
from opennrm.decisions.models import Outcome, RoutingRule, RoutingRuleKind, Stage
from opennrm.decisions.services import (
    decision_confirm,
    decision_record,
    reconsideration_request,
    recovery_period_end,
    referral_withdraw,
    routing_rule_save,
)
from opennrm.linkage.services import referrals_check_on_arrival
from opennrm.policy import Role
from opennrm.referrals.codes import local_authorities
from opennrm.referrals.models import OPEN_STATUSES, Referral, ReferralDraft, Status
from opennrm.referrals.services import draft_save, draft_start
from opennrm.referrals.validation import validate_referral
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.guardians import seed_guardian_coverage
from opennrm.safeguarding.models import CareRecord

from .synthetic import LONDON, LONDON_AREAS, NATIONALITIES, PROFILES, received_at_in_window, synthetic_case

DEFAULT_PASSWORD = "opennrm-demo-2026"
DEFAULT_SEED = 20260
HOME_OFFICE_REFERENCE_PREFIX = "HO-DEMO-"
ISLINGTON = next(area for area in LONDON_AREAS if area.local_authority == "E09000019")


@dataclass(frozen=True)
class OrganisationSpec:
    key: str
    name: str
    kind: str
    local_authority: str = ""
    competent_authority: str = ""
    covered_local_authorities: tuple[str, ...] = ()
    email: str = ""


@dataclass(frozen=True)
class UserSpec:
    username: str
    role: str
    organisation: str  # OrganisationSpec.key
    first_name: str
    last_name: str
    is_staff: bool = False
    team: str = ""  # TeamSpec.key


@dataclass(frozen=True)
class TeamSpec:
    key: str
    organisation: str  # OrganisationSpec.key
    name: str
    manager: str  # UserSpec.username


def ictg_local_authorities() -> tuple[str, ...]:
    """Areas with Independent Child Trafficking Guardians (nrm.md 2.1): the early, later and additional sites."""
    named = {
        "E06000046",
        "E10000014",  # Isle of Wight, Hampshire
        "E06000015",
        "E06000016",
        "E06000017",
        "E06000018",
        "E06000061",
        "E06000062",  # East Midlands
        "E10000007",
        "E10000018",
        "E10000019",
        "E10000024",
        "E06000065",
        "E10000031",  # North Yorkshire, Warwickshire
    }
    known = local_authorities()
    metropolitan = {  # Greater Manchester, Merseyside, West Midlands, West Yorkshire
        code
        for code in known
        if (code.startswith("E08") and 1 <= int(code[3:]) <= 15)
        or (code.startswith("E08") and 25 <= int(code[3:]) <= 36)
    }
    london_and_wales = {code for code in known if code.startswith(("E09", "W06"))}
    return tuple(sorted((named & set(known)) | metropolitan | london_and_wales))


ORGANISATIONS = (
    # Names match opennrm/conftest.py ROLE_ORGANISATIONS where the two overlap.
    OrganisationSpec(
        "police", "Metropolitan Police Service", OrganisationKind.POLICE, email="msht-referrals@example.invalid"
    ),
    OrganisationSpec(
        "local_authority",
        "Croydon Council",
        OrganisationKind.LOCAL_AUTHORITY,
        local_authority="E09000008",
        email="nrm-referrals@example.invalid",
    ),
    OrganisationSpec("ngo", "The Salvation Army", OrganisationKind.NGO, email="nrm-first-responders@example.invalid"),
    OrganisationSpec(
        "sca",
        "Single Competent Authority",
        OrganisationKind.COMPETENT_AUTHORITY,
        competent_authority="SCA",
        email="sca-casework@example.invalid",
    ),
    OrganisationSpec(
        "ieca",
        "Immigration Enforcement Competent Authority",
        OrganisationKind.COMPETENT_AUTHORITY,
        competent_authority="IECA",
        email="ieca-casework@example.invalid",
    ),
    OrganisationSpec(
        "panel",
        "Islington multi-agency panel",
        OrganisationKind.LOCAL_PANEL,
        local_authority="E09000019",
        competent_authority="LOCAL_PANEL",
        email="islington-panel@example.invalid",
    ),
    OrganisationSpec(
        "la",
        "Croydon children's services",
        OrganisationKind.LOCAL_AUTHORITY,
        local_authority="E09000008",
        email="croydon-childrens-services@example.invalid",
    ),
    OrganisationSpec(
        "guardian",
        "Independent Child Trafficking Guardian Service",
        OrganisationKind.GUARDIAN_SERVICE,
        covered_local_authorities=ictg_local_authorities(),
    ),
    OrganisationSpec("immigration", "Immigration Enforcement", OrganisationKind.IMMIGRATION_ENFORCEMENT),
    OrganisationSpec("statistics", "Home Office Analysis and Insight", OrganisationKind.STATISTICS),
    OrganisationSpec("audit", "OpenNRM audit", OrganisationKind.AUDIT),
    OrganisationSpec("data_quality", "OpenNRM data quality", OrganisationKind.DATA_QUALITY),
    OrganisationSpec("admin", "OpenNRM service administration", OrganisationKind.ADMINISTRATION),
)

USERS = (
    UserSpec("fr.police", Role.FIRST_RESPONDER, "police", "Alex", "Morgan"),
    UserSpec("fr.localauthority", Role.FIRST_RESPONDER, "local_authority", "Priya", "Shah"),
    UserSpec("fr.ngo", Role.FIRST_RESPONDER, "ngo", "Ruth", "Adebayo"),
    UserSpec("sca.one", Role.SCA_DECISION_MAKER, "sca", "Chris", "Hall", team="sca1"),
    UserSpec("sca.two", Role.SCA_DECISION_MAKER, "sca", "Jo", "Walsh", team="sca1"),
    UserSpec("sca.manager", Role.SCA_DECISION_MAKER, "sca", "Pat", "Osei", team="sca1"),
    UserSpec("ieca.one", Role.IECA_DECISION_MAKER, "ieca", "Sam", "Fletcher", team="ieca"),
    UserSpec("panel.islington", Role.PANEL_DECISION_MAKER, "panel", "Dana", "Reid", team="panel"),
    UserSpec("la.croydon", Role.LA_SOCIAL_WORKER, "la", "Tom", "Okoro"),
    UserSpec("guardian.one", Role.GUARDIAN, "guardian", "Maya", "Collins"),
    UserSpec("immigration.one", Role.IMMIGRATION_OFFICER, "immigration", "Lee", "Barnes"),
    UserSpec("stats.one", Role.STATISTICIAN, "statistics", "Nadia", "Khan"),
    UserSpec("audit.one", Role.AUDITOR, "audit", "Ben", "Price"),
    UserSpec("dq.one", Role.DATA_QUALITY_OFFICER, "data_quality", "Hana", "Berhe"),
    # is_staff lets the administrator into Django's admin; what they may do there is gated on the role.
    UserSpec("admin", Role.ADMIN, "admin", "Kim", "Ellis", is_staff=True),
    # A second administrator, so that the four-eyes rule on access (issue 22) can be tried: one asks, the other approves.
    UserSpec("admin.two", Role.ADMIN, "admin", "Ravi", "Patel", is_staff=True),
)

TEAMS = (
    TeamSpec("sca1", "sca", "SCA casework team 1", "sca.manager"),
    TeamSpec("ieca", "ieca", "IECA casework team", "ieca.one"),
    TeamSpec("panel", "panel", "Islington panel casework", "panel.islington"),
)
# Who holds the demo's open cases, in turn by reference: a person (in their team), the team alone, nobody.
DEMO_ASSIGNMENTS = {
    "SCA": ("sca.one", "team", None, "sca.two", "sca.one", None),
    "IECA": ("ieca.one", "team", None),
    "LOCAL_PANEL": ("panel.islington", None),
}
# The demo's decision makers who decide its historic cases; a manager assigns and reviews today's.
HISTORIC_DECIDERS = {"sca.one", "sca.two", "ieca.one", "panel.islington"}

# How many referrals each first responder made, and the share in each status beyond one of each.
CASES_PER_FIRST_RESPONDER = {"police": 40, "local_authority": 26, "ngo": 26}
FIRST_RESPONDER_USER = {"police": "fr.police", "local_authority": "fr.localauthority", "ngo": "fr.ngo"}
STATUS_WEIGHTS = {  # the Conclusive Grounds backlog is the largest group, as in the published figures
    Status.AWAITING_REASONABLE_GROUNDS: 14,
    Status.REASONABLE_GROUNDS_NEGATIVE: 9,
    Status.RECOVERY_PERIOD: 10,
    Status.AWAITING_CONCLUSIVE_GROUNDS: 28,
    Status.CONCLUSIVE_GROUNDS_POSITIVE: 16,
    Status.CONCLUSIVE_GROUNDS_NEGATIVE: 7,
    Status.RECONSIDERATION: 8,
    Status.WITHDRAWN: 4,
}
NEEDS_NEGATIVE = {Status.REASONABLE_GROUNDS_NEGATIVE, Status.CONCLUSIVE_GROUNDS_NEGATIVE, Status.RECONSIDERATION}
# Where a competent authority has a single demo decision maker, nobody can confirm a negative decision.
POSITIVE_INSTEAD = {
    Status.REASONABLE_GROUNDS_NEGATIVE: Status.AWAITING_CONCLUSIVE_GROUNDS,
    Status.CONCLUSIVE_GROUNDS_NEGATIVE: Status.CONCLUSIVE_GROUNDS_POSITIVE,
    Status.RECONSIDERATION: Status.AWAITING_CONCLUSIVE_GROUNDS,
}
# Days before now a referral in each status was received (18 months at most).
RECEIVED_DAYS_AGO = {
    Status.AWAITING_REASONABLE_GROUNDS: (0.1, 14),
    Status.REASONABLE_GROUNDS_NEGATIVE: (45, 540),
    Status.RECOVERY_PERIOD: (4, 38),
    Status.AWAITING_CONCLUSIVE_GROUNDS: (45, 540),
    Status.CONCLUSIVE_GROUNDS_POSITIVE: (120, 545),
    Status.CONCLUSIVE_GROUNDS_NEGATIVE: (120, 545),
    Status.RECONSIDERATION: (120, 545),
    Status.WITHDRAWN: (3, 540),
}

REASONS = {
    (Stage.REASONABLE_GROUNDS, Outcome.POSITIVE): (
        "Based on all available general and specific evidence, there are "
        "reasonable grounds to believe the person is a victim of modern slavery: "
        "the account of recruitment, control and debt is consistent with "
        "the indicators recorded by the first responder.",
        "The first responder's account, the police referral and the local "
        "authority's safeguarding information together give reasonable grounds "
        "to believe the person was exploited.",
    ),
    (Stage.REASONABLE_GROUNDS, Outcome.NEGATIVE): (
        "The referral gives little specific detail of how the person was "
        "recruited, moved or controlled, and no further information was provided "
        "when requested; on the evidence available the reasonable grounds "
        "threshold is not met.",
    ),
    (Stage.CONCLUSIVE_GROUNDS, Outcome.POSITIVE): (
        "On the balance of probabilities the person is a victim of modern "
        "slavery: the account has been consistent across interviews and is "
        "supported by the police investigation and the support provider's "
        "report.",
        "On the balance of probabilities the person was trafficked for exploitation; "
        "the expert report and the safeguarding records are consistent with "
        "the account.",
    ),
    (Stage.CONCLUSIVE_GROUNDS, Outcome.NEGATIVE): (
        "Having considered the further evidence, on the balance of probabilities "
        "it is not established that the person was subjected to exploitation: "
        "key parts of the account are inconsistent and are not supported "
        "by the other evidence.",
    ),
}
RECONSIDERATION_REASONS = (
    "New evidence: a report from the support provider and the social worker's chronology, not available when the decision was made",
    "The decision did not consider the medico-legal report submitted with the referral",
)
WITHDRAWAL_REASONS = (
    "The adult asked to withdraw from the NRM and has returned home",
    "The adult withdrew consent and no longer wishes to receive support",
)


@dataclass
class DemoResult:
    password: str
    organisations_created: int = 0
    organisations_changed: int = 0
    users_created: int = 0
    users_changed: int = 0
    teams_created: int = 0
    cases_assigned: int = 0
    referrals_created: int = 0
    referrals_present: int = 0
    drafts_created: int = 0
    safeguarding_children: int = 0
    guardian_child_reference: str | None = None  # the child guardian.one is allocated to, for the walk-through
    statuses: Counter = field(default_factory=Counter)
    users: list[User] = field(default_factory=list)
    home_office_reference: str | None = None
    repeat_child_references: tuple[str, str] | None = None  # the demo child referred twice under different spellings
    duplicate_checks: int = 0


def _ensure_organisation(spec: OrganisationSpec, result: DemoResult) -> Organisation:
    desired = {
        "kind": str(spec.kind),
        "local_authority": spec.local_authority,
        "competent_authority": spec.competent_authority,
        "covered_local_authorities": list(spec.covered_local_authorities),
        "email": spec.email,
        "is_active": True,
    }
    organisation = Organisation.objects.filter(name=spec.name).first()
    if organisation is None:
        result.organisations_created += 1
        return organisation_save(actor=None, organisation=Organisation(name=spec.name, **desired))
    changed = [name for name, value in desired.items() if getattr(organisation, name) != value]
    if changed:
        for name in changed:
            setattr(organisation, name, desired[name])
        result.organisations_changed += 1
        organisation_save(actor=None, organisation=organisation)
    return organisation


class _DemoPassword:
    """The demo password, hashed once: every demo user has the same password, and hashing is slow on purpose."""

    def __init__(self, raw: str):
        self.raw = raw
        self.encoded = make_password(raw)
        self._checked: dict[str, bool] = {}

    def matches(self, encoded: str) -> bool:
        # hashers.check_password, not user.check_password: the latter would re-save the hash unaudited.
        if encoded not in self._checked:
            self._checked[encoded] = check_password(self.raw, encoded)
        return self._checked[encoded]


def _ensure_team(spec: TeamSpec, organisation: Organisation, result: DemoResult) -> Team:
    team = Team.objects.filter(organisation=organisation, name=spec.name).first()
    if team is None:
        result.teams_created += 1
        team = team_save(actor=None, team=Team(organisation=organisation, name=spec.name))
    return team


def _ensure_team_manager(spec: TeamSpec, team: Team, manager: User) -> None:
    if team.manager_id != manager.pk:
        team.manager = manager
        team_save(actor=None, team=team)


def _ensure_user(
    spec: UserSpec, organisation: Organisation, team: Team | None, password: _DemoPassword, result: DemoResult
) -> User:
    desired = {
        "email": f"{spec.username}@example.invalid",
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "role": str(spec.role),
        "organisation_id": organisation.pk,
        "team_id": team.pk if team else None,
        "is_staff": spec.is_staff,
        "is_active": True,
    }
    user = User.objects.filter(username=spec.username).first()
    if user is None:
        # No password validators here on purpose: the demo password is chosen by whoever runs the demo.
        user = User(username=spec.username, password=password.encoded, **desired)
        result.users_created += 1
        return user_save(actor=None, user=user)
    changed = [name for name, value in desired.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, desired[name])
    if not password.matches(user.password):
        user.password = password.encoded
        changed.append("password")
    if changed:
        result.users_changed += 1
        user_save(actor=None, user=user)
    return user


@transaction.atomic
def _load_accounts(raw_password: str, result: DemoResult) -> dict[str, User]:
    password = _DemoPassword(raw_password)
    organisations = {spec.key: _ensure_organisation(spec, result) for spec in ORGANISATIONS}
    teams = {spec.key: _ensure_team(spec, organisations[spec.organisation], result) for spec in TEAMS}
    users = {
        spec.username: _ensure_user(spec, organisations[spec.organisation], teams.get(spec.team), password, result)
        for spec in USERS
    }
    for spec in TEAMS:
        _ensure_team_manager(spec, teams[spec.key], users[spec.manager])
    return users


def _load_assignments(users: dict[str, User], result: DemoResult) -> None:
    """Give the open cases of each authority holders in turn, through the assignment service.

    Only cases never assigned are touched, so a second run, or a case a user has since moved, is left alone."""
    demo_orgs = [users[u].organisation_id for u in FIRST_RESPONDER_USER.values()]
    for authority, plan in DEMO_ASSIGNMENTS.items():
        holders = [users[name] for name in plan if name not in (None, "team")]
        actor = next(
            (
                t.manager
                for t in Team.objects.filter(organisation_id=holders[0].organisation_id).select_related("manager")
            ),
            holders[0],
        )
        cases = list(
            Referral.objects.filter(
                organisation_id__in=demo_orgs, competent_authority=authority, status__in=OPEN_STATUSES
            )
            .order_by("reference")
            .values_list("reference", "uuid", "assigned_at")
        )
        by_holder: dict[str | None, list] = {}
        for position, (_reference, uuid, assigned_at) in enumerate(cases):
            holder = plan[position % len(plan)]
            if assigned_at is None and holder is not None:
                by_holder.setdefault(holder, []).append(uuid)
        for holder, uuids in by_holder.items():
            if holder == "team":
                cases_assign(actor=actor, referrals=uuids, team=actor.team)
            else:
                cases_assign(actor=actor, referrals=uuids, assigned_to=users[holder])
            result.cases_assigned += len(uuids)


def _ensure_pilot_area() -> None:
    """Islington is the demo's pilot area (contract section 8). Migration decisions/0003 seeds it; this puts
    it back only where it is missing altogether (an emptied test database), never over an administrator's change."""
    rules = RoutingRule.objects.filter(
        kind=RoutingRuleKind.LOCAL_PANEL_PILOT_AREA, local_authority=ISLINGTON.local_authority
    )
    if not rules.exists():
        routing_rule_save(
            actor=None,
            rule=RoutingRule(
                kind=RoutingRuleKind.LOCAL_PANEL_PILOT_AREA,
                local_authority=ISLINGTON.local_authority,
                effective_from=dt.date(2021, 6, 1),
                description="Islington: devolved child decision-making pilot (demo)",
            ),
        )


def _office_time(rng: random.Random, when: dt.datetime, *, after: dt.datetime, now: dt.datetime) -> dt.datetime:
    """The same London day as `when`, in office hours, kept between `after` and now."""
    day = when.astimezone(LONDON).date()
    local = dt.datetime.combine(day, dt.time(rng.randint(9, 16), rng.randrange(60)), tzinfo=LONDON).astimezone(dt.UTC)
    return max(min(local, now - dt.timedelta(minutes=1)), after + dt.timedelta(minutes=30))


@dataclass(frozen=True)
class Step:
    kind: str  # "decision" or "status"
    stage: str = ""
    outcome: str = ""
    days_after_received: float = 0.0
    status: str = ""


def _steps(rng: random.Random, status: str, *, days_ago: float) -> list[Step]:
    """The decisions and status changes that take a referral received `days_ago` days ago to `status`."""
    rg_after = rng.uniform(2, 12)

    def rg(outcome):
        return Step("decision", Stage.REASONABLE_GROUNDS, outcome, rg_after)

    def recovery_ended():
        return Step("status", status=Status.AWAITING_CONCLUSIVE_GROUNDS)

    def cg(outcome):
        # At least the 30-day recovery period after the RG decision, and at least two days before now.
        latest = max(days_ago - 2, rg_after + 31)
        return Step("decision", Stage.CONCLUSIVE_GROUNDS, outcome, rng.uniform(rg_after + 31, latest))

    match status:
        case Status.AWAITING_REASONABLE_GROUNDS:
            return []
        case Status.REASONABLE_GROUNDS_NEGATIVE:
            return [rg(Outcome.NEGATIVE)]
        case Status.RECOVERY_PERIOD:
            # The RG decision must be recent enough for the 30 days not to have run out.
            rg_after = rng.uniform(max(0.5, days_ago - 28), max(0.6, days_ago - 1))
            return [Step("decision", Stage.REASONABLE_GROUNDS, Outcome.POSITIVE, rg_after)]
        case Status.AWAITING_CONCLUSIVE_GROUNDS:
            return [rg(Outcome.POSITIVE), recovery_ended()]
        case Status.CONCLUSIVE_GROUNDS_POSITIVE:
            return [rg(Outcome.POSITIVE), recovery_ended(), cg(Outcome.POSITIVE)]
        case Status.CONCLUSIVE_GROUNDS_NEGATIVE:
            return [rg(Outcome.POSITIVE), recovery_ended(), cg(Outcome.NEGATIVE)]
        case Status.RECONSIDERATION:
            base = (
                [rg(Outcome.NEGATIVE)]
                if rng.random() < 0.6
                else [rg(Outcome.POSITIVE), recovery_ended(), cg(Outcome.NEGATIVE)]
            )
            return [*base, Step("status", status=Status.RECONSIDERATION)]
        case Status.WITHDRAWN:
            base = [] if days_ago < 45 else [rg(Outcome.POSITIVE), recovery_ended()]
            return [*base, Step("status", status=Status.WITHDRAWN)]
    raise ValueError(f"No demo path to {status}")


def _decision_makers(users: dict[str, User]) -> dict[str, list[User]]:
    makers: dict[str, list[User]] = {"SCA": [], "IECA": [], "LOCAL_PANEL": []}
    for user in sorted(users.values(), key=lambda u: u.username):
        organisation = user.organisation
        if user.username in HISTORIC_DECIDERS and organisation:
            makers[organisation.competent_authority].append(user)
    return makers


def _planned_statuses(key: str, count: int, seed: int) -> list[str]:
    """One referral in every status first, so every first responder has each; then the usual mix."""
    rng = random.Random(f"{seed}:{key}:plan")
    statuses = list(STATUS_WEIGHTS)
    rest = rng.choices(statuses, weights=list(STATUS_WEIGHTS.values()), k=max(0, count - len(statuses)))
    return (statuses + rest)[:count]


def demo_reference(key: str, index: int) -> str:
    """The first responder's own reference for the demo's index-th referral: the same on every run, whatever the date."""
    return f"{PROFILES[key].reference_prefix}-{1041 + 7 * index:05d}"


def demo_home_office_reference(key: str, index: int) -> str:
    """A Home Office reference for the demo's index-th referral from this first responder, such as HO-DEMO-1007."""
    return f"{HOME_OFFICE_REFERENCE_PREFIX}{(list(CASES_PER_FIRST_RESPONDER).index(key) + 1) * 1000 + index:04d}"


def _load_referral(
    *,
    key: str,
    index: int,
    status: str,
    seed: int,
    now: dt.datetime,
    referrer: User,
    makers: dict[str, list[User]],
    result: DemoResult,
) -> None:
    rng = random.Random(f"{seed}:{key}:{index}")
    reference = demo_reference(key, index)
    profile = PROFILES[key]
    low, high = RECEIVED_DAYS_AGO[status]
    days_ago = rng.uniform(low, high)
    received_at = received_at_in_window(rng, now=now, min_days_ago=days_ago, max_days_ago=days_ago)
    days_ago = (now - received_at).total_seconds() / 86400
    age_group, area = None, None
    if status == Status.WITHDRAWN:
        age_group = "adult"  # children may not generally withdraw (nrm.md 1.10)
    elif key == "police" and (index % 4 == 1 or index == 0):  # index 0 awaits its Reasonable Grounds decision
        # Children in Islington, a devolved decision-making pilot area, give the Islington panel its cases.
        age_group, area = "child", ISLINGTON
    case = synthetic_case(
        rng, profile=profile, received_at=received_at, reference=reference, age_group=age_group, area=area
    )
    nationality = NATIONALITIES[case.nationality]
    if case.nationality != "GBR" and rng.random() < nationality.has_home_office_record:
        case.body["potential_victim"]["home_office_reference"] = demo_home_office_reference(key, index)
        if case.body["potential_victim"]["age_group"] == "adult" and index % 3 == 0 and status not in NEEDS_NEGATIVE:
            # Gives the IECA its cases (decisions/routing.py); negatives stay with the SCA, which has two decision makers to confirm them.
            case.body["potential_victim"]["removal_action"] = True

    data, errors = validate_referral(case.body, now=now)
    if errors:
        raise ValueError(
            f"The demo generated an invalid referral {reference}: "
            + "; ".join(f"{e.field}: {e.message}" for e in errors)
        )
    with transaction.atomic():
        referral = referral_create(actor=referrer, data=data, received_at=received_at)
        # The routing decides who holds the case; the path to the planned status must suit that authority.
        authority_makers = makers.get(referral.competent_authority, [])
        if status in NEEDS_NEGATIVE and len(authority_makers) < 2:
            status = POSITIVE_INSTEAD[status]
        steps = _steps(rng, status, days_ago=days_ago) if authority_makers else []
        for step in steps:
            if step.kind == "decision":
                maker = authority_makers[index % len(authority_makers)]
                decided_at = _office_time(
                    rng, received_at + dt.timedelta(days=step.days_after_received), after=received_at, now=now
                )
                if step.stage == Stage.CONCLUSIVE_GROUNDS and referral.recovery_period_ends_on:
                    earliest = dt.datetime.combine(
                        referral.recovery_period_ends_on, dt.time(10), tzinfo=LONDON
                    ).astimezone(dt.UTC)
                    decided_at = max(decided_at, earliest)
                decision = decision_record(
                    actor=maker,
                    referral=referral,
                    stage=step.stage,
                    outcome=step.outcome,
                    reasons=rng.choice(REASONS[(step.stage, step.outcome)]),
                    decided_at=decided_at,
                )
                if step.outcome == Outcome.NEGATIVE:  # the second decision maker's review, an hour or so later
                    confirmer = next(m for m in authority_makers if m.pk != maker.pk)
                    decision_confirm(
                        actor=confirmer,
                        referral=referral,
                        decision=decision,
                        confirmed_at=min(decided_at + dt.timedelta(minutes=rng.randint(30, 240)), now),
                    )
            elif step.status == Status.AWAITING_CONCLUSIVE_GROUNDS:
                recovery_period_end(referral=referral)
            elif step.status == Status.RECONSIDERATION:
                reconsideration_request(actor=referrer, referral=referral, grounds=rng.choice(RECONSIDERATION_REASONS))
            else:
                referral_withdraw(actor=referrer, referral=referral, reason=rng.choice(WITHDRAWAL_REASONS))
            referral.refresh_from_db()  # the services changed it through their own locked copy
    result.referrals_created += 1


def _drafts(now: dt.datetime) -> list[dict]:
    """Two half-finished referrals, saved as the pages save them (see opennrm/web/journey.py):
    the contract-shaped body so far, the pages done, and the name the home page lists them by."""
    yesterday = (now - dt.timedelta(days=1)).astimezone(dt.UTC).replace(microsecond=0)
    return [
        {
            "referral": {
                "first_responder_reference": "MPS-MSHT-DRAFT-01",
                "nation": "ENG",
                "potential_victim": {"age_group": "unknown"},
                "local_authority_contact": {
                    "local_authority": "E09000019",
                    "name": "Emergency duty team",
                    "contacted_at": yesterday.isoformat().replace("+00:00", "Z"),
                },
                "exploitation": [
                    {
                        "types": ["criminal"],
                        "criminal_subtypes": ["cannabis_cultivation"],
                        "location": "uk_and_overseas",
                        "uk_towns": ["Islington"],
                        "countries": ["VNM", "FRA"],
                        "ongoing": False,
                        "account": "Found at a cannabis grow in a flat above a shop; says he is 16 and was brought by lorry.",
                    }
                ],
            },
            "typed": {},
            "pages_saved": ["reference", "nation", "age", "local-authority", "situations"],
            "summary_name": "Potential victim not yet named (may be a child)",
        },
        {
            "referral": {
                "first_responder_reference": "MPS-MSHT-DRAFT-02",
                "nation": "ENG",
                "potential_victim": {"age_group": "adult"},
                "consent": {"given": True, "recorded_at": yesterday.isoformat().replace("+00:00", "Z")},
            },
            "typed": {},
            "pages_saved": ["reference", "nation", "age", "consent"],
            "summary_name": "Potential victim not yet named (adult)",
        },
    ]


def _load_drafts(fr_police: User, now: dt.datetime, result: DemoResult) -> None:
    present = {
        (draft.answers.get("referral") or {}).get("first_responder_reference")
        for draft in ReferralDraft.objects.filter(owner=fr_police)
    }
    for answers in _drafts(now):
        if answers["referral"]["first_responder_reference"] in present:
            continue
        draft = draft_start(actor=fr_police)
        draft_save(actor=fr_police, draft=draft, answers=answers)
        result.drafts_created += 1


CROYDON = "E09000008"


def _load_safeguarding(users: dict[str, User], now: dt.datetime, result: DemoResult) -> None:
    """Three of the demo's children in Croydon with a safeguarding record (ADR 0009): one looked after with guardian.one
    allocated (la.croydon can report them missing and see guardian.one told), one missing now (reported by guardian.one,
    allocated to them too), one found yesterday
    with the return interview due. Only once: a child with a care record is left as it is."""
    demo_orgs = [users[u].organisation_id for u in FIRST_RESPONDER_USER.values()]
    children = list(
        Referral.objects.filter(
            organisation_id__in=demo_orgs,
            local_authority=CROYDON,
            age_group__in=("child", "unknown"),
            guardian_allocation_requests__organisation=users["guardian.one"].organisation,
        ).order_by("reference")[:3]
    )
    if len(children) < 3 or CareRecord.objects.filter(referral__in=children).exists():
        return
    la, guardian = users["la.croydon"], users["guardian.one"]
    allocated, missing, found = children
    safeguarding.care_record_save(
        actor=la,
        referral=allocated,
        care_status="looked_after",
        placement_type="foster_care",
        placement_address="14 Synthetic Gardens, Croydon CR0 1AA",
        social_worker=la.username,
        now=now,
    )
    safeguarding.guardian_allocate(
        actor=guardian, referral=allocated, guardian=guardian.username, support_model="direct", now=now
    )
    safeguarding.case_note_add(
        actor=guardian,
        referral=allocated,
        now=now,
        text="First visit with an interpreter. Settling with the foster carers; asked about college.",
    )
    safeguarding.care_record_save(
        actor=la,
        referral=missing,
        care_status="section_20",
        placement_type="supported_accommodation",
        placement_address="Flat 3, 9 Example Street, Croydon CR0 2BB",
        now=now,
    )
    # Their guardian reports them missing: only an allocated guardian acts on a child (ADR 0028).
    safeguarding.guardian_allocate(
        actor=guardian, referral=missing, guardian=guardian.username, support_model="indirect", now=now
    )
    safeguarding.missing_episode_report(
        actor=guardian,
        referral=missing,
        missing_since=now - dt.timedelta(hours=20),
        risk="medium",
        now=now,
        last_seen="Left the supported accommodation at 9pm; seen near East Croydon station with two older men",
    )
    safeguarding.care_record_save(actor=la, referral=found, care_status="section_17", now=now)
    safeguarding.age_assessment_record(
        actor=la,
        referral=found,
        outcome="child",
        assessed_on=(now - dt.timedelta(days=20)).date(),
        assessor="local_authority",
        notes="Merton-compliant assessment by two social workers",
        now=now,
    )
    episode = safeguarding.missing_episode_report(
        actor=la,
        referral=found,
        missing_since=now - dt.timedelta(days=2),
        risk="low",
        last_seen="Did not come home from school",
        now=now - dt.timedelta(days=2),
    )
    safeguarding.missing_episode_found(
        actor=la, referral=found, episode=episode, found_at=now - dt.timedelta(days=1), now=now
    )
    result.safeguarding_children = 3


# One Eritrean boy referred twice (ADR 0014): first by The Salvation Army as Tesfaye Gebremedhin Haile (given, father's
# and grandfather's names, with his date of birth), then a year later in Croydon as Tesfay Gebre Medhin, his father's
# name split, his grandfather's dropped and taken for Ethiopian. The check on arrival offers the second as a
# possible match of the first, to the SCA decision makers holding both cases and to dq.one.
REPEAT_CHILD = (
    (
        "fr.ngo",
        "TSA-REPEAT-0001",
        400,
        {
            "given_names": "Tesfaye",
            "family_name": "Gebremedhin Haile",
            "names_in_original_script": "ተስፋየ ገብረመድህን ሃይለ",
            "date_of_birth": "2010-04-12",
            "date_of_birth_precision": "day",
            "age_disputed": False,
            "nationalities": ["ERI"],
        },
    ),
    (
        "fr.localauthority",
        "CRO-REPEAT-0001",
        2,
        {
            "given_names": "Tesfay",
            "family_name": "Gebre Medhin",
            "date_of_birth": "2010-04-12",
            "date_of_birth_precision": "day",
            "age_disputed": False,
            "nationalities": ["ETH"],
        },
    ),
)


def _load_repeat_child(users: dict[str, User], now: dt.datetime, result: DemoResult) -> None:
    references = []
    for username, own_reference, days_ago, identity in REPEAT_CHILD:
        referrer = users[username]
        present = Referral.objects.filter(
            organisation_id=referrer.organisation_id, first_responder_reference=own_reference
        ).first()
        if present is None:
            received_at = now - dt.timedelta(days=days_ago, hours=3)
            body = {
                "nation": "ENG",
                "first_responder_reference": own_reference,
                "potential_victim": {
                    **identity,
                    "age_group": "child",
                    "sex": "male",
                    "languages": ["ti"],
                    "interpreter_needed": True,
                },
                "local_authority_contact": {
                    "local_authority": CROYDON,
                    "name": "Unaccompanied asylum-seeking children team",
                    "contacted_at": (received_at - dt.timedelta(hours=2)).isoformat(),
                },
                "consent": None,
                "exploitation": [
                    {
                        "types": ["labour"],
                        "location": "uk_and_overseas",
                        "countries": ["LBY", "FRA"],
                        "ongoing": False,
                        "account": "Made to work without pay at a car wash to repay the cost of the journey.",
                    }
                ],
                "indicators": ["Owes a debt for the journey"],
            }
            data, errors = validate_referral(body, now=now)
            if errors:
                raise ValueError(
                    "The demo's repeat referral is invalid: " + "; ".join(f"{e.field}: {e.message}" for e in errors)
                )
            present = referral_create(actor=referrer, data=data, received_at=received_at)
            result.referrals_created += 1
        references.append(present.reference)
    result.repeat_child_references = (references[0], references[1])


@transaction.atomic
def demo_load(*, password: str, seed: int = DEFAULT_SEED, now: dt.datetime | None = None) -> DemoResult:
    """Create whatever of the demo is missing; leave what is present as it is. All of it, or nothing."""
    now = now or timezone.now()
    result = DemoResult(password=password)
    seed_guardian_coverage()  # migration 0002 seeds it; a database emptied since (as tests do) gets it back
    users = _load_accounts(password, result)
    _ensure_pilot_area()
    makers = _decision_makers(users)
    for key, count in CASES_PER_FIRST_RESPONDER.items():
        referrer = users[FIRST_RESPONDER_USER[key]]
        existing = set(
            Referral.objects.filter(organisation_id=referrer.organisation_id).values_list(
                "first_responder_reference", flat=True
            )
        )
        for index, status in enumerate(_planned_statuses(key, count, seed)):
            if demo_reference(key, index) in existing:
                result.referrals_present += 1
                continue
            _load_referral(
                key=key, index=index, status=status, seed=seed, now=now, referrer=referrer, makers=makers, result=result
            )
    _load_drafts(users["fr.police"], now, result)
    _load_repeat_child(users, now, result)  # before the assignments, which share out the open cases
    _load_assignments(users, result)
    _load_safeguarding(users, now, result)
    # Compare the demo's referrals with each other now, as the worker does for each new one, so that the review
    # queue is ready when the service starts.
    result.duplicate_checks = referrals_check_on_arrival()
    result.guardian_child_reference = (
        Referral.objects.filter(guardian_allocation_requests__allocated_to=users["guardian.one"])
        .order_by("reference")
        .values_list("reference", flat=True)
        .first()
    )

    demo_orgs = [users[u].organisation_id for u in FIRST_RESPONDER_USER.values()]
    result.statuses = Counter(Referral.objects.filter(organisation_id__in=demo_orgs).values_list("status", flat=True))
    result.users = [users[spec.username] for spec in USERS]
    sample = (
        Referral.objects.filter(
            home_office_reference__startswith=HOME_OFFICE_REFERENCE_PREFIX, status=Status.CONCLUSIVE_GROUNDS_POSITIVE
        )
        .order_by("home_office_reference")
        .values_list("home_office_reference", flat=True)
        .first()
        or Referral.objects.filter(home_office_reference__startswith=HOME_OFFICE_REFERENCE_PREFIX)
        .order_by("home_office_reference")
        .values_list("home_office_reference", flat=True)
        .first()
    )
    result.home_office_reference = sample
    return result
