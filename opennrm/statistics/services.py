"""Building a release of the official-statistics publication (issue 24, ADR 0030).

`publication_build` reads the period's extract once, checks it against the code lists and the period's
previous release, tabulates and protects every table together, and records the extract and the release with
an audit event in one transaction; the files, when asked for, are written inside that transaction too, so
either the release and all its files exist, or neither does.
"""

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.services import audit_record
from opennrm.policy import Capability, has_capability
from opennrm.referrals.codes import countries

from .errors import ExtractChanged, NoData, NotAllowed, PeriodError, ReleaseSuperseded
from .extract import LONDON, content_hash, period_bounds, read_extract
from .models import Extract, Release, ReleaseStatus
from .outputs import ReleaseInfo, write_internal, write_publication
from .publication import ProtectedPublication, PublicationPolicy, configured_policy, protect_publication
from .tables import MAPPING_VERSION, ExtractRows, Tabulation, check_codes, tabulate


@dataclass
class Build:
    release: Release
    created: bool  # False: the data had not changed since the last release, which is returned as it was
    tabulation: Tabulation
    protected: ProtectedPublication
    info: ReleaseInfo
    rows: ExtractRows
    files: list[Path]
    internal_file: Path | None


def check_period(year: int, quarter: int | None, today: dt.date) -> tuple[dt.date, dt.date]:
    if quarter not in (None, 1, 2, 3, 4):
        raise PeriodError(f"There is no quarter {quarter}: give 1, 2, 3 or 4 (Q1 is January to March)")
    if not 2009 <= year <= 9999:
        raise PeriodError(f"{year} is outside the years the NRM has existed (2009 onwards)")
    start, end = period_bounds(year, quarter or 0)
    label = f"{year} Q{quarter}" if quarter else str(year)
    if start > today:
        raise PeriodError(f"{label} is in the future (it starts on {start:%-d %B %Y}): nothing can be published for it")
    if end >= today:
        raise PeriodError(
            f"{label} has not ended (its last day is {end:%-d %B %Y}): a publication covers a whole period, "
            "so build it from the day after"
        )
    return start, end


def publication_build(
    *,
    actor: User | None,
    year: int,
    quarter: int | None = None,
    revise: bool = False,
    final: bool = False,
    output: Path | None = None,
    internal_output: Path | None = None,
    policy: PublicationPolicy | None = None,
    today: dt.date | None = None,
    reason: str = "",
) -> Build:
    """Build the release of a quarter (1 to 4) or a calendar year from a frozen extract; statisticians only.

    `actor=None` is the operator's own run of `opennrm statistics` on the server (recorded as such in the audit trail).

    A rebuild of a period whose data and rules have not changed returns the existing release (the same figures).
    Changed data needs `revise=True`, which makes the next version, with the figures that changed marked `r`.
    """
    if actor is not None and not has_capability(actor, Capability.BUILD_STATISTICS):
        raise NotAllowed(f"Your role ({actor.get_role_display()}) cannot build the official statistics")
    today = today or timezone.now().astimezone(LONDON).date()
    start, end = check_period(year, quarter, today)
    quarter_code = quarter or 0
    label = f"{year} Q{quarter}" if quarter else str(year)
    policy = policy or configured_policy()
    policy.validate()

    rows = read_extract(start, end)
    if rows.is_empty():
        raise NoData(
            f"No referrals, Duty to Notify reports, decisions or missing episodes in {label}: nothing to publish"
        )
    known_countries = countries()
    check_codes(rows, known_countries)
    digest = content_hash(rows)
    tabulation = tabulate(rows, countries=known_countries, min_category=policy.min_category_count)

    with transaction.atomic():
        previous = (
            Release.objects.select_for_update()
            .filter(year=year, quarter=quarter_code)
            .select_related("extract")
            .order_by("-version")
            .first()
        )
        unchanged = (
            previous is not None
            and previous.extract.content_hash == digest
            and previous.extract.policy_version == policy.version
            and previous.extract.mapping_version == MAPPING_VERSION
        )
        if previous is not None and not unchanged and not revise:
            before = previous.extract
            raise ExtractChanged(
                f"The data for {label}, or the rules it is counted under, changed since version {previous.version} "
                f"was built on {before.built_at:%-d %B %Y %H:%M} UTC (rows then {_counts(before.row_counts)}, now "
                f"{_counts(rows.counts())}; content hash then {before.content_hash[:12]}, now {digest[:12]}; "
                f"disclosure policy then {before.policy_version}, now {policy.version}; mapping then "
                f"{before.mapping_version}, now {MAPPING_VERSION}). "
                f"Nothing was published. To publish version {previous.version + 1}, with the figures that changed "
                "marked [r], run again with --revise."
            )
        if quarter and not unchanged:
            annual = Release.objects.filter(year=year, quarter=0).order_by("-version").first()
            if annual is not None:
                # The year's figures are the sum of its quarters: a quarter released after them could be set against
                # them (and the other quarters) to uncover counts the year's suppression protects.
                raise PeriodError(
                    f"{year} already has its annual release (version {annual.version}), protected with the quarters "
                    f"released before it; a new release of {label} could be set against it to uncover counts it "
                    f"suppresses. A quarter cannot be released or revised after its year: nothing was published. "
                    f"Correct the figures in a revision of {year} instead."
                )
        if unchanged:
            assert previous is not None  # unchanged means there is a previous release
            release, created = previous, False
            base = Release.objects.filter(pk=previous.revises_id).first() if previous.revises_id else None
            protected = protect_publication(
                tabulation,
                policy,
                provisional=release.provisional,
                previous=base.figures if base else None,
                quarters=_quarters_released(year) if not quarter else None,
            )
        else:
            now = timezone.now()
            extract = Extract.objects.create(
                year=year,
                quarter=quarter_code,
                period_start=start,
                period_end=end,
                built_at=now,
                built_by=actor,
                policy_version=policy.version,
                mapping_version=MAPPING_VERSION,
                content_hash=digest,
                row_counts=rows.counts(),
            )
            protected = protect_publication(
                tabulation,
                policy,
                provisional=not final,
                previous=previous.figures if previous else None,
                quarters=_quarters_released(year) if not quarter else None,
            )
            release = Release.objects.create(
                extract=extract,
                year=year,
                quarter=quarter_code,
                version=previous.version + 1 if previous else 1,
                revises=previous,
                provisional=not final,
                reason=reason.strip(),
                built_at=now,
                figures=protected.released,
                suppression_ledger=protected.ledger,
            )
            created = True
            audit_record(
                actor=actor,
                action="statistics.release_build",
                object_type="statistics.release",
                object_id=str(release.uuid),
                details={
                    "period": label,
                    "version": release.version,
                    "content_hash": digest,
                    "policy_version": policy.version,
                    "rows": rows.counts(),
                    "suppressed": len(protected.ledger),
                },
            )
        info = ReleaseInfo(
            period=f"{year}-Q{quarter}" if quarter else str(year),
            period_label=label,
            start=start,
            end=end,
            version=release.version,
            built_at=release.built_at,
            policy=policy,
            content_hash=digest,
            provisional=release.provisional,
            revises=release.revises.version if release.revises is not None else None,
        )
        files: list[Path] = []
        internal = None
        if output is not None:
            # Inside the transaction: a failure to write rolls the release back, and the files are renamed into
            # place all at once, so there is never a release without its files nor files without their release.
            internal_dir = internal_output or Path(settings.VAR_DIR) / "statistics-internal"
            internal = write_internal(internal_dir, protected, info)
            files = write_publication(Path(output), tabulation.tables, protected, info)
    return Build(release, created, tabulation, protected, info, rows, files, internal)


def publication_dir() -> Path:
    """Where the pages keep each release's public files, one directory per release (named by its uuid)."""
    return Path(settings.STATISTICS_PUBLICATION_DIR)


def release_files(release: Release) -> dict[str, Path]:
    """The public files of a release as stored for the pages, by name (empty when it was built elsewhere)."""
    directory = publication_dir() / str(release.uuid)
    if not directory.is_dir():
        return {}
    return {p.name: p for p in sorted(directory.iterdir()) if p.is_file() and not p.name.startswith(".")}


def publication_build_for_pages(
    *, actor: User, year: int, quarter: int | None, revise: bool = False, reason: str = "", final: bool = False
) -> Build:
    """A statistician's build from the pages: a revision needs its reason; the files are kept with the release.

    The files are written to a fresh directory, which becomes the release's own (named by its uuid); a rebuild of
    unchanged data keeps the files the release already has.
    """
    if revise and not reason.strip():
        raise PeriodError("Say why this version revises the last one: the reason is published in its revisions notes")
    staging = publication_dir() / f".build-{uuid.uuid4()}"
    try:
        build = publication_build(
            actor=actor, year=year, quarter=quarter, revise=revise, final=final, output=staging, reason=reason
        )
        target = publication_dir() / str(build.release.uuid)
        if not target.exists():
            staging.replace(target)
            build.files = [target / p.name for p in build.files]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return build


def _quarters_released(year: int) -> list[tuple[dict, list[dict]]] | None:
    """The latest release of each quarter of the year, when all four have one: the year must not undo their suppression."""
    found = []
    for q in (1, 2, 3, 4):
        latest = Release.objects.filter(year=year, quarter=q).order_by("-version").first()
        if latest is None:
            return None
        found.append((latest.figures, latest.suppression_ledger))
    return found


def _counts(counts: dict) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())


@transaction.atomic
def release_publish(*, actor: User | None, release: Release) -> Release:
    """Make a prepared release public (contract section 7: nothing is public before a statistician publishes it).

    Only a statistician (BUILD_STATISTICS); a version that a later one revises cannot be published in its place.
    """
    if actor is None or not has_capability(actor, Capability.BUILD_STATISTICS):
        raise NotAllowed("Only a statistician can publish a release of the official statistics")
    release = Release.objects.select_for_update().get(pk=release.pk)
    if release.status == ReleaseStatus.PUBLISHED:
        return release
    later = Release.objects.filter(year=release.year, quarter=release.quarter, version__gt=release.version)
    if later.exists():
        raise ReleaseSuperseded(
            f"Version {release.version} of {release.period_label} has been revised by version "
            f"{later.order_by('-version').values_list('version', flat=True).first()}: publish that one"
        )
    release.status, release.published_at, release.published_by = ReleaseStatus.PUBLISHED, timezone.now(), actor
    release.save(update_fields=["status", "published_at", "published_by"])
    audit_record(
        actor=actor,
        action="statistics.release_publish",
        object_type="statistics.release",
        object_id=str(release.uuid),
        details={"period": release.period_label, "version": release.version},
    )
    return release
