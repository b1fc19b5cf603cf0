"""A child's safeguarding (issue 4 points 1–4): the responsible local authority, care, guardians,
missing episodes and age. Everything here is the safeguarding compartment (contract section 5).

Records are history: a change adds a row and the latest row is the current state, so nothing a
social worker, guardian or assessor recorded is ever overwritten.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from opennrm.core.models import OutgoingEmail

RETURN_INTERVIEW_WITHIN = dt.timedelta(hours=72)  # DfE statutory guidance on children who go missing (2014)
ACKNOWLEDGE_HIGH_RISK_WITHIN = dt.timedelta(hours=1)


class CareStatus(models.TextChoices):
    CHILD_IN_NEED = "section_17", "Child in need (Children Act 1989 s.17)"
    ACCOMMODATED = "section_20", "Accommodated (Children Act 1989 s.20)"
    LOOKED_AFTER = "looked_after", "Looked after"
    CARE_LEAVER = "care_leaver", "Care leaver"
    NONE = "none", "None"


class PlacementType(models.TextChoices):
    FOSTER = "foster_care", "Foster care"
    CHILDRENS_HOME = "childrens_home", "Children's home"
    SUPPORTED_ACCOMMODATION = "supported_accommodation", "Supported accommodation"
    FAMILY = "family", "With family or friends"
    SECURE = "secure", "Secure accommodation"
    OTHER = "other", "Other"
    NONE = "none", "No placement"


class CareRecord(models.Model):
    """One entry in a child's care history as recorded by the responsible local authority; the latest is current."""

    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="care_records")
    local_authority = models.CharField(max_length=9)
    care_status = models.CharField(max_length=20, choices=CareStatus.choices)
    placement_type = models.CharField(max_length=30, choices=PlacementType.choices, default=PlacementType.NONE)
    placement_address = models.TextField(blank=True)
    social_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["referral", "-recorded_at"], name="care_record_referral_idx")]


class LocalAuthorityTransfer(models.Model):
    """Responsibility for a child passing to another local authority when the child moves.

    Until the first transfer the responsible authority is the one the referral named. The current
    transfer (is_current) names the authority responsible now; earlier ones stay as history.
    """

    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, related_name="local_authority_transfers"
    )
    from_local_authority = models.CharField(max_length=9)
    to_local_authority = models.CharField(max_length=9)
    moved_on = models.DateField()
    reason = models.TextField()
    is_current = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral"], condition=Q(is_current=True), name="one_current_transfer_per_referral"
            )
        ]
        indexes = [
            models.Index(fields=["to_local_authority"], condition=Q(is_current=True), name="transfer_current_la_idx"),
            # The authority a child left reads the record for the grace period after (policy.GRANTS, ADR 0028): asked on its every read.
            models.Index(fields=["from_local_authority", "recorded_at"], name="transfer_from_la_idx"),
        ]


class SupportModel(models.TextChoices):
    # nrm.md 2.1: direct where nobody in the UK holds parental responsibility, indirect where someone does.
    DIRECT = "direct", "Direct (one-to-one guardian)"
    INDIRECT = "indirect", "Indirect (through the professionals around the child)"


class GuardianService(models.Model):
    """A guardianship programme (ICTG, the Scottish Guardianship Service, the NI Independent Guardian Service), seeded from data."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    provider = models.CharField(max_length=200)
    nations = models.JSONField(default=list)
    support_models = models.JSONField(default=list)
    legal_basis = models.CharField(max_length=300, blank=True)
    # The OpenNRM organisation whose guardians work this programme; when unset, the guardian-service
    # organisation that covers the child's area (accounts' covered_local_authorities) takes the request.
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.name


class GuardianCoverage(models.Model):
    """A local authority area covered by a guardianship programme. One programme per area."""

    service = models.ForeignKey(GuardianService, on_delete=models.CASCADE, related_name="coverage")
    local_authority = models.CharField(max_length=9, unique=True)


class GuardianAllocationRequest(models.Model):
    """A child referral in a covered area asks the programme for a guardian; the time to allocation is tracked."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, related_name="guardian_allocation_requests"
    )
    service = models.ForeignKey(GuardianService, on_delete=models.PROTECT, related_name="allocation_requests")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    local_authority = models.CharField(max_length=9)
    requested_at = models.DateTimeField()
    support_model = models.CharField(max_length=10, choices=SupportModel.choices, blank=True)
    allocated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    allocated_at = models.DateTimeField(null=True, blank=True)
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "service"], name="one_guardian_request_per_referral_and_service"
            )
        ]
        indexes = [
            models.Index(
                fields=["organisation", "requested_at"],
                condition=Q(allocated_at__isnull=True),
                name="guardian_request_open_idx",
            ),
            models.Index(fields=["allocated_to"], name="guardian_request_guardian_idx"),
        ]

    @property
    def time_to_allocation(self) -> dt.timedelta | None:
        return self.allocated_at - self.requested_at if self.allocated_at else None


class CaseNote(models.Model):
    """A note on the child's case by the allocated guardian or the local authority."""

    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="case_notes")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()


class Risk(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class ReporterKind(models.TextChoices):
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    POLICE = "police", "Police"
    GUARDIAN = "guardian", "Guardian"


class MissingEpisode(models.Model):
    """A child missing (contract section 4). At most one open episode per child; found closes it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="missing_episodes")
    number = models.PositiveIntegerField(help_text="1 for the child's first episode, 2 for the second, ...")
    # Who is responsible, copied at report time so "missing now" needs no join (a transfer moves open episodes).
    local_authority = models.CharField(max_length=9)
    police_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_by_kind = models.CharField(max_length=20, choices=ReporterKind.choices)
    reported_at = models.DateTimeField()
    missing_since = models.DateTimeField()
    last_seen = models.TextField()
    risk = models.CharField(max_length=10, choices=Risk.choices)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    found_at = models.DateTimeField(null=True, blank=True)
    found_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    return_interview_due = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral"], condition=Q(found_at__isnull=True), name="one_open_missing_episode_per_child"
            ),
            models.UniqueConstraint(fields=["referral", "number"], name="missing_episode_number_unique"),
            models.CheckConstraint(
                condition=Q(found_at__isnull=True) | Q(found_at__gte=models.F("missing_since")),
                name="missing_episode_found_after_missing",
            ),
        ]
        indexes = [
            # "Missing now" for a local authority or a police force: only open episodes are indexed.
            models.Index(
                fields=["local_authority", "missing_since", "id"],
                condition=Q(found_at__isnull=True),
                name="missing_open_la_idx",
            ),
            models.Index(
                fields=["police_organisation", "missing_since", "id"],
                condition=Q(found_at__isnull=True),
                name="missing_open_police_idx",
            ),
            # Return interviews due: a local authority's found episodes in due order (selectors.return_interviews_due).
            models.Index(
                fields=["local_authority", "return_interview_due", "id"],
                condition=Q(found_at__isnull=False),
                name="missing_found_la_due_idx",
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.found_at is None


class ReturnInterview(models.Model):
    """The return home interview after a found episode, due within 72 hours of the return."""

    episode = models.OneToOneField(MissingEpisode, on_delete=models.PROTECT, related_name="return_interview")
    completed_at = models.DateTimeField()
    summary = models.TextField()
    conducted_by_organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()


class AlertKind(models.TextChoices):
    MISSING = "missing", "Reported missing"
    ESCALATION = "escalation", "High-risk missing episode not acknowledged within an hour"
    FOUND = "found", "Found"


class SafeguardingAlert(OutgoingEmail):
    """An item in an organisation's (or one person's) work queue, emailed by the worker with retries.

    The email carries the NRM reference and what happened, never the child's details (email is not
    a secure channel); the queue item links to the child's safeguarding page.
    """

    episode = models.ForeignKey(MissingEpisode, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()  # the time of the event, set by the service (not auto_now_add)
    seen_at = models.DateTimeField(null=True, blank=True)
    # Email delivery (OutgoingEmail's fields) is retried by the worker until the mail server takes it, as decision notifications are.

    class Meta:
        indexes = [models.Index(fields=["organisation", "-created_at"], name="alert_org_idx")]


class AgeOutcome(models.TextChoices):
    CHILD = "child", "Under 18"
    ADULT = "adult", "18 or over"


class Assessor(models.TextChoices):
    LOCAL_AUTHORITY = "local_authority", "Local authority (social work age assessment)"
    NATIONAL_AGE_ASSESSMENT_BOARD = "naab", "National Age Assessment Board"
    HOME_OFFICE = "home_office", "Home Office"
    COURT = "court", "Court"


class AgeAssessment(models.Model):
    """One age assessment. A later one supersedes an earlier one for the current age; none is erased."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="age_assessments")
    claimed_date_of_birth = models.DateField(null=True, blank=True)
    assessed_date_of_birth = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=AgeOutcome.choices)
    assessed_on = models.DateField()
    assessor = models.CharField(max_length=20, choices=Assessor.choices)
    assessor_organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["referral", "-assessed_on", "-recorded_at"], name="age_assessment_referral_idx")
        ]
