"""Reads of the official statistics (ADR 0030): what anyone may see is the published releases, and only those.

The statistician (BUILD_STATISTICS) also sees the prepared releases, to preview and publish them. The national
reference series is the Home Office's published figures, read from the copy in statistics/data (its README).
"""

import csv
import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.db.models import QuerySet

from opennrm.accounts.models import User
from opennrm.core.errors import NotAllowed, NotFound
from opennrm.policy import Capability, has_capability

from .models import Release, ReleaseStatus

NATIONAL_SOURCE = "Source: Home Office, National Referral Mechanism statistics (published)"
NATIONAL_FILE = Path(__file__).resolve().parent / "data" / "nrm_referrals_longitudinal.csv"
CHILDREN_REFERRED = "t12_children_and_missing_episodes||children_referred"
ALL_REFERRALS = "t01_referrals_by_exploitation_type||referrals"


def published_releases() -> QuerySet[Release]:
    """The published releases, newest first (contract section 7: `GET /statistics` needs no sign-in)."""
    return Release.objects.filter(status=ReleaseStatus.PUBLISHED).order_by("-published_at", "-id")


def published_release(release_id: uuid.UUID) -> Release:
    """A published release, for anyone; a prepared one is not found, exactly as one that does not exist."""
    release = published_releases().filter(uuid=release_id).select_related("revises").first()
    if release is None:
        raise NotFound("No published release has that id")
    return release


def _statistician(actor: User) -> None:
    if not has_capability(actor, Capability.BUILD_STATISTICS):
        raise NotAllowed("Only a statistician prepares and publishes the official statistics")


def releases_for_statistician(*, actor: User) -> QuerySet[Release]:
    """Every release, prepared or published, newest built first: the statistician's own list."""
    _statistician(actor)
    return Release.objects.order_by("-built_at", "-id")


def release_for_statistician(*, actor: User, release_id: uuid.UUID) -> Release:
    """Any release, prepared or published, for the statistician to preview or publish."""
    _statistician(actor)
    release = Release.objects.filter(uuid=release_id).select_related("revises").first()
    if release is None:
        raise NotFound("No release has that id")
    return release


def release_versions(release: Release) -> list[Release]:
    """The published versions of the release's period, oldest first: its revisions notes."""
    return list(published_releases().filter(year=release.year, quarter=release.quarter).order_by("version"))


def published_figure(release: Release, key: str) -> int | None:
    """One count of the release as published (rounded, or None when withheld or absent)."""
    value = release.figures.get(key)
    return int(value) if isinstance(value, int | float) else None


def children_referred(release: Release) -> int | None:
    """Children referred in the release's period, each counted once, as published."""
    return published_figure(release, CHILDREN_REFERRED)


@dataclass(frozen=True)
class Headline:
    text: str
    value: int | None
    previous: int | None
    change_percent: float | None


def previous_period(year: int, quarter: int) -> tuple[int, int]:
    """The period of the same length before (a year before a year, the quarter before a quarter)."""
    if quarter == 0:
        return year - 1, 0
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def latest_published(year: int, quarter: int) -> Release | None:
    return published_releases().filter(year=year, quarter=quarter).order_by("-version").first()


# The headline figures: (the figure's key, what it counts, how a sentence names it).
HEADLINE_FIGURES = (
    (CHILDREN_REFERRED, "children referred", "Referrals of children"),
    (ALL_REFERRALS, "referrals received", "Referrals of people of all ages"),
)


def headlines(release: Release) -> list[Headline]:
    """The release's headline sentences, from published (disclosure-controlled) figures only, never exact counts.

    Each figure against the previous period of the same length, when that period was published too.
    """
    label = release.period_label
    year, quarter = previous_period(release.year, release.quarter)
    before = latest_published(year, quarter)
    before_label = f"{year} Q{quarter}" if quarter else str(year)
    out = []
    for key, counted, named in HEADLINE_FIGURES:
        value = published_figure(release, key)
        if value is None:
            out.append(
                Headline(f"The number of {counted} in {label} is withheld to protect confidentiality", None, None, None)
            )
            continue
        previous = published_figure(before, key) if before is not None else None
        if not previous:
            out.append(Headline(f"{named}: {value:,} in {label}", value, previous, None))
            continue
        change = (value - previous) / previous * 100
        if round(change) == 0:
            text = f"{named} were unchanged at {value:,} in {label} (from {previous:,} in {before_label})"
        else:
            verb = "rose" if change > 0 else "fell"
            text = f"{named} {verb} by {abs(change):.0f}% to {value:,} in {label} (from {previous:,} in {before_label})"
        out.append(Headline(text, value, previous, change))
    return out


def own_children_by_year() -> dict[int, int | None]:
    """Children referred by year as this service published them: the latest published version of each year's release."""
    found: dict[int, int | None] = {}
    for release in published_releases().filter(quarter=0).order_by("year", "version"):
        found[release.year] = children_referred(release)
    return found


@functools.cache
def national_children_referred_by_year() -> dict[int, int]:
    """Children (17 or under) referred to the NRM in the UK by year, 2009–2023, as the Home Office published them.

    The CSV gives each year, quarter, age and location of exploitation; its `Total` location rows are summed.
    """
    totals: dict[int, int] = {}
    with NATIONAL_FILE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["Age at exploitation"] == "Child (17 or under)" and row["Location of exploitation"] == "Total":
                year = int(row["Year"])
                totals[year] = totals.get(year, 0) + int(row["NRM referrals"])
    return dict(sorted(totals.items()))


@dataclass(frozen=True)
class Announcement:
    period_label: str
    year: int
    quarter: int
    planned: dt.date
    published: bool


def _last_thursday(year: int, month: int) -> dt.date:
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    last = first_of_next - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - 3) % 7)


def planned_date(year: int, quarter: int) -> dt.date:
    """The pre-announced day of a period's release: the last Thursday of the second month after the period ends
    (2026 Q3, July to September, on the last Thursday of November); a year's with its fourth quarter's."""
    end_month = 12 if quarter == 0 else quarter * 3
    month = end_month + 2
    return _last_thursday(year + (month - 1) // 12, (month - 1) % 12 + 1)


def release_calendar(today: dt.date, *, months: int = 12) -> list[Announcement]:
    """The releases pre-announced from today for the coming `months`, computed from the quarters (none is stored)."""
    horizon = today + dt.timedelta(days=months * 31)
    published = set(published_releases().values_list("year", "quarter"))
    out = []
    for year in range(today.year - 1, horizon.year + 1):
        for quarter in (1, 2, 3, 4, 0):
            planned = planned_date(year, quarter)
            if today <= planned <= horizon:
                label = f"{year} Q{quarter}" if quarter else f"{year} (the calendar year)"
                out.append(Announcement(label, year, quarter, planned, (year, quarter) in published))
    return sorted(out, key=lambda a: (a.planned, a.quarter == 0))
