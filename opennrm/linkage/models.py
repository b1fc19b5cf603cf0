"""The person behind the referrals (ADR 0014).

Nothing here is ever overwritten or deleted: a link that is undone keeps its row with who undid it, when
and why; each decision on a possible match is a row of its own. Undoing restores the state before.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Person(models.Model):
    """One child (or adult) behind one or more referrals."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)


class LinkMethod(models.TextChoices):
    AUTOMATIC = "automatic", "Linked automatically (same Home Office reference)"
    CONFIRMED = "confirmed", "Confirmed by a person"


class PersonLink(models.Model):
    """A referral linked to a person. Current while `undone_at` is empty; at most one current link per referral."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="links")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=20, choices=LinkMethod.choices)
    candidate = models.ForeignKey(
        "MatchCandidate", on_delete=models.PROTECT, null=True, blank=True, related_name="links"
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    made_at = models.DateTimeField()
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral"], condition=Q(undone_at__isnull=True), name="person_link_one_current_per_referral"
            ),
        ]
        indexes = [models.Index(fields=["person", "undone_at"], name="person_link_person_idx")]


class CandidateStatus(models.TextChoices):
    OPEN = "open", "To review"
    AUTO_LINKED = "auto_linked", "Linked automatically, to check"
    CONFIRMED = "confirmed", "Same child"
    REJECTED = "rejected", "Different children"


class Band(models.TextChoices):
    CERTAIN = "certain", "Certain: the same Home Office reference"
    STRONG = "strong", "Strong match"
    POSSIBLE = "possible", "Possible match"


class MatchCandidate(models.Model):
    """A newer referral that may be the same person as an earlier one, found on the newer one's arrival."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="+")  # the newer one
    earlier = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="+")
    score = models.FloatField()  # match weight, log2 odds
    band = models.CharField(max_length=10, choices=Band.choices)
    evidence = models.JSONField(default=list)  # [{"field", "label", "weight"}], strongest first
    status = models.CharField(max_length=20, choices=CandidateStatus.choices, default=CandidateStatus.OPEN)
    found_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["referral", "earlier"], name="match_candidate_pair")]
        indexes = [
            models.Index(
                fields=["status", "-score"],
                name="match_candidate_queue_idx",
                condition=Q(status__in=["open", "auto_linked"]),
            ),
            models.Index(fields=["earlier"], name="match_candidate_earlier_idx"),
        ]


class DecisionAction(models.TextChoices):
    CONFIRM = "confirm", "Confirmed: the same child"
    REJECT = "reject", "Rejected: different children"
    UNDO = "undo", "Undone"


class CandidateDecision(models.Model):
    """Each decision on a possible match, in order: the history is these rows, never an overwritten field."""

    candidate = models.ForeignKey(MatchCandidate, on_delete=models.PROTECT, related_name="decisions")
    action = models.CharField(max_length=10, choices=DecisionAction.choices)
    status_before = models.CharField(max_length=20, choices=CandidateStatus.choices)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()


class ArrivalCheck(models.Model):
    """A referral that has been compared with every earlier one (ADR 0014): the worker's to-do list is the referrals without one."""

    referral = models.OneToOneField("referrals.Referral", on_delete=models.PROTECT, related_name="+", primary_key=True)
    checked_at = models.DateTimeField()
    candidates = models.PositiveIntegerField(default=0)
