"""Linking referrals to the person behind them (ADR 0014). Each service takes the acting user, runs in one
transaction and writes its audit event in it; nothing is deleted or overwritten, so every step can be undone.

- `referrals_check_on_arrival` / `referrals_check_unchecked`: the worker's check of new referrals: possible matches
  to the review queue, the same Home Office reference linked automatically and flagged for a person to check.
- `candidate_confirm` / `candidate_reject` / `candidate_undo`: a person's decision on a possible match, and undoing it.
- `person_link_undo`: take one referral off a person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.services import audit_record
from opennrm.core.errors import Invalid, NotAllowed, NotFound, Refused
from opennrm.policy import Capability, has_capability, linkage_scope
from opennrm.referrals.models import Referral

from . import arrival
from .engine import Match
from .models import (
    ArrivalCheck,
    Band,
    CandidateDecision,
    CandidateStatus,
    DecisionAction,
    LinkMethod,
    MatchCandidate,
    Person,
    PersonLink,
)
from .selectors import current_person_link

MAX_REASON = 2000
OPEN_STATUSES = (CandidateStatus.OPEN, CandidateStatus.AUTO_LINKED)


# --- On arrival --------------------------------------------------------------------------------


def _unchecked() -> QuerySet[Referral]:
    # NOT EXISTS, not NOT IN: PostgreSQL makes it an anti-join that probes ArrivalCheck's key for the referrals in
    # range, where NOT IN (a subquery) hashes the whole of ArrivalCheck on every call.
    return Referral.objects.filter(~Exists(ArrivalCheck.objects.filter(referral_id=OuterRef("pk"))))


def referrals_check_on_arrival(*, referral_ids: list[int] | None = None) -> int:
    """Compare each of these referrals (default: every one) not yet checked with every other, oldest first; returns
    how many were checked. (The worker's task and `opennrm check-duplicates` use `referrals_check_unchecked`, below.)

    The comparisons are made for the whole batch at once (engine.Index.query_many); then one transaction per
    referral: its check mark, its possible matches and automatic links, and their audit.
    """
    unchecked = _unchecked()
    if referral_ids is not None:
        unchecked = unchecked.filter(pk__in=referral_ids)
    return _check_batch(list(unchecked.order_by("pk")))


def referrals_check_unchecked(
    *,
    from_id: int | None = None,
    made_since: dt.datetime | None = None,
    batch: int,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Check every referral without an `ArrivalCheck` (from the id `from_id` on; made since `made_since`), `batch`
    at a time, oldest first, until a batch finds fewer than `batch` left; returns how many were checked.
    `progress(checked so far)` is called after each batch.

    So every referral committed before the first batch was read is checked, whatever order the referrals committed in
    (the waiting task relies on this, tasks.py). One that commits after its batch was read has a task of its own.
    """
    unchecked = _unchecked()
    if made_since is not None:
        unchecked = unchecked.filter(created_at__gte=made_since)
    checked, after = 0, (from_id - 1 if from_id is not None else None)
    while True:
        page = unchecked if after is None else unchecked.filter(pk__gt=after)
        referrals = list(page.order_by("pk")[:batch])
        checked += _check_batch(referrals)
        if progress:
            progress(checked)
        if len(referrals) < batch:
            return checked
        after = referrals[-1].pk  # the ones below that were all read; one committing there now has its own task


def _check_batch(referrals: list[Referral]) -> int:
    if not referrals:
        return 0
    checked = 0
    with arrival.process_index.covering([r.pk for r in referrals]) as index:
        rows = [arrival.referral_row(r) for r in referrals]
        for referral, row, matches in zip(referrals, rows, index.query_many(rows), strict=True):
            try:
                _check_one(referral, row, matches, index)
                checked += 1
            except IntegrityError:
                continue  # another worker checked it meanwhile
    return checked


@transaction.atomic
def _check_one(referral: Referral, row: dict[str, str], matches: list[Match], index: arrival.GrowingIndex) -> None:
    pk = referral.pk
    now = timezone.now()
    ArrivalCheck.objects.create(referral=referral, checked_at=now)
    found: dict[int, tuple[float, str, list[dict]]] = {}
    for match in matches:
        other = int(match.record_id)
        if other != pk:
            found[other] = (
                match.score,
                Band.STRONG if match.decision == "auto" else Band.POSSIBLE,
                arrival.match_evidence(match),
            )
    same_reference = []
    if referral.home_office_reference_key:
        # The stored key (referrals/references.py): "ho-demo-1005" and "HO DEMO 1005" are one reference.
        same_reference = list(
            Referral.objects.filter(home_office_reference_key=referral.home_office_reference_key)
            .exclude(pk=pk)
            .values_list("pk", flat=True)
        )
    made = 0
    for other in sorted(set(found) | set(same_reference)):
        newer, earlier = max(pk, other), min(pk, other)  # one candidate per pair, whichever referral found it
        if MatchCandidate.objects.filter(referral_id=newer, earlier_id=earlier).exists():
            continue
        if other in same_reference:
            score, evidence = arrival.pair_evidence(row, arrival.referral_row(Referral.objects.get(pk=other)), index)
            evidence.insert(
                0, {"field": "home_office_reference", "label": "Home Office reference: the same", "weight": None}
            )
            candidate = MatchCandidate.objects.create(
                referral_id=newer,
                earlier_id=earlier,
                score=max(score, found.get(other, (score,))[0]),
                band=Band.CERTAIN,
                evidence=evidence,
                found_at=now,
            )
            _auto_link(candidate, now=now)
        else:
            score, band, evidence = found[other]
            candidate = MatchCandidate.objects.create(
                referral_id=newer, earlier_id=earlier, score=score, band=band, evidence=evidence, found_at=now
            )
            audit_record(
                actor=None,
                action="linkage.candidate_found",
                object_type="match_candidate",
                object_id=str(candidate.uuid),
                details={"referral": str(referral.uuid), "score": round(score, 2), "band": band},
            )
        made += 1
    if made:
        ArrivalCheck.objects.filter(referral=referral).update(candidates=made)


def _auto_link(candidate: MatchCandidate, *, now: dt.datetime) -> None:
    """Link the pair to one person, flagged for a person to check; if each is already someone else, leave it to a person."""
    try:
        person = _link_pair(candidate, method=LinkMethod.AUTOMATIC, actor=None, now=now)
    except Refused:
        audit_record(
            actor=None,
            action="linkage.candidate_found",
            object_type="match_candidate",
            object_id=str(candidate.uuid),
            details={
                "band": candidate.band,
                "automatic_link": "not made: the referrals are linked to different people",
            },
        )
        return
    candidate.status = CandidateStatus.AUTO_LINKED
    candidate.save(update_fields=["status"])
    audit_record(
        actor=None,
        action="linkage.auto_link",
        object_type="match_candidate",
        object_id=str(candidate.uuid),
        details={"person": str(person.uuid), "reason": "the same Home Office reference"},
    )


def _link_pair(candidate: MatchCandidate, *, method: str, actor: User | None, now: dt.datetime) -> Person:
    """Both referrals on one person: the one either is already linked to, or a new one."""
    a, b = current_person_link(referral_id=candidate.earlier_id), current_person_link(referral_id=candidate.referral_id)
    if a and b and a.person_id != b.person_id:
        raise Refused(
            "These referrals are already linked to two different people: unlink one of them from its person first"
        )
    linked = a or b
    person = linked.person if linked else Person.objects.create()
    for referral_id, link in ((candidate.earlier_id, a), (candidate.referral_id, b)):
        if link is None:
            PersonLink.objects.create(
                person=person, referral_id=referral_id, method=method, candidate=candidate, made_by=actor, made_at=now
            )
    return person


def _unlink_candidate_links(candidate: MatchCandidate, *, actor: User, now: dt.datetime, reason: str) -> int:
    return PersonLink.objects.filter(candidate=candidate, undone_at__isnull=True).update(
        undone_at=now, undone_by=actor, undo_reason=reason
    )


# --- A person's decisions ------------------------------------------------------------------------


def _clean_reason(reason: object) -> str:
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise Invalid.at("reason", "Give a reason: say what makes you sure, for whoever reads this record next")
    if len(reason) > MAX_REASON:
        raise Invalid.at("reason", f"Shorten the reason to {MAX_REASON:,} characters or fewer")
    return reason


def _locked_candidate(actor: User, candidate: MatchCandidate) -> MatchCandidate:
    """The candidate, locked, if the actor may decide on it: 403 for a role that never may, 404 outside their scope."""
    if not has_capability(actor, Capability.LINK_RECORDS):
        raise NotAllowed(f"Your role ({actor.role_label}) cannot link records")
    locked = MatchCandidate.objects.select_for_update().filter(pk=candidate.pk).first()
    scope = linkage_scope(actor)
    if locked is None or scope is None:
        raise NotFound
    if scope and Referral.objects.filter(scope, pk__in=[locked.referral_id, locked.earlier_id]).count() < 2:
        raise NotFound
    return locked


def _open_for_decision(actor: User, candidate: MatchCandidate, reason: str) -> tuple[MatchCandidate, str]:
    """The candidate, locked, and the reason cleaned, if it still waits for a decision (open, or linked automatically
    and flagged)."""
    candidate = _locked_candidate(actor, candidate)
    reason = _clean_reason(reason)
    if candidate.status not in OPEN_STATUSES:
        raise Refused(
            f"This possible match has already been decided ({candidate.get_status_display().lower()}): undo that decision first"
        )
    return candidate, reason


def _decide(
    candidate: MatchCandidate,
    *,
    actor: User,
    action: str,
    reason: str,
    now: dt.datetime,
    status: str,
    decided_at: dt.datetime | None,
) -> CandidateDecision:
    """Record the decision (with the status it leaves behind, for undo) and move the candidate to `status`."""
    decision = CandidateDecision.objects.create(
        candidate=candidate,
        action=action,
        status_before=candidate.status,
        reason=reason,
        decided_by=actor,
        decided_at=now,
    )
    candidate.status, candidate.decided_at = status, decided_at
    candidate.save(update_fields=["status", "decided_at"])
    return decision


@transaction.atomic
def candidate_confirm(*, actor: User, candidate: MatchCandidate, reason: str) -> Person:
    """The same child: link both referrals to one person (an automatic link is kept, and no longer flagged)."""
    candidate, reason = _open_for_decision(actor, candidate, reason)
    now = timezone.now()
    if candidate.status == CandidateStatus.OPEN:
        person = _link_pair(candidate, method=LinkMethod.CONFIRMED, actor=actor, now=now)
    else:
        link = current_person_link(referral_id=candidate.referral_id)
        assert link is not None  # not open: linked automatically, and the link is kept
        person = link.person
    _decide(
        candidate,
        actor=actor,
        action=DecisionAction.CONFIRM,
        reason=reason,
        now=now,
        status=CandidateStatus.CONFIRMED,
        decided_at=now,
    )
    audit_record(
        actor=actor,
        action="linkage.confirm",
        object_type="match_candidate",
        object_id=str(candidate.uuid),
        details={"person": str(person.uuid), "reason": reason},
    )
    return person


@transaction.atomic
def candidate_reject(*, actor: User, candidate: MatchCandidate, reason: str) -> MatchCandidate:
    """Different children: the match leaves the queue; an automatic link it made is undone."""
    candidate, reason = _open_for_decision(actor, candidate, reason)
    now = timezone.now()
    unlinked = (
        _unlink_candidate_links(candidate, actor=actor, now=now, reason=reason)
        if candidate.status == CandidateStatus.AUTO_LINKED
        else 0
    )
    _decide(
        candidate,
        actor=actor,
        action=DecisionAction.REJECT,
        reason=reason,
        now=now,
        status=CandidateStatus.REJECTED,
        decided_at=now,
    )
    audit_record(
        actor=actor,
        action="linkage.reject",
        object_type="match_candidate",
        object_id=str(candidate.uuid),
        details={"reason": reason, "links_undone": unlinked},
    )
    return candidate


@transaction.atomic
def candidate_undo(*, actor: User, candidate: MatchCandidate, reason: str) -> MatchCandidate:
    """Undo the last decision on a possible match: the links it made are undone (or those it undid made again), and
    the match is back in the queue as it was."""
    candidate = _locked_candidate(actor, candidate)
    reason = _clean_reason(reason)
    last = candidate.decisions.order_by("-decided_at", "-pk").first()
    if last is None or last.action == DecisionAction.UNDO or candidate.status in OPEN_STATUSES:
        raise Refused("There is no decision on this possible match to undo")
    now = timezone.now()
    relinked = unlinked = 0
    if last.action == DecisionAction.CONFIRM and last.status_before == CandidateStatus.OPEN:
        unlinked = _unlink_candidate_links(candidate, actor=actor, now=now, reason=reason)
    elif last.action == DecisionAction.REJECT and last.status_before == CandidateStatus.AUTO_LINKED:
        _link_pair(candidate, method=LinkMethod.AUTOMATIC, actor=actor, now=now)
        relinked = 1
    _decide(
        candidate,
        actor=actor,
        action=DecisionAction.UNDO,
        reason=reason,
        now=now,
        status=last.status_before,
        decided_at=None,
    )
    audit_record(
        actor=actor,
        action="linkage.undo",
        object_type="match_candidate",
        object_id=str(candidate.uuid),
        details={"undid": last.action, "reason": reason, "links_undone": unlinked, "relinked": bool(relinked)},
    )
    return candidate


@transaction.atomic
def person_link_undo(*, actor: User, person: Person, referral: Referral, reason: str) -> PersonLink:
    """Take one referral off a person. The possible matches that linked it go back to the queue, to be decided again."""
    if not has_capability(actor, Capability.LINK_RECORDS):
        raise NotAllowed(f"Your role ({actor.role_label}) cannot link records")
    scope = linkage_scope(actor)
    if scope is None or (scope and not Referral.objects.filter(scope, pk=referral.pk).exists()):
        raise NotFound
    link = (
        PersonLink.objects.select_for_update().filter(person=person, referral=referral, undone_at__isnull=True).first()
    )
    reason = _clean_reason(reason)
    if link is None:
        raise Refused("This referral is no longer linked to this person")
    now = timezone.now()
    link.undone_at, link.undone_by, link.undo_reason = now, actor, reason
    link.save(update_fields=["undone_at", "undone_by", "undo_reason"])
    others = list(
        PersonLink.objects.filter(person=person, undone_at__isnull=True).values_list("referral_id", flat=True)
    )
    reopened = MatchCandidate.objects.select_for_update().filter(
        Q(referral=referral, earlier_id__in=others) | Q(earlier=referral, referral_id__in=others),
        status__in=[CandidateStatus.CONFIRMED, CandidateStatus.AUTO_LINKED],
    )
    for candidate in reopened:
        _decide(
            candidate,
            actor=actor,
            action=DecisionAction.UNDO,
            reason=reason,
            now=now,
            status=CandidateStatus.OPEN,
            decided_at=None,
        )
    audit_record(
        actor=actor,
        action="linkage.unlink",
        object_type="person",
        object_id=str(person.uuid),
        details={"referral": str(referral.uuid), "reason": reason},
    )
    return link
