import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce


class Status(models.TextChoices):
    AWAITING_REASONABLE_GROUNDS = "awaiting_reasonable_grounds", "Awaiting Reasonable Grounds decision"
    REASONABLE_GROUNDS_NEGATIVE = "reasonable_grounds_negative", "Negative Reasonable Grounds decision"
    RECOVERY_PERIOD = "recovery_period", "Recovery period"
    AWAITING_CONCLUSIVE_GROUNDS = "awaiting_conclusive_grounds", "Awaiting Conclusive Grounds decision"
    CONCLUSIVE_GROUNDS_POSITIVE = "conclusive_grounds_positive", "Positive Conclusive Grounds decision"
    CONCLUSIVE_GROUNDS_NEGATIVE = "conclusive_grounds_negative", "Negative Conclusive Grounds decision"
    RECONSIDERATION = "reconsideration", "Reconsideration"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Cases still being decided: the work queues hold these, and only these may be assigned, withdrawn or re-routed.
OPEN_STATUSES = (
    Status.AWAITING_REASONABLE_GROUNDS,
    Status.RECOVERY_PERIOD,
    Status.AWAITING_CONCLUSIVE_GROUNDS,
    Status.RECONSIDERATION,
)


def queue_deadline():
    """The date a case's next decision is due: Reasonable Grounds until a recovery period starts, then its end."""
    return Coalesce(F("recovery_period_ends_on"), F("reasonable_grounds_due"))


# The work queue's order (deadline, then oldest first, then id: unique, so keyset-friendly), as index columns.
QUEUE_ORDER = (queue_deadline(), F("received_at"), F("id"))
OPEN = Q(status__in=OPEN_STATUSES)
# Every column a queue filters on or orders by (the deadline's too, so PostgreSQL can scan index-only).
QUEUE_INCLUDE = (
    "status",
    "nation",
    "age_group",
    "local_authority",
    "competent_authority",
    "assigned_to",
    "assigned_team",
    "recovery_period_ends_on",
    "reasonable_grounds_due",
)


class CompetentAuthority(models.TextChoices):
    SCA = "SCA", "Single Competent Authority"
    IECA = "IECA", "Immigration Enforcement Competent Authority"
    LOCAL_PANEL = "LOCAL_PANEL", "Local authority multi-agency panel"


class Referral(models.Model):
    """One NRM referral. Fields are grouped by the compartment that may see them (contract section 5)."""

    # Not stored, declared for the type checker: set by the selectors on the records they hand out. What the actor
    # sees of the record and may do to it (policy.Access), and on a record waiting for a guardian, what allocating
    # needs (safeguarding.selectors.AllocationSummary). Any: naming them here would import upwards.
    access: Any
    allocation_summary: Any

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, null=True)  # noqa: DJ001  (NULL: many without one)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="referrals")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Set by `opennrm import`: the source system's identifier, unique within the importing organisation.
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001  (NULL: unique only when given)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Status compartment
    nation = models.CharField(max_length=3)
    status = models.CharField(max_length=40, choices=Status.choices, default=Status.AWAITING_REASONABLE_GROUNDS)
    competent_authority = models.CharField(max_length=20, choices=CompetentAuthority.choices)
    received_at = models.DateTimeField()
    reasonable_grounds_due = models.DateField()
    recovery_period_ends_on = models.DateField(null=True, blank=True)

    # Who in the competent authority holds the case: a team, and within it a decision maker.
    assigned_team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)

    # Used for scoping and lookups; their values also appear in the compartments below.
    age_group = models.CharField(max_length=10)
    local_authority = models.CharField(max_length=9, blank=True)
    home_office_reference = models.CharField(max_length=40, blank=True)  # as given
    # What lookups and duplicate detection match on (references.home_office_reference_key), kept by the services.
    home_office_reference_key = models.CharField(max_length=40, blank=True)

    # Referral compartment: the potential victim's identity and the account, as referred.
    first_responder_reference = models.CharField(max_length=100, blank=True)
    potential_victim = models.JSONField()
    local_authority_contact = models.JSONField(null=True)
    consent = models.JSONField(null=True)
    exploitation = models.JSONField()
    indicators = models.JSONField(default=list)
    police = models.JSONField(null=True)

    # Safeguarding compartment
    current_address = models.TextField(blank=True)
    phone = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="referral_external_id_unique_per_organisation",
            )
        ]
        indexes = [
            models.Index(fields=["competent_authority", "status", "reasonable_grounds_due"], name="referral_queue_idx"),
            models.Index(fields=["organisation", "-received_at"], name="referral_org_received_idx"),
            models.Index(fields=["local_authority", "age_group"], name="referral_la_idx"),
            models.Index(fields=["home_office_reference_key"], name="referral_ho_ref_key_idx"),
            models.Index(fields=["first_responder_reference"], name="referral_fr_ref_idx"),
            # The work queues (decisions/selectors.py): each view walks one partial index of open cases in
            # queue order. The filters' columns are included, so a page's ids and a capped count are index-only
            # scans however selective the filters; the page's rows are then fetched by id.
            models.Index(
                F("competent_authority"),
                *QUEUE_ORDER,
                name="referral_queue_all_idx",
                condition=OPEN,
                include=QUEUE_INCLUDE,
            ),
            models.Index(
                F("competent_authority"),
                *QUEUE_ORDER,
                name="referral_queue_unassigned_idx",
                include=QUEUE_INCLUDE,
                condition=OPEN & Q(assigned_to__isnull=True, assigned_team__isnull=True),
            ),
            models.Index(
                F("assigned_to"),
                *QUEUE_ORDER,
                name="referral_queue_mine_idx",
                include=QUEUE_INCLUDE,
                condition=OPEN & Q(assigned_to__isnull=False),
            ),
            models.Index(
                F("assigned_team"),
                *QUEUE_ORDER,
                name="referral_queue_team_idx",
                include=QUEUE_INCLUDE,
                condition=OPEN & Q(assigned_team__isnull=False),
            ),
            # A panel's scope is its own local authority's children.
            models.Index(
                F("local_authority"),
                *QUEUE_ORDER,
                name="referral_queue_panel_idx",
                include=QUEUE_INCLUDE,
                condition=OPEN & Q(competent_authority="LOCAL_PANEL"),
            ),
        ]

    def __str__(self) -> str:
        return self.reference or str(self.uuid)

    @property
    def next_deadline(self):
        """When the next decision on an open case is due (the queue's deadline); None once it is decided or withdrawn."""
        if self.status not in OPEN_STATUSES:
            return None
        return self.recovery_period_ends_on or self.reasonable_grounds_due

    @property
    def is_child(self) -> bool:
        return self.age_group in ("child", "unknown")

    @property
    def display_name(self) -> str:
        pv = self.potential_victim or {}
        name = " ".join(p for p in [pv.get("given_names"), pv.get("family_name")] if p)
        return name or (pv.get("aliases") or ["(no name given)"])[0]


class ReferralDraft(models.Model):
    """A referral being written in the pages, saved on every page so nothing typed is lost.

    `answers` holds the contract-shaped body so far plus what was typed on a page that did not yet
    pass its checks (`typed`), so a failed page shows the user their own input back.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_drafts")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_referral = models.OneToOneField(
        Referral, on_delete=models.SET_NULL, null=True, blank=True, related_name="draft"
    )

    class Meta:
        indexes = [models.Index(fields=["owner", "-updated_at"], name="draft_owner_idx")]


class DutyToNotify(models.Model):
    """An anonymous notification about an adult who did not consent to a referral (MSA 2015 s.52)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, null=True)  # noqa: DJ001  (NULL: many without one)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    nation = models.CharField(max_length=3)
    first_responder_reference = models.CharField(max_length=100, blank=True)
    sex = models.CharField(max_length=10)
    nationalities = models.JSONField(default=list)
    exploitation = models.JSONField()
    indicators = models.JSONField(default=list)
    police = models.JSONField(null=True)


class NrmStatusLookup(models.Model):
    """When a user looked up an NRM status, kept for the throttle's longest window (selectors.nrm_status_lookup).

    In the database rather than in a process's memory, so that the limit holds across every server
    process and machine; each lookup is also in the audit trail, which this does not replace.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "at"], name="nrm_status_lookup_user_idx")]
