"""The extract: the rows a publication counts, read once from the case tables and frozen (ADR 0030).

Read-only, through the domains' models (statistics reads referrals, decisions, safeguarding and linkage; none of
them reads statistics). Every table is worked out from these rows alone, never from a second query, so the
figures of one build are consistent with each other and with the extract's content hash.
"""

import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate

from opennrm.decisions.models import Decision, DecisionState
from opennrm.linkage.models import PersonLink
from opennrm.policy import CHILD_AGE_GROUPS
from opennrm.referrals.models import DutyToNotify, Referral
from opennrm.safeguarding.models import MissingEpisode

from .tables import (
    NOT_KNOWN,
    DecisionRow,
    DutyToNotifyRow,
    ExtractRows,
    MissingRow,
    ReferralRow,
    exploitation_category,
    first_responder_type,
)

LONDON = ZoneInfo("Europe/London")


def period_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """The first and last day of a calendar quarter (1 to 4), or of the calendar year (quarter 0)."""
    if quarter:
        start = dt.date(year, 3 * quarter - 2, 1)
        end_month = 3 * quarter
        end = (dt.date(year + (end_month == 12), end_month % 12 + 1, 1)) - dt.timedelta(days=1)
        return start, end
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _instant(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON)


def _person_subquery(referral_field: str = "pk"):
    return Subquery(
        PersonLink.objects.filter(referral=OuterRef(referral_field), undone_at__isnull=True).values("person_id")[:1]
    )


def _raw(queryset, chunk: int = 20000):
    """The queryset's rows as the database driver gives them, without Django's per-value converters.

    A million rows through the converters cost more than the query; the few values that need converting
    (JSON as text, and dates as text on SQLite) are converted by the loop that reads them.
    """
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(chunk):
            yield from batch


def _day(value) -> dt.date:
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _exploitation(entries) -> str:
    if isinstance(entries, str):
        entries = json.loads(entries)
    types: list[str] = []
    county_lines = False
    for entry in entries or []:
        types.extend(entry.get("types") or [])
        county_lines = county_lines or "county_lines" in (entry.get("criminal_subtypes") or [])
    return exploitation_category(types, county_lines)


def read_extract(start: dt.date, end: dt.date) -> ExtractRows:
    """Every row the publication of the days `start` to `end` (Europe/London) counts."""
    since, until = _instant(start), _instant(end + dt.timedelta(days=1))
    rows = ExtractRows()

    referrals = (
        Referral.objects.filter(received_at__gte=since, received_at__lt=until)
        # Text out of the JSON in the database (no decoding a million documents here); only the account's types whole.
        .annotate(
            person=_person_subquery(),
            sex=KT("potential_victim__sex"),
            nationality=KT("potential_victim__nationalities__0"),
            force=KT("police__force"),
        )
        .values_list(
            "id",
            "reference",
            "person",
            "age_group",
            "sex",
            "nationality",
            "nation",
            "force",
            "organisation__kind",
            "competent_authority",
            "exploitation",
        )
        .order_by("id")
    )
    for (
        pk,
        reference,
        person,
        age_group,
        sex,
        nationality,
        nation,
        force,
        kind,
        authority,
        exploitation,
    ) in _raw(referrals):
        rows.referrals.append(
            ReferralRow(
                reference or f"#{pk}",
                f"p{person}" if person else f"r{pk}",
                age_group,
                sex or "unknown",
                nationality or NOT_KNOWN,
                nation,
                " ".join(force.split()) if force and force.strip() else NOT_KNOWN,
                first_responder_type(kind),
                authority,
                _exploitation(exploitation),
            )
        )

    # The first issued decision of each stage on each referral, counted in the period it took effect (ADR 0008):
    # a positive one when made, a negative one when confirmed. Decisions that took effect after the period cannot
    # be first ones of the period, so only those before its end are read.
    decisions = (
        Decision.objects.filter(state=DecisionState.ISSUED, decided_at__lt=until)
        # London dates worked out by the database: a million conversions in Python take longer than the query.
        .annotate(
            decided_on=TruncDate("decided_at", tzinfo=LONDON),
            reviewed_on=TruncDate("reviewed_at", tzinfo=LONDON),
            received_on=TruncDate("referral__received_at", tzinfo=LONDON),
        )
        .values_list(
            "referral_id",
            "referral__reference",
            "stage",
            "outcome",
            "referral__age_group",
            "decided_on",
            "reviewed_on",
            "received_on",
        )
        .order_by("referral_id", "stage", "id")
    )
    first: dict[tuple[int, str], tuple] = {}
    # The first to take effect, by its London date; on the same day, the one recorded first.
    for row in _raw(decisions):
        referral_id, reference, stage, outcome, age_group, decided_on, reviewed_on, received_on = row
        effect_on = _day(reviewed_on if outcome == "negative" and reviewed_on is not None else decided_on)
        received_on = _day(received_on)
        key = (referral_id, stage)
        if key not in first or effect_on < first[key][2]:
            first[key] = (reference or f"#{referral_id}", outcome, effect_on, age_group, received_on)
    for (_referral_id, stage), (reference, outcome, effect_on, age_group, received_on) in sorted(first.items()):
        if start <= effect_on <= end:
            rows.decisions.append(DecisionRow(reference, stage, outcome, age_group, (effect_on - received_on).days))

    episodes = (
        MissingEpisode.objects.filter(
            missing_since__gte=since, missing_since__lt=until, referral__age_group__in=CHILD_AGE_GROUPS
        )
        .annotate(person=_person_subquery("referral_id"))
        .values_list("id", "referral_id", "person")
        .order_by("id")
    )
    for pk, referral_id, person in _raw(episodes):
        rows.missing.append(MissingRow(f"episode #{pk}", f"p{person}" if person else f"r{referral_id}"))

    notifications = (
        DutyToNotify.objects.filter(received_at__gte=since, received_at__lt=until)
        .values_list("id", "reference", "nation", "sex")
        .order_by("id")
    )
    for pk, reference, nation, sex in _raw(notifications):
        rows.duty_to_notify.append(DutyToNotifyRow(reference or f"#{pk}", nation, sex or "unknown"))
    return rows


def content_hash(rows: ExtractRows) -> str:
    """sha256 over every counted row in a canonical order: the same data counted the same way gives the same hash."""
    digest = hashlib.sha256()
    for name in ("referrals", "decisions", "missing", "duty_to_notify"):
        digest.update(name.encode())
        # Rows are read in a canonical order (by id; decisions by referral and stage), so they are hashed as read.
        # Every field is a str or an int: repr is canonical for them, and one join is faster than a million updates.
        digest.update("\n".join(map(repr, map(tuple, getattr(rows, name)))).encode())
        digest.update(b"\n")
    return digest.hexdigest()
