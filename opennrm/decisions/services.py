"""Decisions and the other moves of a referral through the statuses of contract section 4.

Each service takes the acting user, locks the referral row (so two decision makers acting on one
case at once are served one after the other, and the second finds the case already moved), checks
who may act (403 for a role that never may, 404 outside the actor's scope), checks the input (422)
and the case's state (409, with the reason), and writes its audit event in the same transaction.

A positive decision is issued at once. A negative one is proposed, and issued only when a second,
different decision maker of the same authority confirms it: the second-caseworker review that
replaced the Multi-Agency Assurance Panels in December 2022 (nrm.md 1.9).

A case in its recovery period whose end date has passed accepts a Conclusive Grounds decision
without first being moved to awaiting_conclusive_grounds; `recovery_period_end` makes that move
for the status shown (the demo; the nightly sweep uses `recovery_periods_end`, decisions/deadlines.py).
"""

import datetime as dt
import uuid as uuid_module
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.changes import stored_values
from opennrm.audit.services import AuditEntry, audit_change, audit_record, audit_record_many
from opennrm.core.errors import Invalid, NotAllowed, NotFound, Refused
from opennrm.policy import Capability, has_capability, referral_scope
from opennrm.referrals.models import OPEN_STATUSES, CompetentAuthority, Referral, Status

from .models import Decision, DecisionState, Outcome, ReconsiderationRequest, RoutingRule, Stage
from .policy_versions import guidance_on, recovery_policy_on
from .routing import LONDON, RuleBook, forget_routing_rules, panel_eligible_by_age, reasonable_grounds_due, received_on
from .tasks import decision_notification_schedule

MAX_REASONS_CHARS = 20_000
MAX_STATUS_REASON_CHARS = 2_000

# The statuses a decision at each stage may be made from.
DECISION_FROM: dict[str, set[str]] = {
    Stage.REASONABLE_GROUNDS: {Status.AWAITING_REASONABLE_GROUNDS, Status.RECONSIDERATION},
    Stage.CONCLUSIVE_GROUNDS: {Status.RECOVERY_PERIOD, Status.AWAITING_CONCLUSIVE_GROUNDS, Status.RECONSIDERATION},
}
DECISION_TO: dict[tuple[str, str], str] = {
    (Stage.REASONABLE_GROUNDS, Outcome.POSITIVE): Status.RECOVERY_PERIOD,
    (Stage.REASONABLE_GROUNDS, Outcome.NEGATIVE): Status.REASONABLE_GROUNDS_NEGATIVE,
    (Stage.CONCLUSIVE_GROUNDS, Outcome.POSITIVE): Status.CONCLUSIVE_GROUNDS_POSITIVE,
    (Stage.CONCLUSIVE_GROUNDS, Outcome.NEGATIVE): Status.CONCLUSIVE_GROUNDS_NEGATIVE,
}
NEGATIVE_STATUSES = {Status.REASONABLE_GROUNDS_NEGATIVE, Status.CONCLUSIVE_GROUNDS_NEGATIVE}


def _status_label(status: str) -> str:
    return Status(status).label.lower() if status in Status.values else status


def _day(when: dt.datetime) -> dt.date:
    return when.astimezone(LONDON).date()


def _lock(actor: User | None, referral: Referral | str | uuid_module.UUID, capability: Capability | None) -> Referral:
    """The referral, locked until the transaction ends, if the actor may act on it.

    `referral` is a Referral or its public id. `actor=None` is the system's own clock (no scope).
    """
    if actor is not None:
        assert capability is not None  # only the system's clock (actor=None) acts without a capability
        if not has_capability(actor, capability):
            raise NotAllowed(f"Your role ({actor.role_label}) cannot {capability.value.replace('_', ' ')}")
    try:
        key = {"pk": referral.pk} if isinstance(referral, Referral) else {"uuid": uuid_module.UUID(str(referral))}
    except ValueError:
        raise NotFound
    qs = Referral.objects.select_for_update()
    if actor is not None:
        scope = referral_scope(actor, capability=capability)  # an event's grant to read is no grant to act (ADR 0028)
        if scope is None:
            raise NotFound
        qs = qs.filter(scope)
    found = qs.filter(**key).first()
    if found is None:
        # Another authority's case looks the same as no case at all (contract section 1).
        raise NotFound
    return found


def _text(value: object, field: str, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid.at(field, f"Give {what}")
    if len(value) > limit:
        raise Invalid.at(field, f"Must be {limit:,} characters or fewer")
    return value


def _when(value: dt.datetime | None, field: str, *, not_before: dt.datetime, before_what: str) -> dt.datetime:
    now = timezone.now()
    value = value or now
    if value.tzinfo is None:
        raise Invalid.at(field, "Include a UTC offset")
    if value > now:
        raise Invalid.at(field, "Must not be in the future")
    if value < not_before:
        raise Invalid.at(field, f"Must not be before {before_what}")
    return value


def _pending_proposal(referral: Referral) -> Decision | None:
    return referral.decisions.filter(state=DecisionState.PROPOSED).first()


def _last_issued(referral: Referral) -> Decision | None:
    return referral.decisions.filter(state=DecisionState.ISSUED).order_by("-decided_at", "-id").first()


def _refuse_if_proposal_pending(referral: Referral) -> None:
    pending = _pending_proposal(referral)
    if pending is not None:
        raise Refused(
            f"A negative {Stage(pending.stage).label} decision proposed on {_day(pending.decided_at):%-d %B %Y} awaits a second "
            "decision maker: confirm it or send it back first"
        )


def _check_decision_order(referral: Referral, stage: str, decided_on: dt.date) -> None:
    last = _last_issued(referral)
    if referral.status == Status.RECONSIDERATION:
        if last is None or last.stage != stage:
            what = Stage(last.stage).label if last else "previous"
            raise Refused(f"The reconsideration is of the {what} decision, not of a {Stage(stage).label} decision")
        return
    if referral.status in DECISION_FROM[stage]:
        if (
            stage == Stage.CONCLUSIVE_GROUNDS
            and referral.recovery_period_ends_on
            and decided_on < referral.recovery_period_ends_on
        ):
            raise Refused(
                "The Conclusive Grounds decision cannot be made before the recovery "
                f"period ends on {referral.recovery_period_ends_on:%-d %B %Y}"
            )
        return
    if stage == Stage.REASONABLE_GROUNDS and last is not None:
        raise Refused(
            f"A Reasonable Grounds decision was already issued on {_day(last.decided_at):%-d %B %Y}; "
            f"the referral's status is {_status_label(referral.status)}"
        )
    if stage == Stage.CONCLUSIVE_GROUNDS and referral.status == Status.AWAITING_REASONABLE_GROUNDS:
        raise Refused("A Conclusive Grounds decision needs a positive Reasonable Grounds decision first")
    raise Refused(
        f"A {Stage(stage).label} decision cannot be made on a referral whose status is {_status_label(referral.status)}"
    )


def _issue(referral: Referral, decision: Decision, effective_at: dt.datetime) -> str:
    """Move the referral to the status the decision leads to; returns the status it left."""
    previous = referral.status
    referral.status = DECISION_TO[(decision.stage, decision.outcome)]
    update_fields = ["status", "updated_at"]
    if decision.stage == Stage.REASONABLE_GROUNDS and decision.outcome == Outcome.POSITIVE:
        policy = recovery_policy_on(_day(effective_at))
        referral.recovery_period_ends_on = _day(effective_at) + dt.timedelta(days=policy.recovery_period_days)
        update_fields.append("recovery_period_ends_on")
    referral.save(update_fields=update_fields)
    return previous


@transaction.atomic
def decision_record(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    stage: str,
    outcome: str,
    reasons: str,
    decided_at: dt.datetime | None = None,
) -> Decision:
    """Make a Reasonable or Conclusive Grounds decision: issued if positive, proposed if negative."""
    referral = _lock(actor, referral, Capability.MAKE_DECISION)
    if stage not in Stage.values:
        raise Invalid.at("stage", "Choose reasonable_grounds or conclusive_grounds")
    if outcome not in Outcome.values:
        raise Invalid.at("outcome", "Choose positive or negative")
    reasons = _text(reasons, "reasons", "the reasons for the decision", MAX_REASONS_CHARS)
    decided_at = _when(
        decided_at, "decided_at", not_before=referral.received_at, before_what="the referral was received"
    )
    last = referral.decisions.order_by("-decided_at", "-id").first()
    if last is not None and decided_at < last.decided_at:
        raise Invalid.at("decided_at", "Must not be before the referral's previous decision")
    _refuse_if_proposal_pending(referral)
    _check_decision_order(referral, stage, _day(decided_at))

    decided_on = _day(decided_at)
    decision = Decision.objects.create(
        referral=referral,
        stage=stage,
        outcome=outcome,
        reasons=reasons,
        competent_authority=referral.competent_authority,
        decided_by=actor,
        decided_at=decided_at,
        state=DecisionState.ISSUED if outcome == Outcome.POSITIVE else DecisionState.PROPOSED,
        policy_version=recovery_policy_on(decided_on).version,
        guidance_version=guidance_on(decided_on).version,
    )
    details = {
        "reference": referral.reference,
        "decision": str(decision.uuid),
        "stage": stage,
        "outcome": outcome,
        "state": decision.state,
        "decided_at": decided_at.isoformat(),
        "policy_version": decision.policy_version,
        "guidance_version": decision.guidance_version,
    }
    if decision.state == DecisionState.ISSUED:
        details["status_from"] = _issue(referral, decision, decided_at)
        details["status_to"] = referral.status
        decision_notification_schedule(decision)
    audit_record(
        actor=actor,
        action="decision.record" if decision.state == DecisionState.ISSUED else "decision.propose",
        object_type="referral",
        object_id=str(referral.uuid),
        details=details,
    )
    return decision


def _locked_proposal(
    actor: User, referral: Referral | str | uuid_module.UUID, decision: Decision | str | uuid_module.UUID
) -> tuple[Referral, Decision]:
    referral = _lock(actor, referral, Capability.MAKE_DECISION)
    key = decision.uuid if isinstance(decision, Decision) else decision
    try:
        found = referral.decisions.filter(uuid=uuid_module.UUID(str(key))).first()
    except ValueError:
        found = None
    if found is None:
        raise NotFound
    if found.state != DecisionState.PROPOSED:
        raise Refused(f"This decision is not awaiting review: it was {found.get_state_display().lower()}")
    if found.decided_by_id == actor.pk:
        raise Refused("A negative decision must be reviewed by a different decision maker from the one who proposed it")
    return referral, found


@transaction.atomic
def decision_confirm(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    decision: Decision | str | uuid_module.UUID,
    confirmed_at: dt.datetime | None = None,
) -> Decision:
    """A second decision maker confirms a proposed negative decision, which then takes effect."""
    referral, decision = _locked_proposal(actor, referral, decision)
    if referral.status not in DECISION_FROM[decision.stage]:
        raise Refused(f"The decision cannot take effect on a referral whose status is {_status_label(referral.status)}")
    confirmed_at = _when(
        confirmed_at, "confirmed_at", not_before=decision.decided_at, before_what="the decision was proposed"
    )
    decision.state, decision.reviewed_by, decision.reviewed_at = DecisionState.ISSUED, actor, confirmed_at
    decision.save(update_fields=["state", "reviewed_by", "reviewed_at"])
    previous = _issue(referral, decision, confirmed_at)
    decision_notification_schedule(decision)
    audit_record(
        actor=actor,
        action="decision.confirm",
        object_type="referral",
        object_id=str(referral.uuid),
        details={
            "reference": referral.reference,
            "decision": str(decision.uuid),
            "stage": decision.stage,
            "outcome": decision.outcome,
            "proposed_by": decision.decided_by.username,
            "status_from": previous,
            "status_to": referral.status,
        },
    )
    return decision


@transaction.atomic
def decision_send_back(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    decision: Decision | str | uuid_module.UUID,
    comment: str,
) -> Decision:
    """The reviewer sends a proposed negative decision back: it is closed, and the stage awaits a fresh decision."""
    referral, decision = _locked_proposal(actor, referral, decision)
    comment = _text(comment, "comment", "a comment saying why the decision is sent back", MAX_REASONS_CHARS)
    decision.state, decision.reviewed_by, decision.reviewed_at, decision.review_comment = (
        DecisionState.SENT_BACK,
        actor,
        timezone.now(),
        comment,
    )
    decision.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_comment"])
    audit_record(
        actor=actor,
        action="decision.send_back",
        object_type="referral",
        object_id=str(referral.uuid),
        details={
            "reference": referral.reference,
            "decision": str(decision.uuid),
            "stage": decision.stage,
            "comment": comment,
        },
    )
    return decision


def _status_change(actor: User, referral: Referral, status: str, action: str, details: dict) -> Referral:
    previous = referral.status
    referral.status = status
    referral.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        object_type="referral",
        object_id=str(referral.uuid),
        details={"reference": referral.reference, "status_from": previous, "status_to": status, **details},
    )
    return referral


@transaction.atomic
def reconsideration_request(
    *, actor: User, referral: Referral | str | uuid_module.UUID, grounds: str
) -> ReconsiderationRequest:
    """The referring first responder, or the child's local authority or guardian, asks for a negative decision to be looked at again."""
    referral = _lock(actor, referral, Capability.REQUEST_RECONSIDERATION)
    grounds = _text(grounds, "grounds", "the grounds for reconsideration", MAX_REASONS_CHARS)
    if referral.status not in NEGATIVE_STATUSES:
        raise Refused(
            f"Only a negative decision can be reconsidered; the referral's status is {_status_label(referral.status)}"
        )
    decision = _last_issued(referral)
    assert decision is not None  # a negative status follows an issued decision
    request = ReconsiderationRequest.objects.create(
        referral=referral, decision=decision, grounds=grounds, requested_by=actor, requested_at=timezone.now()
    )
    _status_change(
        actor,
        referral,
        Status.RECONSIDERATION,
        "referral.reconsideration_request",
        {"decision": str(decision.uuid), "stage": decision.stage, "grounds": grounds},
    )
    return request


@transaction.atomic
def referral_withdraw(*, actor: User, referral: Referral | str | uuid_module.UUID, reason: str) -> Referral:
    """An adult withdraws from the NRM (by the referring organisation or the authority holding the case)."""
    referral = _lock(actor, referral, Capability.WITHDRAW_REFERRAL)
    reason = _text(reason, "reason", "the reason for the withdrawal", MAX_STATUS_REASON_CHARS)
    if referral.is_child:
        raise Refused(
            "A child, or a person who may be a child, cannot generally withdraw from the NRM: the child's safeguarding "
            "continues, and the request should be referred to the competent authority's policy team"
        )
    if referral.status not in OPEN_STATUSES:
        raise Refused(f"A referral whose status is {_status_label(referral.status)} cannot be withdrawn")
    return _status_change(actor, referral, Status.WITHDRAWN, "referral.withdraw", {"reason": reason})


RECOVERY_PERIOD_END = "referral.recovery_period_end"


def _recovery_period_end_details(referral: Referral) -> dict:
    assert referral.recovery_period_ends_on is not None  # only a referral in its recovery period has one ending
    return {
        "reference": referral.reference,
        "status_from": Status.RECOVERY_PERIOD,
        "status_to": Status.AWAITING_CONCLUSIVE_GROUNDS,
        "recovery_period_ended_on": referral.recovery_period_ends_on.isoformat(),
    }


@transaction.atomic
def recovery_period_end(*, referral: Referral | str | uuid_module.UUID, today: dt.date | None = None) -> Referral:
    """The system's clock: a case whose recovery period has run now awaits its Conclusive Grounds decision."""
    referral = _lock(None, referral, None)
    today = today or _day(timezone.now())
    if referral.status != Status.RECOVERY_PERIOD:
        raise Refused(f"The referral is not in a recovery period: its status is {_status_label(referral.status)}")
    assert referral.recovery_period_ends_on is not None  # set with the status (_issue)
    if today < referral.recovery_period_ends_on:
        raise Refused(f"The recovery period has not ended: it ends on {referral.recovery_period_ends_on:%-d %B %Y}")
    referral.status = Status.AWAITING_CONCLUSIVE_GROUNDS
    referral.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=None,
        action=RECOVERY_PERIOD_END,
        object_type="referral",
        object_id=str(referral.uuid),
        details=_recovery_period_end_details(referral),
    )
    return referral


RECOVERY_PERIODS_PER_BATCH = 1000


def recovery_periods_end(*, today: dt.date, batch_size: int = RECOVERY_PERIODS_PER_BATCH) -> Iterator[int]:
    """The nightly sweep's part of `recovery_period_end`: every case whose recovery period has run, a batch at a time.

    Yields how many each batch moved. Each batch is one transaction that locks its rows, moves them
    and audits each case (a change of a referral is audited one event per referral, ADR 0004), so a
    crash leaves whole batches done and the next sweep does the rest. Rows another transaction holds
    (a decision being made on that case right now) are skipped and left for the next sweep; two
    sweeps at once share the work rather than move a case twice.
    """
    after_id = 0
    while True:
        with transaction.atomic():
            # Onwards from the last batch's highest id, so each batch reads on instead of re-reading from the start.
            batch = list(
                Referral.objects.select_for_update(skip_locked=True)
                .filter(status=Status.RECOVERY_PERIOD, recovery_period_ends_on__lte=today, pk__gt=after_id)
                .only("id", "uuid", "reference", "recovery_period_ends_on")
                .order_by("id")[:batch_size]
            )
            if not batch:
                return
            after_id = batch[-1].pk
            Referral.objects.filter(pk__in=[r.pk for r in batch]).update(
                status=Status.AWAITING_CONCLUSIVE_GROUNDS, updated_at=timezone.now()
            )
            audit_record_many(
                actor=None,
                entries=[
                    AuditEntry(RECOVERY_PERIOD_END, "referral", str(r.uuid), _recovery_period_end_details(r))
                    for r in batch
                ],
            )
        yield len(batch)


@transaction.atomic
def referral_reroute(
    *, actor: User, referral: Referral | str | uuid_module.UUID, competent_authority: str, reason: str
) -> Referral:
    """The authority holding a case passes it to another, with a reason; the deadline is recomputed from the original receipt."""
    referral = _lock(actor, referral, Capability.MAKE_DECISION)
    if competent_authority not in CompetentAuthority.values:
        raise Invalid.at("competent_authority", "Choose SCA, IECA or LOCAL_PANEL")
    reason = _text(reason, "reason", "the reason for re-routing", MAX_STATUS_REASON_CHARS)
    if competent_authority == referral.competent_authority:
        raise Refused(f"The {CompetentAuthority(competent_authority).label} already holds this referral")
    if referral.status not in OPEN_STATUSES:
        raise Refused(f"A referral whose status is {_status_label(referral.status)} cannot be re-routed")
    _refuse_if_proposal_pending(referral)
    rules = RuleBook.load()
    if competent_authority == CompetentAuthority.LOCAL_PANEL:
        day = received_on(referral.received_at)
        dob = (referral.potential_victim or {}).get("date_of_birth")
        eligible = panel_eligible_by_age(
            age_group=referral.age_group, date_of_birth=dt.date.fromisoformat(dob) if dob else None, received_on=day
        )
        if not (referral.local_authority and rules.pilot_area(referral.local_authority, day) and eligible):
            raise Refused(
                "A local panel decides only for a child more than 100 days from "
                "18 whose local authority was a pilot area on the day of referral"
            )
    previous = referral.competent_authority
    referral.competent_authority = competent_authority
    referral.reasonable_grounds_due = reasonable_grounds_due(
        received_at=referral.received_at,
        nation=referral.nation,
        competent_authority=competent_authority,
        local_authority=referral.local_authority,
        rules=rules,
    )
    referral.save(update_fields=["competent_authority", "reasonable_grounds_due", "updated_at"])
    audit_record(
        actor=actor,
        action="referral.reroute",
        object_type="referral",
        object_id=str(referral.uuid),
        details={
            "reference": referral.reference,
            "from": previous,
            "to": competent_authority,
            "reason": reason,
            "reasonable_grounds_due": referral.reasonable_grounds_due.isoformat(),
        },
    )
    return referral


@transaction.atomic
def routing_rule_save(*, actor: User | None, rule: RoutingRule) -> RoutingRule:
    """Create or change a routing rule (administrators only), audited with what it said before and after."""
    if actor is not None and not has_capability(actor, Capability.MANAGE_ROUTING):
        raise NotAllowed("Only an administrator can change the routing rules")
    before = stored_values(rule)
    try:
        rule.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise Invalid.at(field, messages[0])
    rule.save()
    transaction.on_commit(forget_routing_rules)
    audit_change(actor=actor, instance=rule, before=before)
    return rule
