"""The facts of a child's safeguarding record that access depends on, told to policy.py (ADR 0009, ADR 0028).

policy.py decides who may see what; it asks these questions of the records safeguarding keeps (transfers, guardian
requests, missing episodes) through `policy.EventFacts`, registered in SafeguardingConfig.ready. Nothing here
decides: the grants, their roles, views and grace periods are policy's.
"""

import datetime as dt

from django.db import connection, models
from django.db.models import Exists, OuterRef, Q

from opennrm.policy import Grant, GrantingEvent
from opennrm.referrals.codes import local_authority_name
from opennrm.referrals.models import Referral

from .models import GuardianAllocationRequest, LocalAuthorityTransfer, MissingEpisode


def transferred_away() -> Q:
    """Referrals (the outer query's) whose child a current transfer has moved to another local authority."""
    return Q(Exists(LocalAuthorityTransfer.objects.filter(referral=OuterRef("pk"), is_current=True)))


def transferred_in(local_authority: str) -> list[int]:
    """The referrals a current transfer has moved to this local authority."""
    return list(
        LocalAuthorityTransfer.objects.filter(to_local_authority=local_authority, is_current=True).values_list(
            "referral_id", flat=True
        )
    )


def allocated_to(user_id: int) -> Q:
    """Referrals (the outer query's) whose child is allocated to this guardian."""
    return Q(Exists(GuardianAllocationRequest.objects.filter(referral=OuterRef("pk"), allocated_to_id=user_id)))


def transferred_from(local_authority: str, *, since: dt.datetime) -> list[int]:
    """The referrals of children transferred away from this local authority after `since`."""
    return sorted(
        set(
            LocalAuthorityTransfer.objects.filter(
                from_local_authority=local_authority, recorded_at__gt=since
            ).values_list("referral_id", flat=True)
        )
    )


def waiting_for_guardian(organisation_id: int, *, since: dt.datetime) -> Q:
    """Referrals (the outer query's) whose request for a guardian, made to this guardian service, waits, or was
    met after `since`."""
    waiting = GuardianAllocationRequest.objects.filter(
        Q(allocated_at__isnull=True) | Q(allocated_at__gt=since),
        referral=OuterRef("pk"),
        organisation_id=organisation_id,
    )
    return Q(Exists(waiting))


def named_for_police(organisation_id: int, *, since: dt.datetime) -> list[int]:
    """Referrals of other organisations with a missing episode naming this police force that is open, or was
    found after `since`. Asked on every read by a police first responder, so by one plain statement (ADR 0011)."""
    qn = connection.ops.quote_name
    sql = (
        f"SELECT DISTINCT e.{qn('referral_id')} FROM {qn(MissingEpisode._meta.db_table)} e "
        f"JOIN {qn(Referral._meta.db_table)} r ON r.{qn('id')} = e.{qn('referral_id')} "
        f"WHERE e.{qn('police_organisation_id')} = %s AND r.{qn('organisation_id')} <> %s "
        f"AND (e.{qn('found_at')} IS NULL OR e.{qn('found_at')} > %s) ORDER BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [organisation_id, organisation_id, since])
        return [row[0] for row in cursor.fetchall()]


def granting_events(referral_ids: list[int]) -> list[GrantingEvent]:
    """Every event of these referrals that grants an organisation access (policy.Grant), open or ended."""
    events = []
    for e in (
        MissingEpisode.objects.filter(referral_id__in=referral_ids, police_organisation__isnull=False)
        .exclude(police_organisation_id=models.F("referral__organisation_id"))
        .select_related("police_organisation")
    ):
        events.append(
            GrantingEvent(
                Grant.MISSING_EPISODE,
                e.referral_id,
                e.police_organisation.name,
                e.police_organisation_id,
                "",
                f"missing episode {e.number}",
                e.reported_at,
                e.found_at,
            )
        )
    for t in LocalAuthorityTransfer.objects.filter(referral_id__in=referral_ids):
        events.append(
            GrantingEvent(
                Grant.TRANSFER_HANDOVER,
                t.referral_id,
                local_authority_name(t.from_local_authority),
                None,
                t.from_local_authority,
                f"transfer to {local_authority_name(t.to_local_authority)}",
                t.recorded_at,
                t.recorded_at,  # the hand-over begins with the transfer; the grace period is all it lasts
            )
        )
    for r in GuardianAllocationRequest.objects.filter(
        referral_id__in=referral_ids, organisation__isnull=False
    ).select_related("organisation"):
        events.append(
            GrantingEvent(
                Grant.GUARDIAN_WAITING_LIST,
                r.referral_id,
                r.organisation.name,
                r.organisation_id,
                "",
                "request for a guardian",
                r.requested_at,
                r.allocated_at,
            )
        )
    return events
