"""Receiving referrals: each is stored with its reference (referrals), routed to its competent authority with its
Reasonable Grounds deadline (decisions/routing.py), a guardian asked for where a child's area is covered
(safeguarding/guardians.py) and checked for duplicates (linkage/tasks.py), all in one transaction with its audit
event. The composition of the domains lives here so that none of them imports another above it."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.services import AuditEntry, audit_record, audit_record_many
from opennrm.core.errors import Invalid, NotAllowed
from opennrm.decisions.routing import RuleBook, reasonable_grounds_due, received_on, route_referral
from opennrm.linkage.tasks import enqueue_checks
from opennrm.policy import Capability
from opennrm.referrals.models import Referral, ReferralDraft, Status
from opennrm.referrals.references import home_office_reference_key, referral_reference
from opennrm.referrals.schemas import ReferralIn
from opennrm.referrals.services import draft_body, dump_schema, organisation_id_of, require_capability
from opennrm.referrals.storage import copy_referrals, reserve_referral_ids, set_references
from opennrm.referrals.tasks import send_referral_acknowledgement
from opennrm.referrals.validation import validate_referral
from opennrm.safeguarding.guardians import guardian_request_for_new_referral, guardian_requests_for_new_referrals

# The parts of the potential victim's details kept in the safeguarding compartment's own columns.
SAFEGUARDING_IDENTITY_FIELDS = ("current_address", "phone")


def _build_referral(
    *, actor: User, data: ReferralIn, received_at: dt.datetime, external_id: str | None, rules: RuleBook | None = None
) -> Referral:
    pv = data.potential_victim.model_dump(mode="json", exclude_none=True)
    contact = {key: pv.pop(key) for key in SAFEGUARDING_IDENTITY_FIELDS if key in pv}
    la_code = data.local_authority_contact.local_authority if data.local_authority_contact else ""
    rules = rules or RuleBook.current()
    authority = route_referral(
        nation=data.nation,
        age_group=data.potential_victim.age_group,
        local_authority=la_code,
        date_of_birth=data.potential_victim.date_of_birth,
        received_on=received_on(received_at),
        immigration_detention=bool(data.potential_victim.immigration_detention),
        removal_action=bool(data.potential_victim.removal_action),
        rules=rules,
    )
    return Referral(
        organisation_id=organisation_id_of(actor),
        created_by=actor,
        external_id=external_id,
        nation=data.nation,
        status=Status.AWAITING_REASONABLE_GROUNDS,
        competent_authority=authority,
        received_at=received_at,
        reasonable_grounds_due=reasonable_grounds_due(
            received_at=received_at,
            nation=data.nation,
            competent_authority=authority,
            local_authority=la_code,
            rules=rules,
        ),
        age_group=data.potential_victim.age_group,
        local_authority=la_code,
        home_office_reference=data.potential_victim.home_office_reference or "",
        home_office_reference_key=home_office_reference_key(data.potential_victim.home_office_reference),
        first_responder_reference=data.first_responder_reference or "",
        potential_victim=pv,
        local_authority_contact=dump_schema(data.local_authority_contact),
        consent=dump_schema(data.consent),
        exploitation=[dump_schema(e) for e in data.exploitation],
        indicators=list(data.indicators or []),
        police=dump_schema(data.police),
        current_address=contact.get("current_address", ""),
        phone=contact.get("phone", ""),
    )


@transaction.atomic
def referral_create(
    *, actor: User, data: ReferralIn, received_at: dt.datetime | None = None, draft: ReferralDraft | None = None
) -> Referral:
    """Store a validated referral, give it its reference and deadline, and acknowledge it."""
    require_capability(actor, Capability.CREATE_REFERRAL)
    if draft is not None:
        # Lock the draft so a double-clicked "Submit" creates one referral, not two.
        # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the outer join to the referral.
        draft = (
            ReferralDraft.objects.select_for_update(of=("self",)).select_related("submitted_referral").get(pk=draft.pk)
        )
        if draft.owner_id != actor.pk:
            raise NotAllowed("This draft belongs to someone else")
        if draft.submitted_referral is not None:
            return draft.submitted_referral
    referral = _build_referral(actor=actor, data=data, received_at=received_at or timezone.now(), external_id=None)
    reserved = reserve_referral_ids(1)
    if reserved is not None:
        # PostgreSQL: the row goes in once, with its reference (see reserve_referral_ids).
        referral.pk = reserved[0]
        referral.reference = referral_reference("NRM", referral.received_at, referral.pk)
        referral.save(force_insert=True)
    else:
        referral.save()
        referral.reference = referral_reference("NRM", referral.received_at, referral.pk)
        Referral.objects.filter(pk=referral.pk).update(reference=referral.reference)
    audit_record(
        actor=actor,
        action="referral.create",
        object_type="referral",
        object_id=str(referral.uuid),
        details={"reference": referral.reference, "via": "pages" if draft else "api"},
    )
    guardian_request_for_new_referral(referral=referral)  # a child in a covered area asks for a guardian (ADR 0009)
    # Duplicate detection (ADR 0014): after this transaction commits, by the check task already waiting to start, or
    # by one queued then (linkage/tasks.py says why none is missed).
    enqueue_checks([referral.pk])
    if draft is not None:
        draft.submitted_referral = referral
        draft.save(update_fields=["submitted_referral", "updated_at"])
    if draft is not None:
        # A person who referred through the pages gets the reference by email too; an API client has it
        # in the response. Queued in the same transaction (the task is a row in this database): the
        # acknowledgement exists exactly when the referral does, and the worker sees it after the commit.
        send_referral_acknowledgement.enqueue(referral_id=referral.pk)
    return referral


@dataclass(frozen=True)
class ImportItem:
    line_number: int
    external_id: str
    received_at: dt.datetime
    data: ReferralIn


@dataclass(frozen=True)
class ImportOutcome:
    # (line number, reference): a reference is null in the database only until its referral's insert sets it.
    created: list[tuple[int, str | None]]
    already_present: list[tuple[int, str | None]]


@transaction.atomic
def referrals_import(*, actor: User, items: list[ImportItem]) -> ImportOutcome:
    """Store a batch of historic referrals, skipping any whose external_id this organisation already imported."""
    require_capability(actor, Capability.IMPORT_REFERRALS)
    existing = dict(
        Referral.objects.filter(
            organisation_id=organisation_id_of(actor), external_id__in=[i.external_id for i in items]
        ).values_list("external_id", "reference")
    )
    fresh: list[ImportItem] = []
    seen: set[str] = set()
    already = []
    for item in items:
        if item.external_id in existing or item.external_id in seen:
            already.append((item.line_number, existing.get(item.external_id, "")))
            continue
        seen.add(item.external_id)
        fresh.append(item)
    rules = RuleBook.load()
    referrals = [
        _build_referral(actor=actor, data=i.data, received_at=i.received_at, external_id=i.external_id, rules=rules)
        for i in fresh
    ]
    reserved = reserve_referral_ids(len(referrals))
    if reserved is not None:
        for referral, pk in zip(referrals, reserved):
            referral.pk = pk
            referral.reference = referral_reference("NRM", referral.received_at, pk)
        copy_referrals(referrals)
    else:
        Referral.objects.bulk_create(referrals, batch_size=500)
        for referral in referrals:
            referral.reference = referral_reference("NRM", referral.received_at, referral.pk)
        set_references(referrals)
    audit_record_many(
        actor=actor,
        entries=[
            AuditEntry(
                "referral.import", "referral", str(r.uuid), {"reference": r.reference, "external_id": r.external_id}
            )
            for r in referrals
        ],
    )
    guardian_requests_for_new_referrals(referrals=referrals)
    enqueue_checks([r.pk for r in referrals])
    return ImportOutcome(
        created=[(i.line_number, r.reference) for i, r in zip(fresh, referrals)], already_present=already
    )


@transaction.atomic
def referral_send(*, actor: User, draft: ReferralDraft, now: dt.datetime | None = None) -> Referral:
    """Send the draft as a referral: its answers checked as the API checks a body (Invalid with every
    problem), then stored by referral_create, which makes one referral of a double-clicked "Send"."""
    data, problems = validate_referral(draft_body(draft), now=now or timezone.now())
    if problems:
        raise Invalid(problems)
    assert data is not None  # validate_referral gives a body exactly when there are no problems
    return referral_create(actor=actor, data=data, draft=draft)
