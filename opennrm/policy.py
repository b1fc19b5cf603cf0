"""Who may see and do what: the one place OpenNRM's access policy is written down.

Contract section 5. A referral has three compartments (status, referral, safeguarding). Each role
has a scope (which referrals it may see at all), the compartments it sees of those, and the
capabilities it holds. Selectors and views ask this module; they never decide on their own.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.db.models import Q


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
    VIEW_DECISION_DASHBOARD = "view_decision_dashboard"  # aggregate figures on cases and deadlines, no per-case rows (ADR 0008)
    READ_RECORD_ACCESS_LOG = "read_record_access_log"  # "who has seen this record", for the records in record_access_log_scope


ALL = frozenset(Compartment)
STATUS_ONLY = frozenset({Compartment.STATUS})
NONE: frozenset[Compartment] = frozenset()


@dataclass(frozen=True)
class RolePolicy:
    compartments: frozenset[Compartment]
    capabilities: frozenset[Capability]


DECISION_MAKER_CAPABILITIES = frozenset({Capability.LIST_REFERRALS, Capability.MAKE_DECISION, Capability.WITHDRAW_REFERRAL,
                                         Capability.VIEW_DECISION_DASHBOARD})

POLICIES: dict[str, RolePolicy] = {
    # Sees the referrals their own organisation made, as they referred them.
    Role.FIRST_RESPONDER: RolePolicy(
        ALL,
        frozenset({Capability.CREATE_REFERRAL, Capability.NOTIFY_DUTY, Capability.IMPORT_REFERRALS, Capability.LIST_REFERRALS,
                   Capability.REQUEST_RECONSIDERATION, Capability.WITHDRAW_REFERRAL}),
    ),
    # Decision makers see the cases their authority holds: what they need to decide, not where the person lives.
    Role.SCA_DECISION_MAKER: RolePolicy(frozenset({Compartment.STATUS, Compartment.REFERRAL}), DECISION_MAKER_CAPABILITIES),
    Role.IECA_DECISION_MAKER: RolePolicy(frozenset({Compartment.STATUS, Compartment.REFERRAL}), DECISION_MAKER_CAPABILITIES),
    # A panel includes children's social care, so it sees the child's safeguarding too.
    Role.PANEL_DECISION_MAKER: RolePolicy(ALL, DECISION_MAKER_CAPABILITIES),
    # The child's local authority and guardian may ask for a reconsideration (contract section 4).
    # They also see who has seen the child's record (issue 4, point 5).
    Role.LA_SOCIAL_WORKER: RolePolicy(ALL, frozenset({Capability.LIST_REFERRALS, Capability.REQUEST_RECONSIDERATION, Capability.READ_RECORD_ACCESS_LOG})),
    Role.GUARDIAN: RolePolicy(ALL, frozenset({Capability.LIST_REFERRALS, Capability.REQUEST_RECONSIDERATION, Capability.READ_RECORD_ACCESS_LOG})),
    # The firewall: status only, and only by looking up a Home Office reference.
    Role.IMMIGRATION_OFFICER: RolePolicy(STATUS_ONLY, frozenset({Capability.LOOKUP_NRM_STATUS})),
    # Aggregates are a statistician's whole remit (contract section 5): the dashboard's national figures, never a record.
    Role.STATISTICIAN: RolePolicy(NONE, frozenset({Capability.VIEW_DECISION_DASHBOARD})),
    Role.AUDITOR: RolePolicy(NONE, frozenset({Capability.READ_AUDIT, Capability.READ_RECORD_ACCESS_LOG})),
    Role.ADMIN: RolePolicy(NONE, frozenset({Capability.MANAGE_ACCOUNTS, Capability.MANAGE_CALENDAR, Capability.MANAGE_ROUTING})),
}


def policy_for(user) -> RolePolicy:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return RolePolicy(NONE, frozenset())
    return POLICIES.get(user.role, RolePolicy(NONE, frozenset()))


def has_capability(user, capability: Capability) -> bool:
    return capability in policy_for(user).capabilities


def compartments_for(user) -> frozenset[Compartment]:
    """Compartments the user sees of a referral inside their scope (an immigration officer's is a lookup, not a scope)."""
    return policy_for(user).compartments


def referral_scope(user) -> Q | None:
    """The referrals the user may open or list, as a filter on Referral; None means none at all."""
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
            return Q(competent_authority="LOCAL_PANEL", local_authority=org.local_authority) if org.local_authority else None
        case Role.LA_SOCIAL_WORKER:
            return Q(age_group__in=CHILD_AGE_GROUPS, local_authority=org.local_authority) if org.local_authority else None
        case Role.GUARDIAN:
            covered = list(org.covered_local_authorities or [])
            return Q(age_group__in=CHILD_AGE_GROUPS, local_authority__in=covered) if covered else None
    return None


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
    local authority and guardian read the logs of the children in their scope: for a guardian that is
    the coverage of their service today; when guardians are allocated to children (the safeguarding
    app), narrowing referral_scope's GUARDIAN case narrows this too, with nothing to change here.
    """
    if not has_capability(user, Capability.READ_RECORD_ACCESS_LOG):
        return None
    if user.role == Role.AUDITOR:
        return Q()
    if user.role in (Role.LA_SOCIAL_WORKER, Role.GUARDIAN):
        return referral_scope(user)
    return None


# Every role signs in with a second factor where one is required (settings.REQUIRE_SECOND_FACTOR):
# each sees records, the audit trail, or (administrators, statisticians' aggregates) grants or draws
# on access to them; one rule is easier to keep than a list of exceptions (ADR 0010).
SECOND_FACTOR_ROLES = frozenset(Role)


# "Not sure" is treated as a child: the presumption of age (Modern Slavery Act 2015 s.51).
CHILD_AGE_GROUPS = ("child", "unknown")
