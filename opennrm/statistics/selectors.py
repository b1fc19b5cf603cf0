"""Reads of the official statistics (ADR 0030): what anyone may see is the published releases, and only those."""

from .models import Release, ReleaseStatus


def published_releases():
    """The published releases, newest first (contract section 7: `GET /statistics` needs no sign-in)."""
    return Release.objects.filter(status=ReleaseStatus.PUBLISHED).order_by("-published_at", "-id")
