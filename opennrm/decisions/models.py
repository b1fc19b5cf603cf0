import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from opennrm.core.models import OutgoingEmail
from opennrm.referrals.codes import local_authorities


class Stage(models.TextChoices):
    REASONABLE_GROUNDS = "reasonable_grounds", "Reasonable Grounds"
    CONCLUSIVE_GROUNDS = "conclusive_grounds", "Conclusive Grounds"


class Outcome(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"


class DecisionState(models.TextChoices):
    # A negative decision is only proposed until a second decision maker confirms it (nrm.md 1.9).
    PROPOSED = "proposed", "Proposed, awaiting a second decision maker"
    ISSUED = "issued", "Issued"
    SENT_BACK = "sent_back", "Sent back for a fresh decision"


class Decision(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="decisions")
    stage = models.CharField(max_length=30, choices=Stage.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    state = models.CharField(max_length=10, choices=DecisionState.choices, default=DecisionState.ISSUED)
    reasons = models.TextField()
    competent_authority = models.CharField(max_length=20)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    # The second decision maker who confirmed a negative decision, or sent it back.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    # What the decision was made under (decisions/policy_versions.py): historic cases must compute as they did then.
    policy_version = models.CharField(max_length=40)
    guidance_version = models.CharField(max_length=40)

    class Meta:
        ordering = ["decided_at", "id"]
        indexes = [models.Index(fields=["referral", "state"], name="decision_referral_state_idx")]


class RoutingRuleKind(models.TextChoices):
    IECA_IMMIGRATION_ACTION = (
        "ieca_immigration_action",
        "IECA: people in immigration detention or subject to removal action",
    )
    LOCAL_PANEL_PILOT_AREA = "local_panel_pilot_area", "Local panel: a devolved child decision-making pilot area"


DEFAULT_PANEL_PERIOD_DAYS = 45  # nrm.md 2.4: the panel's Reasonable Grounds decision is due within 45 days


class RoutingRule(models.Model):
    """One effective-dated routing rule, kept as data so an administrator can change routing without a release."""

    kind = models.CharField(max_length=40, choices=RoutingRuleKind.choices)
    effective_from = models.DateField()
    effective_to = models.DateField(
        null=True, blank=True, help_text="The last day the rule applies; empty while it still applies"
    )
    local_authority = models.CharField(
        max_length=9, blank=True, help_text="ONS (GSS) code of the pilot area's local authority"
    )
    panel_period_days = models.PositiveSmallIntegerField(
        default=DEFAULT_PANEL_PERIOD_DAYS, help_text="Calendar days the panel has for its Reasonable Grounds decision"
    )
    description = models.TextField(help_text="Why the rule exists: the policy or pilot it follows")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "local_authority", "effective_from"]

    def __str__(self) -> str:
        where = f" {self.local_authority}" if self.local_authority else ""
        return f"{self.get_kind_display()}{where} from {self.effective_from:%Y-%m-%d}"

    def applies_on(self, day) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def clean(self):
        errors = {}
        if self.effective_to and self.effective_from and self.effective_to < self.effective_from:
            errors["effective_to"] = "The last day must be on or after the first day"
        if self.kind == RoutingRuleKind.LOCAL_PANEL_PILOT_AREA:
            if self.local_authority not in local_authorities():
                errors["local_authority"] = (
                    "Give the ONS (GSS) code of the pilot area's local authority, such as E09000019 for Islington"
                )
            if not 1 <= (self.panel_period_days or 0) <= 365:
                errors["panel_period_days"] = "Give a period of 1 to 365 days"
        elif self.local_authority:
            errors["local_authority"] = "Leave this empty: only a pilot area rule names a local authority"
        if errors:
            raise ValidationError(errors)


class ReconsiderationRequest(models.Model):
    """A request to look again at a negative decision, with its grounds (nrm.md 1.10)."""

    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, related_name="reconsideration_requests"
    )
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="reconsideration_requests")
    grounds = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()


class DecisionNotification(OutgoingEmail):
    """The email telling the first responder a decision was issued: kept until sent, so a mail server outage loses nothing."""

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="notification")


class NoticeKind(models.TextChoices):
    REMINDER = "reminder", "Reminder"
    BREACH = "breach", "Breach escalation"


class DeadlineNotice(OutgoingEmail):
    """A reminder the working day before a decision is due, or the escalation of a missed one (ADR 0007).

    One row per referral, kind and deadline (stage and due date), enforced by the database: the
    nightly sweep inserts the rows it finds due and skips those that exist, so two sweeps at once,
    or a sweep after a restart, never make a second. The row is then sent like any OutgoingEmail.
    Recipients are worked out when it is sent (`sent_to`), so a case reassigned in between goes to
    whoever holds it then.
    """

    kind = models.CharField(max_length=10, choices=NoticeKind.choices)
    # No index of its own: the unique constraint's index starts with the referral.
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, related_name="deadline_notices", db_index=False
    )
    stage = models.CharField(max_length=30, choices=Stage.choices)
    due_on = models.DateField()
    # Set instead of sent_at when, by the time of sending, the decision was made or the deadline moved.
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "kind", "stage", "due_on"], name="deadline_notice_once_per_deadline"
            ),
        ]
        indexes = [
            # The sender's scan: notices not yet sent, oldest first.
            models.Index(
                fields=["id"],
                condition=models.Q(sent_at__isnull=True, superseded_at__isnull=True),
                name="deadline_notice_unsent_idx",
            ),
        ]


class WorkerSchedule(models.Model):
    """For each task the worker keeps queued by itself (the nightly deadline sweep, the sending of deadline
    notices): which queued run is the current one, and when the work last ran.

    Enqueueing a run and recording its task id happen under this row's lock in one transaction, so
    however often the worker restarts or two processes ask at once, one queued run is current; a run
    left behind by an earlier schedule finds it is not, and does nothing (core/schedule.py).
    """

    name = models.CharField(max_length=60, primary_key=True)
    next_task_id = models.CharField(max_length=64, blank=True)
    next_run_after = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_summary = models.JSONField(default=dict)
