"""Who may see and do what: the one place OpenNRM's access policy is written down.

Contract section 5. A referral has three compartments (status, referral, safeguarding). Each role
has a scope (which referrals it may see at all), the compartments it sees of those, and the
capabilities it holds. Selectors and views ask this module; they never decide on their own.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Role(models.TextChoices):
    FIRST_RESPONDER = "first_responder", "First responder"
    SCA_DECISION_MAKER = "sca_decision_maker", "Single Competent Authority decision maker"
    IECA_DECISION_MAKER = "ieca_decision_maker", "Immigration Enforcement Competent Authority decision maker"
    PANEL_DECISION_MAKER = "panel_decision_maker", "Local panel decision maker"
    LA_SOCIAL_WORKER = "la_social_worker", "Local authority social worker"
    GUARDIAN = "guardian", "Independent child trafficking guardian"
    IMMIGRATION_OFFICER = "immigration_officer", "Immigration officer"
    STATISTICIAN = "statistician", "Statistician"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Administrator"
    DATA_QUALITY_OFFICER = "data_quality_officer", "Data quality officer"


class Compartment(StrEnum):
    STATUS = "status"
    REFERRAL = "referral"
    SAFEGUARDING = "safeguarding"


class Capability(StrEnum):
    CREATE_REFERRAL = "create_referral"
    NOTIFY_DUTY = "notify_duty"  # send a Duty to Notify
    IMPORT_REFERRALS = "import_referrals"
    LOOKUP_NRM_STATUS = "lookup_nrm_status"
    LIST_REFERRALS = "list_referrals"
    READ_AUDIT = "read_audit"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_CALENDAR = "manage_calendar"
    MANAGE_ROUTING = "manage_routing"  # edit the routing rules
    MAKE_DECISION = "make_decision"  # decide, confirm, send back and re-route the cases the authority holds
    REQUEST_RECONSIDERATION = "request_reconsideration"
    WITHDRAW_REFERRAL = "withdraw_referral"  # record an adult's withdrawal
    VIEW_DECISION_DASHBOARD = (
        "view_decision_dashboard"  # aggregate figures on cases and deadlines, no per-case rows (ADR 0008)
    )
    READ_RECORD_ACCESS_LOG = (
        "read_record_access_log"  # "who has seen this record", for the records in record_access_log_scope
    )
    # Safeguarding (ADR 0009)
    RECORD_CARE = "record_care"  # care status, placement, social worker, transfers, age assessments, return interviews
    REPORT_MISSING = (
        "report_missing"  # report a missing episode, record the child found (police first responders only, among them)
    )
    ALLOCATE_GUARDIAN = "allocate_guardian"
    WRITE_CASE_NOTE = "write_case_note"
    VIEW_MISSING_NOW = "view_missing_now"  # the local authority's or police force's "missing now" list
    # Duplicate detection (ADR 0014): review possible matches, link referrals to a person, undo a link
    LINK_RECORDS = "link_records"
    # Official statistics (ADR 0030): build a release of the publication from a frozen extract
    BUILD_STATISTICS = "build_statistics"


ALL = frozenset(Compartment)
STATUS_ONLY = frozenset({Compartment.STATUS})
NONE: frozenset[Compartment] = frozenset()


@dataclass(frozen=True)
class RolePolicy:
    compartments: frozenset[Compartment]
    capabilities: frozenset[Capability]


DECISION_MAKER_CAPABILITIES = frozenset(
    {
        Capability.LIST_REFERRALS,
        Capability.MAKE_DECISION,
        Capability.WITHDRAW_REFERRAL,
        Capability.VIEW_DECISION_DASHBOARD,
        Capability.LINK_RECORDS,
    }
)

POLICIES: dict[str, RolePolicy] = {
    # Sees the referrals their own organisation made, as they referred them.
    Role.FIRST_RESPONDER: RolePolicy(
        ALL,
        frozenset(
            {
                Capability.CREATE_REFERRAL,
                Capability.NOTIFY_DUTY,
                Capability.IMPORT_REFERRALS,
                Capability.LIST_REFERRALS,
                Capability.REQUEST_RECONSIDERATION,
                Capability.WITHDRAW_REFERRAL,
                # Police forces among first responders (is_police_force below); others are refused by the services.
                Capability.REPORT_MISSING,
                Capability.VIEW_MISSING_NOW,
            }
        ),
    ),
    # Decision makers see the cases their authority holds: what they need to decide, not where the person lives.
    Role.SCA_DECISION_MAKER: RolePolicy(
        frozenset({Compartment.STATUS, Compartment.REFERRAL}), DECISION_MAKER_CAPABILITIES
    ),
    Role.IECA_DECISION_MAKER: RolePolicy(
        frozenset({Compartment.STATUS, Compartment.REFERRAL}), DECISION_MAKER_CAPABILITIES
    ),
    # A panel includes children's social care, so it sees the child's safeguarding too.
    Role.PANEL_DECISION_MAKER: RolePolicy(ALL, DECISION_MAKER_CAPABILITIES),
    # The child's local authority and guardian may ask for a reconsideration (contract section 4).
    Role.LA_SOCIAL_WORKER: RolePolicy(
        ALL,
        frozenset(
            {
                Capability.LIST_REFERRALS,
                Capability.REQUEST_RECONSIDERATION,
                Capability.RECORD_CARE,
                Capability.REPORT_MISSING,
                Capability.WRITE_CASE_NOTE,
                Capability.VIEW_MISSING_NOW,
                Capability.READ_RECORD_ACCESS_LOG,
            }
        ),
    ),
    Role.GUARDIAN: RolePolicy(
        ALL,
        frozenset(
            {
                Capability.LIST_REFERRALS,
                Capability.REQUEST_RECONSIDERATION,
                Capability.REPORT_MISSING,
                Capability.ALLOCATE_GUARDIAN,
                Capability.WRITE_CASE_NOTE,
                Capability.READ_RECORD_ACCESS_LOG,
            }
        ),
    ),
    # The firewall: status only, and only by looking up a Home Office reference.
    Role.IMMIGRATION_OFFICER: RolePolicy(STATUS_ONLY, frozenset({Capability.LOOKUP_NRM_STATUS})),
    # Aggregates are a statistician's whole remit (contract section 5): the dashboard's national figures, never a record.
    Role.STATISTICIAN: RolePolicy(NONE, frozenset({Capability.VIEW_DECISION_DASHBOARD, Capability.BUILD_STATISTICS})),
    Role.AUDITOR: RolePolicy(NONE, frozenset({Capability.READ_AUDIT, Capability.READ_RECORD_ACCESS_LOG})),
    Role.ADMIN: RolePolicy(
        NONE, frozenset({Capability.MANAGE_ACCOUNTS, Capability.MANAGE_CALENDAR, Capability.MANAGE_ROUTING})
    ),
    # Compares identities across every referral, through the linkage pages only (linkage_scope, LINKAGE_IDENTITY_FIELDS):
    # no compartment of the referral pages, so never the account of exploitation nor where a child lives (ADR 0014).
    Role.DATA_QUALITY_OFFICER: RolePolicy(NONE, frozenset({Capability.LINK_RECORDS})),
}

# What duplicate detection shows of a referral in a possible match or on a person (ADR 0014): the fields the
# comparison reads, and the references and status to tell the records apart. Never the safeguarding compartment
# (address, phone, placement), nor the account, indicators or police details of the referral compartment.
LINKAGE_IDENTITY_FIELDS = (
    "reference",
    "status",
    "competent_authority",
    "received_at",
    "home_office_reference",
    "given_names",
    "family_name",
    "aliases",
    "names_in_original_script",
    "date_of_birth",
    "date_of_birth_precision",
    "age_disputed",
    "sex",
    "nationalities",
    "local_authority",
)


# Capabilities that reach case content without a compartment (a child's identity through duplicate detection, the
# audit trail's record of who handled whom) or that grant access to others (issue 22).
CAPABILITIES_GRANTED_BY_TWO = frozenset(
    {Capability.LINK_RECORDS, Capability.READ_AUDIT, Capability.READ_RECORD_ACCESS_LOG, Capability.MANAGE_ACCOUNTS}
)


def role_needs_second_administrator(role: str) -> bool:
    """Whether granting this role needs a second, different administrator's approval: the role sees case content
    (any compartment, or CAPABILITIES_GRANTED_BY_TWO) or can grant roles itself, so one administrator alone could
    otherwise give themselves, or a confederate, the records."""
    policy = POLICIES.get(role)
    return policy is not None and bool(policy.compartments or policy.capabilities & CAPABILITIES_GRANTED_BY_TWO)


def policy_for(user) -> RolePolicy:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return RolePolicy(NONE, frozenset())
    return POLICIES.get(user.role, RolePolicy(NONE, frozenset()))


def has_capability(user, capability: Capability) -> bool:
    return capability in policy_for(user).capabilities


def compartments_for(user) -> frozenset[Compartment]:
    """Compartments the user sees of a referral inside their scope (an immigration officer's is a lookup, not a scope)."""
    return policy_for(user).compartments


def standing_scope(user) -> Q | None:
    """The referrals the user's role and organisation give them for as long as they hold them (not by an event):
    a first responder's own organisation's, a decision maker's authority's cases, the children a local authority is
    responsible for now, the children allocated to a guardian. None means none at all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.organisation_id is None:
        return None
    org = user.organisation
    match user.role:
        case Role.FIRST_RESPONDER:
            return Q(organisation_id=org.id)
        case Role.SCA_DECISION_MAKER:
            return Q(competent_authority="SCA")
        case Role.IECA_DECISION_MAKER:
            return Q(competent_authority="IECA")
        case Role.PANEL_DECISION_MAKER:
            return (
                Q(competent_authority="LOCAL_PANEL", local_authority=org.local_authority)
                if org.local_authority
                else None
            )
        case Role.LA_SOCIAL_WORKER:
            return _local_authority_children(org.local_authority) if org.local_authority else None
        case Role.GUARDIAN:
            return _guardian_children(user)
    return None


def referral_scope(user, *, capability: "Capability | None" = None, now: dt.datetime | None = None) -> Q | None:
    """The referrals the user may open or list, as a filter on Referral; None means none at all.

    Standing access (standing_scope), and the referrals an event grants the user now (ADR 0028): a police force
    named on a child's missing episode, the local authority a child was transferred from, a guardian service
    whose request for a guardian waits. With `capability`, only the grants that let their holder do that:
    the services act through this, so a grant to read is never a grant to act.
    """
    standing = standing_scope(user)
    granted = _granted_scope(user, capability=capability, now=now or timezone.now())
    if granted is None:
        return standing
    # The standing filter first: the granted referrals are few, listed or an EXISTS (ADR 0011).
    return standing | granted if standing is not None else granted


def linkage_scope(user) -> Q | None:
    """The referrals whose identity (LINKAGE_IDENTITY_FIELDS) the user may compare and link; None means none at all.

    A data-quality officer: every referral, since a child's earlier referral may have been made anywhere. A decision
    maker: the cases their authority holds (referral_scope), and a possible match is shown to them only when both of
    its referrals are in it. Nobody else: a first responder never sees another organisation's referral through this.
    """
    if not has_capability(user, Capability.LINK_RECORDS):
        return None
    if user.role == Role.DATA_QUALITY_OFFICER:
        return Q()
    return referral_scope(user)


def dashboard_scope(user) -> Q | None:
    """The referrals whose aggregate figures the user may see on the decisions dashboard; None means none at all.

    A decision maker sees their own authority's (a panel its own panel's): the cases they may open.
    A statistician sees every authority's, as figures only.
    """
    if not has_capability(user, Capability.VIEW_DECISION_DASHBOARD):
        return None
    if user.role == Role.STATISTICIAN:
        # Every authority, named, so that the figures' indexes (which lead with the authority) serve this scope too.
        return Q(competent_authority__in=("SCA", "IECA", "LOCAL_PANEL"))
    return referral_scope(user)


def record_access_log_scope(user) -> Q | None:
    """The referrals whose access log ("who has seen this record") the user may read; None means none.

    Auditors read any record's log (they see the whole audit trail, never case content). The child's
    local authority and guardian read the logs of the children they are responsible for (standing_scope:
    for a guardian, the children allocated to them; not those an event lets them see, ADR 0028).
    """
    if not has_capability(user, Capability.READ_RECORD_ACCESS_LOG):
        return None
    if user.role == Role.AUDITOR:
        return Q()
    if user.role in (Role.LA_SOCIAL_WORKER, Role.GUARDIAN):
        # The child's own authority and guardian: standing access, not an event's (ADR 0028).
        return standing_scope(user)
    return None


# Every role signs in with a second factor where one is required (settings.REQUIRE_SECOND_FACTOR):
# each sees records, the audit trail, or (administrators, statisticians' aggregates) grants or draws
# on access to them; one rule is easier to keep than a list of exceptions (ADR 0010).
SECOND_FACTOR_ROLES = frozenset(Role)


def is_police_force(organisation) -> bool:
    return organisation is not None and organisation.kind == "police"


def _local_authority_children(local_authority: str) -> Q:
    """Child referrals the authority is responsible for: those it was named on, until a transfer moves them (ADR 0009)."""
    facts = _event_facts()
    named_and_kept = Q(local_authority=local_authority) & ~facts.transferred_away()
    # Transfers are few: listed first, so the filter stays an OR of index scans (local authority, id).
    transferred_in = facts.transferred_in(local_authority)
    return Q(age_group__in=CHILD_AGE_GROUPS) & (
        (named_and_kept | Q(pk__in=transferred_in)) if transferred_in else named_and_kept
    )


def _guardian_children(user) -> Q:
    """Children allocated to the guardian (ADR 0009). Children waiting for a guardian of the service are a grant (ADR 0028)."""
    return _event_facts().allocated_to(user.pk)


# --- Access granted by an event, and ending with it (ADR 0028) ----------------------------------------


class Grant(StrEnum):
    MISSING_EPISODE = "missing_episode"  # a police force named on a child's missing episode
    TRANSFER_HANDOVER = "transfer_handover"  # the local authority a child was transferred from
    GUARDIAN_WAITING_LIST = "guardian_waiting_list"  # a guardian service whose request for a guardian waits


# --- The facts access is decided on, from the package that records them --------------------------------
# The transfers, guardian requests and missing episodes above are safeguarding's records. Policy decides; it asks
# safeguarding for the facts (safeguarding/access_facts.py, registered in its AppConfig.ready), so that the one
# place access is decided imports no domain and no domain's tables are queried here.


@dataclass(frozen=True)
class GrantingEvent:
    """An event that grants an organisation access to one referral, as the record keeping it tells it."""

    kind: "Grant"
    referral_id: int
    holder: str  # the organisation, or the local authority, as the access log names it
    organisation_id: int | None  # the police force or guardian service holding it
    local_authority: str  # the local authority holding it (a transfer's hand-over)
    detail: str  # which event: "missing episode 2", "transfer to Cardiff"
    began_at: dt.datetime
    ended_at: dt.datetime | None  # when the event ended (found, allocated, transferred); None while it lasts


class EventFacts(Protocol):
    """The questions policy asks of the child's safeguarding record. Filters (Q) are on referrals."""

    def transferred_away(self) -> Q: ...  # a current transfer has moved the child to another local authority
    def transferred_in(self, local_authority: str) -> list[int]: ...  # moved to this one by a current transfer
    def allocated_to(self, user_id: int) -> Q: ...  # the child's guardian is this user
    def transferred_from(self, local_authority: str, *, since: dt.datetime) -> list[int]: ...
    def waiting_for_guardian(self, organisation_id: int, *, since: dt.datetime) -> Q: ...
    def named_for_police(self, organisation_id: int, *, since: dt.datetime) -> list[int]: ...
    def granting_events(self, referral_ids: list[int]) -> list[GrantingEvent]: ...


_facts: list[EventFacts] = []


def register_event_facts(facts: EventFacts) -> None:
    """Called once, by the package keeping the records (safeguarding's AppConfig.ready)."""
    _facts[:] = [facts]


def _event_facts() -> EventFacts:
    if not _facts:
        raise RuntimeError("No source of safeguarding facts registered: is opennrm.safeguarding in INSTALLED_APPS?")
    return _facts[0]


class View(StrEnum):
    """What of one referral a user is shown."""

    WHOLE = "whole"  # the compartments of the user's role
    MISSING_PERSON = "missing_person"  # what police need to find a missing child (MISSING_PERSON_FIELDS)
    GUARDIAN_ALLOCATION = "guardian_allocation"  # what a guardian service needs to allocate a guardian


VIEW_LABELS = {
    View.WHOLE: "the whole record",
    View.MISSING_PERSON: "what police need to find the child",
    View.GUARDIAN_ALLOCATION: "what allocating a guardian needs",
}


@dataclass(frozen=True)
class GrantPolicy:
    role: str  # the role whose organisation (or local authority) holds the grant
    view: View
    capabilities: frozenset[Capability]  # what the holder may do to the record under it, within the role's own
    reason: str
    grace: bool  # whether access lasts EVENT_ACCESS_GRACE_HOURS after the event ends, or ends with it


GRANTS: dict[Grant, GrantPolicy] = {
    # Police look for the child while missing, and until the grace period after found is over (the return
    # interview's 72 hours: the police "safe and well" check and anything the interview tells them). They may
    # acknowledge, record found and report a new episode; nothing else of the case is theirs.
    Grant.MISSING_EPISODE: GrantPolicy(
        Role.FIRST_RESPONDER,
        View.MISSING_PERSON,
        frozenset({Capability.REPORT_MISSING}),
        "Named on the child's missing episode: looking for the child",
        grace=True,
    ),
    # The authority a child left reads the record to hand the case over, and does nothing more: the new one acts.
    Grant.TRANSFER_HANDOVER: GrantPolicy(
        Role.LA_SOCIAL_WORKER,
        View.WHOLE,
        frozenset(),
        "Handing the case over after the child moved to another local authority",
        grace=True,
    ),
    # The service's guardians see what they need to choose a guardian, until one is allocated (then that guardian's).
    Grant.GUARDIAN_WAITING_LIST: GrantPolicy(
        Role.GUARDIAN,
        View.GUARDIAN_ALLOCATION,
        frozenset({Capability.ALLOCATE_GUARDIAN}),
        "The child waits for a guardian of the service",
        grace=False,
    ),
}

# What a police force looking for a missing child sees (College of Policing APP on missing persons): who the child
# is and how to recognise them, the kinds of exploitation and the towns it happened in (where a trafficked child
# who goes missing is often taken back), the child's address and phone; with the safeguarding record's current
# placement, who to contact (social worker, guardian) and the missing episodes. Never the account of exploitation,
# the indicators, the decisions' reasons, case notes, return interviews, age assessments or the care history.
MISSING_PERSON_FIELDS = {
    "potential_victim": (
        "given_names",
        "family_name",
        "aliases",
        "names_in_original_script",
        "date_of_birth",
        "date_of_birth_precision",
        "age_group",
        "sex",
        "nationalities",
        "languages",
        "interpreter_needed",
    ),
    "exploitation": ("types", "criminal_subtypes", "uk_towns"),
    "safeguarding": ("current_address", "phone"),
}
# What a guardian service needs to allocate a guardian: initials, age, sex, languages, the local authority, when
# referred and how urgent (missing now, in secure accommodation). Never names, account, address, phone or placement.
GUARDIAN_ALLOCATION_FIELDS = {"potential_victim": ("age_group", "sex", "languages", "interpreter_needed")}

# The parts of a child's safeguarding record (safeguarding.selectors.safeguarding_open) each view shows.
SAFEGUARDING_PARTS: dict[View, frozenset[str]] = {
    View.WHOLE: frozenset(
        {
            "as_referred",
            "care",
            "care_history",
            "transfers",
            "guardian",
            "episodes",
            "return_interviews",
            "age",
            "age_assessments",
            "notes",
        }
    ),
    View.MISSING_PERSON: frozenset({"as_referred", "care", "guardian", "episodes", "age"}),
    View.GUARDIAN_ALLOCATION: frozenset({"guardian", "age"}),
}


def event_access_grace(kind: Grant) -> dt.timedelta:
    """How long a grant of this kind lasts after its event ends (settings.EVENT_ACCESS_GRACE_HOURS, or none)."""
    return dt.timedelta(hours=settings.EVENT_ACCESS_GRACE_HOURS) if GRANTS[kind].grace else dt.timedelta(0)


@dataclass(frozen=True)
class EventGrant:
    """Access to one referral that an event gave an organisation, from the event until it ends (plus the grace)."""

    kind: Grant
    referral_id: int
    holder: str  # the organisation, or the local authority, as the access log names it
    organisation_id: int | None  # the police force or guardian service holding it
    local_authority: str  # the local authority holding it (a transfer's hand-over)
    detail: str  # which event: "missing episode 2", "transfer to Cardiff"
    began_at: dt.datetime
    ends_at: dt.datetime | None  # None while the event lasts

    @property
    def policy(self) -> GrantPolicy:
        return GRANTS[self.kind]

    @property
    def reason(self) -> str:
        return f"{self.policy.reason} ({self.detail})"

    @property
    def role_label(self) -> str:
        return Role(self.policy.role).label

    @property
    def shows(self) -> str:
        return VIEW_LABELS[self.policy.view]

    def as_dict(self, now: dt.datetime) -> dict:
        """For the access log: who holds it, why, what it shows, when it began and ended (None: still open)."""
        return {
            "holder": self.holder,
            "role": self.policy.role,
            "grant": self.kind.value,
            "reason": self.reason,
            "view": self.policy.view.value,
            "began_at": self.began_at.isoformat(),
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "open": self.is_open(now),
        }

    def is_open(self, now: dt.datetime) -> bool:
        return self.ends_at is None or now < self.ends_at

    def held_by(self, user) -> bool:
        org = user.organisation
        if user.role != self.policy.role or org is None:
            return False
        if self.kind == Grant.TRANSFER_HANDOVER:
            return bool(org.local_authority) and org.local_authority == self.local_authority
        if self.kind == Grant.MISSING_EPISODE and not is_police_force(org):
            return False
        return org.id == self.organisation_id


@dataclass(frozen=True)
class Access:
    """What one user sees of one referral and may do to it, and why: standing access (grant None) or an event's."""

    view: View
    compartments: frozenset[Compartment]  # the whole compartments shown; a cut view adds its own fields
    capabilities: frozenset[Capability]
    grant: EventGrant | None = None

    def allows(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def shows_names(self) -> bool:
        return self.view == View.MISSING_PERSON or (
            self.view == View.WHOLE and Compartment.REFERRAL in self.compartments
        )

    @property
    def safeguarding_parts(self) -> frozenset[str]:
        """The parts of the child's safeguarding record shown (a cut view shows its own parts of it)."""
        if self.view == View.WHOLE and Compartment.SAFEGUARDING not in self.compartments:
            return frozenset()
        return SAFEGUARDING_PARTS[self.view]

    def audit_details(self) -> dict:
        details: dict = {"compartments": sorted(self.compartments)}
        if self.grant is not None:
            details.update(
                view=self.view.value,
                grant=self.grant.kind.value,
                grant_ends_at=self.grant.ends_at.isoformat() if self.grant.ends_at else None,
            )
        return details


def _grant_kinds(user, capability: Capability | None) -> list[Grant]:
    return [
        kind
        for kind, grant in GRANTS.items()
        if grant.role == user.role and (capability is None or capability in grant.capabilities)
    ]


def _granted_scope(user, *, capability: Capability | None, now: dt.datetime) -> Q | None:
    """The referrals an event grants the user now, as a filter; None for none."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.organisation_id is None:
        return None
    if capability is not None and not has_capability(user, capability):
        return None
    org = user.organisation
    kinds = _grant_kinds(user, capability)
    facts = _event_facts()
    if Grant.MISSING_EPISODE in kinds and is_police_force(org):
        named = facts.named_for_police(org.id, since=now - event_access_grace(Grant.MISSING_EPISODE))
        return Q(pk__in=named) if named else None
    if Grant.TRANSFER_HANDOVER in kinds and org.local_authority:
        left = facts.transferred_from(org.local_authority, since=now - event_access_grace(Grant.TRANSFER_HANDOVER))
        return Q(pk__in=left, age_group__in=CHILD_AGE_GROUPS) if left else None
    if Grant.GUARDIAN_WAITING_LIST in kinds:
        return facts.waiting_for_guardian(org.id, since=now - event_access_grace(Grant.GUARDIAN_WAITING_LIST))
    return None


def event_grants(referral_ids) -> list[EventGrant]:
    """Every grant the events of these referrals gave, open or ended, oldest first (ADR 0028)."""
    grace = {kind: event_access_grace(kind) for kind in Grant}
    grants = [
        EventGrant(
            e.kind,
            e.referral_id,
            e.holder,
            e.organisation_id,
            e.local_authority,
            e.detail,
            e.began_at,
            e.ended_at + grace[e.kind] if e.ended_at else None,
        )
        for e in _event_facts().granting_events(list(referral_ids))
    ]
    return sorted(grants, key=lambda g: (g.began_at, g.kind))


def accesses_to(user, referrals, *, now: dt.datetime | None = None) -> dict[int, Access]:
    """What `user` sees of each of `referrals` (by pk), referrals already found in referral_scope(user): the role's
    whole compartments where the access is standing, else the view of the event grant open now."""
    referrals = list(referrals)
    role = policy_for(user)
    whole = Access(View.WHOLE, role.compartments, role.capabilities)
    if not referrals or (standing_scope(user) is None and not _grant_kinds(user, None)):
        return {}
    if not _grant_kinds(user, None):
        return {r.pk: whole for r in referrals}  # no event grants this role: what it may see, it sees whole
    Referral = type(referrals[0])  # the referrals' own model: the standing scope is a filter on it

    ids = {r.pk for r in referrals}
    standing = standing_scope(user)
    out = (
        dict.fromkeys(Referral._default_manager.filter(standing, pk__in=ids).values_list("pk", flat=True), whole)
        if standing is not None
        else {}
    )
    now = now or timezone.now()
    for grant in event_grants(ids - out.keys()):
        if grant.referral_id not in out and grant.held_by(user) and grant.is_open(now):
            policy = grant.policy
            compartments = role.compartments if policy.view == View.WHOLE else role.compartments & STATUS_ONLY
            out[grant.referral_id] = Access(policy.view, compartments, role.capabilities & policy.capabilities, grant)
    return out


def access_to(user, referral, *, now: dt.datetime | None = None) -> Access | None:
    """What `user` sees of one referral and may do to it; None if nothing."""
    return accesses_to(user, [referral], now=now).get(referral.pk)


# "Not sure" is treated as a child: the presumption of age (Modern Slavery Act 2015 s.51).
CHILD_AGE_GROUPS = ("child", "unknown")


def dashboard_figures_exact(user) -> bool:
    """Whether the user sees the dashboard's figures exact (small ones marked) rather than disclosure-controlled.

    Decision makers may open every case their figures count, so exact small counts tell them nothing they
    could not read; a statistician sees no record at all, so every figure they see is rounded or suppressed
    under the published-statistics rules (contract section 7; issue 22 point 8).
    """
    return user.role != Role.STATISTICIAN
