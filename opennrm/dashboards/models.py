"""A narrow summary of each referral's deadlines and first decisions, so the dashboard reads a few columns, not the cases.

At a million referrals, working the figures out from the referral and decision tables on each view
reads about 850 MB (BENCHMARKS.md, ADR 0008); this table holds only what the figures need, without
anything of the referral or safeguarding compartments, and is refreshed by `case_figures_refresh`.
"""

from django.db import models

FILTERS = ["local_authority", "nation", "age_group"]


class CaseFigures(models.Model):
    referral = models.OneToOneField("referrals.Referral", on_delete=models.CASCADE, primary_key=True, related_name="+")
    # The fields the dashboard's scope and filters use, named as on Referral so the policy's filters apply unchanged.
    competent_authority = models.CharField(max_length=20)
    local_authority = models.CharField(max_length=9, blank=True)
    nation = models.CharField(max_length=3)
    age_group = models.CharField(max_length=10)
    withdrawn = models.BooleanField(default=False)
    # Dates in Europe/London.
    received_on = models.DateField()
    rg_due = models.DateField()
    cg_due = models.DateField(null=True)  # the recovery period's end
    rg_on = models.DateField(null=True)  # the first issued Reasonable Grounds decision took effect
    cg_on = models.DateField(null=True)
    source_updated_at = models.DateTimeField()  # the referral's updated_at when this row was made

    class Meta:
        # One index per measure, by authority (every scope names its authorities) and the date the measure ranges over,
        # holding the rest of what that measure and the filters read: each part of the dashboard is an index-only scan.
        indexes = [
            models.Index(
                fields=["competent_authority", "rg_on"],
                include=["received_on", "rg_due", *FILTERS],
                name="casefigures_rg_on_idx",
            ),
            models.Index(
                fields=["competent_authority", "cg_on"], include=["received_on", *FILTERS], name="casefigures_cg_on_idx"
            ),
            models.Index(
                fields=["competent_authority", "rg_due"],
                include=["rg_on", "withdrawn", *FILTERS],
                name="casefigures_rg_due_idx",
            ),
            models.Index(
                fields=["competent_authority", "cg_due"],
                include=["cg_on", "withdrawn", *FILTERS],
                name="casefigures_cg_due_idx",
            ),
        ]


class FiguresRefresh(models.Model):
    """One row: how far the summary is up to date."""

    refreshed_at = models.DateTimeField(null=True)  # when the last refresh finished
    covered_from = models.DateTimeField(null=True)  # the next refresh takes referrals updated from this moment on
    requested_at = models.DateTimeField(null=True)  # when a view last asked the worker for a refresh
    rows_last_refresh = models.PositiveIntegerField(default=0)
