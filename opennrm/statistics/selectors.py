"""Reads of the official statistics (ADR 0030): what anyone may see is the published releases, and only those."""

from django.db.models import QuerySet

from .models import Release, ReleaseStatus


def published_releases() -> QuerySet[Release]:
    """The published releases, newest first (contract section 7: `GET /statistics` needs no sign-in)."""
    return Release.objects.filter(status=ReleaseStatus.PUBLISHED).order_by("-published_at", "-id")
