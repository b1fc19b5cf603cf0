"""The official-statistics publication (issue 24, ADR 0030): what was counted, when, and what was released from it.

An `Extract` is the frozen record of one build's input: the period, when it was read, the rules it was
counted under and a content hash of every counted row, so that a later build of the same period can tell
whether the data changed. A `Release` is one version of the publication of a period, made from one extract;
a later version of the same period marks the figures that changed as revised (`r`). Nothing here is public
until a statistician publishes the release (contract section 7); the suppression ledger never is.
"""

import uuid

from django.conf import settings
from django.db import models


class Extract(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(default=0)  # 1 to 4; 0 for a calendar year (not NULL: unique below)
    period_start = models.DateField()
    period_end = models.DateField()  # the last day counted
    built_at = models.DateTimeField()
    # The statistician who built it; empty when built from the command line without --as (the operator's own run).
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    policy_version = models.CharField(max_length=40)  # the disclosure rules (statistics.disclosure)
    mapping_version = models.CharField(max_length=40)  # the code lists and recodes (statistics.tables)
    # sha256 over the counted rows in a canonical order: the same data gives the same hash.
    content_hash = models.CharField(max_length=64)
    row_counts = models.JSONField(default=dict)  # {"referrals": n, "duty_to_notify": n, "decisions": n, ...}

    class Meta:
        indexes = [models.Index(fields=["year", "quarter", "built_at"], name="stats_extract_period_idx")]


class ReleaseStatus(models.TextChoices):
    PREPARED = "prepared", "Prepared, not public"
    PUBLISHED = "published", "Published"


class Release(models.Model):
    """One version of the publication of one period."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    extract = models.OneToOneField(Extract, on_delete=models.PROTECT, related_name="release")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveSmallIntegerField()  # 1, 2, ... within the period
    revises = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=20, choices=ReleaseStatus.choices, default=ReleaseStatus.PREPARED)
    provisional = models.BooleanField(default=True)  # its figures are marked `p` until a final release
    # Why this version revises the last (required of a revision built from the pages): the release's revisions notes.
    reason = models.TextField(blank=True, default="")
    built_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What was released, cell by cell ({"table|dims|measure": value or null}): the next version compares with it.
    figures = models.JSONField(default=dict)
    # Internal, never published: every suppressed cell with its true count and the reason (primary or secondary).
    suppression_ledger = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "quarter", "version"], name="stats_release_period_version"),
        ]

    @property
    def period_label(self) -> str:
        return f"{self.year} Q{self.quarter}" if self.quarter else str(self.year)
