"""Who may see and do what: the one place OpenNRM's access policy is written down.

Contract section 5. A referral has three compartments (status, referral, safeguarding). Each role
has a scope (which referrals it may see at all), the compartments it sees of those, and the
capabilities it holds. Selectors and views ask this module; they never decide on their own.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.db.models import Exists, OuterRef, Q


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
    VIEW_DECISION_DASHBOARD = "view_decision_dashboard"  # aggregate figures on cases and deadlines, no per-case rows (ADR 0008)
    READ_RECORD_ACCESS_LOG = "read_record_access_log"  # "who has seen this record", for the records in record_access_log_scope
    # Safeguarding (ADR 0009)
    RECORD_CARE = "record_care"  # care status, placement, social worker, transfers, age assessments, return interviews
    REPORT_MISSING = "report_missing"  # report a missing episode, record the child found (police first responders only, among them)
    ALLOCATE_GUARDIAN = "allocate_guardian"
    WRITE_CASE_NOTE = "write_case_note"
    VIEW_MISSING_NOW = "view_missing_now"  # the local authority's or police force's "missing now" list
    # Duplicate detection (ADR 0014): review possible matches, link referrals to a person, undo a link
    LINK_RECORDS = "link_records"


ALL = frozenset(Compartment)
STATUS_ONLY = frozenset({Compartment.STATUS})
NONE: frozenset[Compartment] = frozenset()


@dataclass(frozen=True)
class RolePolicy:
    compartments: frozenset[Compartment]
    capabilities: frozenset[Capability]


DECISION_MAKER_CAPABILITIES = frozenset({Capability.LIST_REFERRALS, Capability.MAKE_DECISION, Capability.WITHDRAW_REFERRAL,
                                         Capability.VIEW_DECISION_DASHBOARD, Capability.LINK_RECORDS})

POLICIES: dict[str, RolePolicy] = {
    # Sees the referrals their own organisation made, as they referred them.
    Role.FIRST_RESPONDER: RolePolicy(
        ALL,
        frozenset({Capability.CREATE_REFERRAL, Capability.NOTIFY_DUTY, Capability.IMPORT_REFERRALS, Capability.LIST_REFERRALS,
                   Capability.REQUEST_RECONSIDERATION, Capability.WITHDRAW_REFERRAL,
                   # Police forces among first responders (is_police_force below); others are refused by the services.
                   Capability.REPORT_MISSING, Capability.VIEW_MISSING_NOW}),
    ),
    # Decision makers see the cases their authority holds: what they need to decide, not where the person lives.
    Role.SCA_DECISION_MAKER: RolePolicy(frozenset({Compartment.STATUS, Compartment.REFERRAL}), DECISION_MAKER_CAPABILITIES),
    Role.IECA_DECISION_MAKER: RolePolicy(frozenset({Compartment.STATUS, Compartment.REFERRAL}), DECISION_MAKER_CAPABILITIES),
    # A panel includes children's social care, so it sees the child's safeguarding too.
    Role.PANEL_DECISION_MAKER: RolePolicy(ALL, DECISION_MAKER_CAPABILITIES),
    # The child's local authority and guardian may ask for a reconsideration (contract section 4).
    Role.LA_SOCIAL_WORKER: RolePolicy(ALL, frozenset({Capability.LIST_REFERRALS, Capability.REQUEST_RECONSIDERATION, Capability.RECORD_CARE,
                                                      Capability.REPORT_MISSING, Capability.WRITE_CASE_NOTE, Capability.VIEW_MISSING_NOW,
                                                      Capability.READ_RECORD_ACCESS_LOG})),
    Role.GUARDIAN: RolePolicy(ALL, frozenset({Capability.LIST_REFERRALS, Capability.REQUEST_RECONSIDERATION, Capability.REPORT_MISSING,
                                              Capability.ALLOCATE_GUARDIAN, Capability.WRITE_CASE_NOTE, Capability.READ_RECORD_ACCESS_LOG})),
    # The firewall: status only, and only by looking up a Home Office reference.
    Role.IMMIGRATION_OFFICER: RolePolicy(STATUS_ONLY, frozenset({Capability.LOOKUP_NRM_STATUS})),
    # Aggregates are a statistician's whole remit (contract section 5): the dashboard's national figures, never a record.
    Role.STATISTICIAN: RolePolicy(NONE, frozenset({Capability.VIEW_DECISION_DASHBOARD})),
    Role.AUDITOR: RolePolicy(NONE, frozenset({Capability.READ_AUDIT, Capability.READ_RECORD_ACCESS_LOG})),
    Role.ADMIN: RolePolicy(NONE, frozenset({Capability.MANAGE_ACCOUNTS, Capability.MANAGE_CALENDAR, Capability.MANAGE_ROUTING})),
    # Compares identities across every referral, through the linkage pages only (linkage_scope, LINKAGE_IDENTITY_FIELDS):
    # no compartment of the referral pages, so never the account of exploitation nor where a child lives (ADR 0014).
    Role.DATA_QUALITY_OFFICER: RolePolicy(NONE, frozenset({Capability.LINK_RECORDS})),
}

# What duplicate detection shows of a referral in a possible match or on a person (ADR 0014): the fields the
# comparison reads, and the references and status to tell the records apart. Never the safeguarding compartment
# (address, phone, placement), nor the account, indicators or police details of the referral compartment.
LINKAGE_IDENTITY_FIELDS = ("reference", "status", "competent_authority", "received_at", "home_office_reference", "given_names", "family_name",
                           "aliases", "names_in_original_script", "date_of_birth", "date_of_birth_precision", "age_disputed", "sex",
                           "nationalities", "local_authority")


# Capabilities that reach case content without a compartment (a child's identity through duplicate detection, the
# audit trail's record of who handled whom) or that grant access to others (issue 22).
CAPABILITIES_GRANTED_BY_TWO = frozenset({Capability.LINK_RECORDS, Capability.READ_AUDIT, Capability.READ_RECORD_ACCESS_LOG,
                                         Capability.MANAGE_ACCOUNTS})


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


def referral_scope(user) -> Q | None:
    """The referrals the user may open or list, as a filter on Referral; None means none at all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.organisation_id is None:
        return None
    org = user.organisation
    match user.role:
        case Role.FIRST_RESPONDER:
            if is_police_force(org):
                # A force named on a child's missing episode must look for the child (ADR 0009). The few such
                # referrals are listed first, so the filter stays an OR of two index scans (organisation, id).
                named = _referrals_named_for_police(org.id)
                return Q(organisation_id=org.id) | Q(pk__in=named) if named else Q(organisation_id=org.id)
            return Q(organisation_id=org.id)
        case Role.SCA_DECISION_MAKER:
            return Q(competent_authority="SCA")
        case Role.IECA_DECISION_MAKER:
            return Q(competent_authority="IECA")
        case Role.PANEL_DECISION_MAKER:
            return Q(competent_authority="LOCAL_PANEL", local_authority=org.local_authority) if org.local_authority else None
        case Role.LA_SOCIAL_WORKER:
            return _local_authority_children(org.local_authority) if org.local_authority else None
        case Role.GUARDIAN:
            return _guardian_children(user)
    return None


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
    local authority and guardian read the logs of the children in their scope (referral_scope: for a
    guardian, the children allocated to them or waiting for their service, ADR 0009).
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


def is_police_force(organisation) -> bool:
    return organisation is not None and organisation.kind == "police"


def _local_authority_children(local_authority: str) -> Q:
    """Child referrals the authority is responsible for: those it was named on, until a transfer moves them (ADR 0009)."""
    from opennrm.safeguarding.models import LocalAuthorityTransfer

    named_and_kept = Q(local_authority=local_authority) & ~Q(Exists(LocalAuthorityTransfer.objects.filter(referral=OuterRef("pk"), is_current=True)))
    # Transfers are few: listed first, so the filter stays an OR of index scans (local authority, id).
    transferred_in = list(LocalAuthorityTransfer.objects.filter(to_local_authority=local_authority, is_current=True).values_list("referral_id", flat=True))
    return Q(age_group__in=CHILD_AGE_GROUPS) & ((named_and_kept | Q(pk__in=transferred_in)) if transferred_in else named_and_kept)


def _guardian_children(user) -> Q:
    """Children allocated to the guardian, and children whose request waits for a guardian of their service (ADR 0009)."""
    from opennrm.safeguarding.models import GuardianAllocationRequest

    requests = GuardianAllocationRequest.objects.filter(referral=OuterRef("pk"))
    mine = Q(allocated_to_id=user.pk) | Q(allocated_to__isnull=True, organisation_id=user.organisation_id)
    return Q(Exists(requests.filter(mine)))


def _referrals_named_for_police(organisation_id: int) -> list[int]:
    """Referrals of other organisations with a missing episode naming this police force. Asked on every
    read by a police first responder, so by one plain statement (ADR 0011)."""
    from django.db import connection

    from opennrm.referrals.models import Referral
    from opennrm.safeguarding.models import MissingEpisode

    qn = connection.ops.quote_name
    sql = (f"SELECT DISTINCT e.{qn('referral_id')} FROM {qn(MissingEpisode._meta.db_table)} e "
           f"JOIN {qn(Referral._meta.db_table)} r ON r.{qn('id')} = e.{qn('referral_id')} "
           f"WHERE e.{qn('police_organisation_id')} = %s AND r.{qn('organisation_id')} <> %s ORDER BY 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, [organisation_id, organisation_id])
        return [row[0] for row in cursor.fetchall()]


# "Not sure" is treated as a child: the presumption of age (Modern Slavery Act 2015 s.51).
CHILD_AGE_GROUPS = ("child", "unknown")
