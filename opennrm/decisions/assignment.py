"""Who holds a case: assigning open cases to a team and a decision maker of the authority holding them.

A case is held by a team, by a decision maker, by both (the usual: a person within their team) or
by nobody yet. Any decision maker may assign the cases of their own authority, including taking a
case themselves; the assignee must be an active decision maker of the same organisation who may
see the case, and the team one of that organisation's. Closed cases are not assigned (409).

Bulk assignment is all or nothing: every case is checked first, and if any is refused nothing
changes and every refusal is reported, by its position in the request.
"""

import uuid as uuid_module
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opennrm.accounts.models import Team, User
from opennrm.audit.services import AuditEntry, audit_record_many
from opennrm.core.errors import Invalid, NotAllowed, NotFound, Refused
from opennrm.policy import Capability, has_capability, referral_scope
from opennrm.referrals.models import OPEN_STATUSES, Referral, Status

MAX_BULK = 200  # cases in one bulk assignment: a page of the queue is 25, the API's page 100 at most


@dataclass(frozen=True)
class CaseRefusal:
    """Why one case of a bulk assignment was refused: `index` is its position in the request."""

    index: int
    referral_id: str
    status: int  # 404 or 409, as a single assignment would answer
    message: str


class BulkAssignmentRefused(Refused):
    """Some cases of a bulk assignment were refused, so none was assigned."""

    def __init__(self, refusals: list[CaseRefusal]):
        super().__init__(f"{len(refusals)} of the cases cannot be assigned; nothing was assigned")
        self.refusals = refusals


def _require_decision_maker(actor) -> None:
    if not has_capability(actor, Capability.MAKE_DECISION):
        raise NotAllowed(f"Your role ({actor.role_label}) cannot assign cases")


def assignable_people(*, actor):
    """The decision makers of the actor's organisation a case may be assigned to."""
    if not has_capability(actor, Capability.MAKE_DECISION):
        return User.objects.none()
    roles = [actor.role]
    return User.objects.filter(organisation_id=actor.organisation_id, role__in=roles, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def assignable_teams(*, actor):
    if not has_capability(actor, Capability.MAKE_DECISION):
        return Team.objects.none()
    return Team.objects.filter(organisation_id=actor.organisation_id).order_by("name")


def _resolve_target(actor, assignee, team) -> tuple[User | None, Team | None]:
    """The decision maker and team to assign to, checked against the actor's organisation (422 naming the field)."""
    person = None
    if assignee is not None:
        if isinstance(assignee, User):
            person = assignee
        else:
            person = User.objects.filter(username=str(assignee)).first()
        if person is None or not person.is_active or person.organisation_id != actor.organisation_id:
            raise Invalid.at("assigned_to", "Choose an active decision maker of your own authority")
        if person.role != actor.role or not has_capability(person, Capability.MAKE_DECISION):
            raise Invalid.at("assigned_to", f"{person.username} is not a decision maker of your authority")
    chosen_team = None
    if team is not None:
        if isinstance(team, Team):
            chosen_team = team
        else:
            try:
                chosen_team = Team.objects.filter(pk=int(team)).first()
            except (TypeError, ValueError):
                chosen_team = None
        if chosen_team is None or chosen_team.organisation_id != actor.organisation_id:
            raise Invalid.at("team", "Choose a team of your own authority")
    if person is not None and chosen_team is None:
        chosen_team = person.team  # a case given to a person sits in their team's queue too
    elif person is not None and person.team_id != chosen_team.pk and chosen_team.manager_id != person.pk:
        raise Invalid.at("assigned_to", f"{person.username} is not a member of {chosen_team.name}")
    return person, chosen_team


def _key(referral) -> dict:
    if isinstance(referral, Referral):
        return {"pk": referral.pk}
    return {"uuid": uuid_module.UUID(str(referral))}


def _refusal(referral: Referral | None, assignee: User | None) -> tuple[int, str] | None:
    if referral is None:
        return 404, "Not found"
    if referral.status not in OPEN_STATUSES:
        return (
            409,
            f"{referral.reference} is closed ({Status(referral.status).label.lower()}): only open cases are assigned",
        )
    if (
        assignee is not None
        and not Referral.objects.filter(referral_scope(assignee) or Q(pk__in=[]), pk=referral.pk).exists()
    ):
        return 409, f"{referral.reference} is not among the cases {assignee.username} may see"
    return None


def _apply(actor, referrals: list[Referral], person: User | None, team: Team | None) -> list[Referral]:
    now = timezone.now()
    entries = []
    for referral in referrals:
        before = (referral.assigned_to.username if referral.assigned_to else None, referral.assigned_team_id)
        referral.assigned_to, referral.assigned_team, referral.assigned_at = person, team, now
        referral.save(update_fields=["assigned_to", "assigned_team", "assigned_at", "updated_at"])
        entries.append(
            AuditEntry(
                "referral.assign",
                "referral",
                str(referral.uuid),
                {
                    "reference": referral.reference,
                    "assigned_to_from": before[0],
                    "team_from": before[1],
                    "assigned_to": person.username if person else None,
                    "team": team.pk if team else None,
                },
            )
        )
    audit_record_many(actor=actor, entries=entries)
    return referrals


def _locked(actor, keys: list) -> list[Referral | None]:
    """The cases asked for, locked, in the order asked; None for one outside the actor's scope or not an id."""
    scope = referral_scope(actor)
    parsed = []
    for key in keys:
        try:
            parsed.append(_key(key))
        except (ValueError, TypeError, AttributeError):
            parsed.append(None)
    if scope is None:
        return [None] * len(keys)
    pks = [k["pk"] for k in parsed if k and "pk" in k]
    uuids = [k["uuid"] for k in parsed if k and "uuid" in k]
    # One statement, in id order, so two bulk assignments over the same cases lock them in the same order.
    found = list(
        Referral.objects.select_for_update(of=("self",))
        .select_related("assigned_to")
        .filter(scope)
        .filter(Q(pk__in=pks) | Q(uuid__in=uuids))
        .order_by("pk")
    )
    by_pk, by_uuid = {r.pk: r for r in found}, {r.uuid: r for r in found}
    return [None if k is None else by_pk.get(k["pk"]) if "pk" in k else by_uuid.get(k["uuid"]) for k in parsed]


@transaction.atomic
def case_assign(*, actor, referral, assigned_to=None, team=None) -> Referral:
    """Assign one open case to a decision maker and/or team of the actor's authority; neither given unassigns it."""
    _require_decision_maker(actor)
    (found,) = _locked(actor, [referral])
    if found is None:
        raise NotFound
    person, chosen_team = _resolve_target(actor, assigned_to, team)
    refused = _refusal(found, person)
    if refused is not None:
        raise Refused(refused[1])
    return _apply(actor, [found], person, chosen_team)[0]


@transaction.atomic
def cases_assign(*, actor, referrals: list, assigned_to=None, team=None) -> list[Referral]:
    """Assign many open cases at once, all or nothing (BulkAssignmentRefused lists every case refused)."""
    _require_decision_maker(actor)
    if not referrals:
        raise Invalid.at("referrals", "Choose at least one case")
    if len(referrals) > MAX_BULK:
        raise Invalid.at("referrals", f"Assign at most {MAX_BULK} cases at once")
    if len(set(map(str, referrals))) != len(referrals):
        raise Invalid.at("referrals", "Each case may be listed once")
    person, chosen_team = _resolve_target(actor, assigned_to, team)
    found = _locked(actor, referrals)
    refusals = []
    for index, (key, referral) in enumerate(zip(referrals, found)):
        refused = _refusal(referral, person)
        if refused is not None:
            shown = str(referral.uuid) if referral is not None else str(key)[:64]
            refusals.append(CaseRefusal(index, shown, *refused))
    if refusals:
        raise BulkAssignmentRefused(refusals)
    return _apply(actor, found, person, chosen_team)
