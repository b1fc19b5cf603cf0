"""Writing referrals, drafts and Duty to Notify reports. Each service takes the acting user, runs
in one transaction and writes its audit event in it."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import cast

from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel

from opennrm.accounts.models import User
from opennrm.audit.services import AuditEntry, audit_record, audit_record_many
from opennrm.core.errors import Invalid, NotAllowed, NotFound
from opennrm.decisions.routing import RuleBook, reasonable_grounds_due, received_on, route_referral
from opennrm.policy import Capability, has_capability
from opennrm.safeguarding.guardians import guardian_request_for_new_referral, guardian_requests_for_new_referrals

from .models import DutyToNotify, Referral, ReferralDraft, Status
from .references import home_office_reference_key
from .schemas import DutyToNotifyIn, ReferralIn
from .selectors import draft_get
from .tasks import send_referral_acknowledgement
from .validation import (
    FieldError,
    duty_to_notify_answers,
    is_duty_to_notify,
    validate_duty_to_notify,
    validate_referral,
)


def _check_for_duplicates(referrals: list[Referral]) -> None:
    """Have the worker compare the new referrals with every other (ADR 0014): after this transaction commits, by
    the check task already waiting to start, or by one queued then (linkage/tasks.py says why none is missed)."""
    from opennrm.linkage.tasks import enqueue_checks

    enqueue_checks([r.pk for r in referrals])


SAFEGUARDING_IDENTITY_FIELDS = ("current_address", "phone")


def _require(actor: User, capability: Capability) -> None:
    if not has_capability(actor, capability):
        raise NotAllowed(f"Your role ({actor.role_label}) cannot {capability.value.replace('_', ' ')}")


def _organisation_id(actor: User) -> int:
    """The organisation the actor's new records belong to. A role that makes records works for one; an account without
    one is refused by the database (the column is NOT NULL), as it always was: cast for the type, not checked here."""
    return cast(int, actor.organisation_id)


def _dump(model: BaseModel | None) -> object:
    return model.model_dump(mode="json", exclude_none=True) if model is not None else None


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
        organisation_id=_organisation_id(actor),
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
        local_authority_contact=_dump(data.local_authority_contact),
        consent=_dump(data.consent),
        exploitation=[_dump(e) for e in data.exploitation],
        indicators=list(data.indicators or []),
        police=_dump(data.police),
        current_address=contact.get("current_address", ""),
        phone=contact.get("phone", ""),
    )


def _reference(prefix: str, when: dt.datetime, pk: int) -> str:
    return f"{prefix}-{received_on(when).year}-{pk:06d}"


@transaction.atomic
def referral_create(
    *, actor: User, data: ReferralIn, received_at: dt.datetime | None = None, draft: ReferralDraft | None = None
) -> Referral:
    """Store a validated referral, give it its reference and deadline, and acknowledge it."""
    _require(actor, Capability.CREATE_REFERRAL)
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
    reserved = _reserve_referral_ids(1)
    if reserved is not None:
        # PostgreSQL: the row goes in once, with its reference (see _reserve_referral_ids).
        referral.pk = reserved[0]
        referral.reference = _reference("NRM", referral.received_at, referral.pk)
        referral.save(force_insert=True)
    else:
        referral.save()
        referral.reference = _reference("NRM", referral.received_at, referral.pk)
        Referral.objects.filter(pk=referral.pk).update(reference=referral.reference)
    audit_record(
        actor=actor,
        action="referral.create",
        object_type="referral",
        object_id=str(referral.uuid),
        details={"reference": referral.reference, "via": "pages" if draft else "api"},
    )
    guardian_request_for_new_referral(referral=referral)  # a child in a covered area asks for a guardian (ADR 0009)
    _check_for_duplicates([referral])
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


def _reserve_referral_ids(count: int) -> list[int] | None:
    """On PostgreSQL, take `count` ids from the referral sequence so each row is inserted with its reference.

    Setting the reference afterwards rewrites every row and all its indexes (the reference is
    indexed, so the update cannot be HOT), which halves the import's speed there. Elsewhere: None.
    """
    connection = transaction.get_connection()
    if connection.vendor != "postgresql" or count == 0:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Referral._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy_referrals(referrals: list[Referral]) -> None:
    """Insert referrals that already have their ids with PostgreSQL's COPY: a third of the time of
    an INSERT, as Django would build it, on both sides. Each value is prepared as the ORM prepares it."""
    connection = transaction.get_connection()
    fields = Referral._meta.concrete_fields
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {qn(Referral._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for referral in referrals:
            copy.write_row([f.get_db_prep_save(f.pre_save(referral, True), connection) for f in fields])


def _set_references(referrals: list[Referral]) -> None:
    """Store the references just given to freshly inserted referrals.

    One prepared UPDATE run for every row: bulk_update's CASE expression costs more than the
    insert itself, and the import must keep above 1,000 referrals a second.
    """
    connection = transaction.get_connection()
    qn = connection.ops.quote_name
    sql = f"UPDATE {qn(Referral._meta.db_table)} SET {qn('reference')} = %s WHERE {qn('id')} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(r.reference, r.pk) for r in referrals])


@transaction.atomic
def referrals_import(*, actor: User, items: list[ImportItem]) -> ImportOutcome:
    """Store a batch of historic referrals, skipping any whose external_id this organisation already imported."""
    _require(actor, Capability.IMPORT_REFERRALS)
    existing = dict(
        Referral.objects.filter(
            organisation_id=_organisation_id(actor), external_id__in=[i.external_id for i in items]
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
    reserved = _reserve_referral_ids(len(referrals))
    if reserved is not None:
        for referral, pk in zip(referrals, reserved):
            referral.pk = pk
            referral.reference = _reference("NRM", referral.received_at, pk)
        _copy_referrals(referrals)
    else:
        Referral.objects.bulk_create(referrals, batch_size=500)
        for referral in referrals:
            referral.reference = _reference("NRM", referral.received_at, referral.pk)
        _set_references(referrals)
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
    _check_for_duplicates(referrals)
    return ImportOutcome(
        created=[(i.line_number, r.reference) for i, r in zip(fresh, referrals)], already_present=already
    )


@transaction.atomic
def duty_to_notify_create(*, actor: User, data: DutyToNotifyIn) -> DutyToNotify:
    _require(actor, Capability.NOTIFY_DUTY)
    report = DutyToNotify.objects.create(
        organisation_id=_organisation_id(actor),
        created_by=actor,
        received_at=timezone.now(),
        nation=data.nation,
        first_responder_reference=data.first_responder_reference or "",
        sex=data.sex,
        nationalities=list(data.nationalities or []),
        exploitation=[_dump(e) for e in data.exploitation],
        indicators=list(data.indicators or []),
        police=_dump(data.police),
    )
    report.reference = _reference("DTN", report.received_at, report.pk)
    DutyToNotify.objects.filter(pk=report.pk).update(reference=report.reference)
    audit_record(
        actor=actor,
        action="duty_to_notify.create",
        object_type="duty_to_notify",
        object_id=str(report.uuid),
        details={"reference": report.reference},
    )
    return report


@transaction.atomic
def draft_start(*, actor: User) -> ReferralDraft:
    _require(actor, Capability.CREATE_REFERRAL)
    draft = ReferralDraft.objects.create(owner=actor, organisation_id=_organisation_id(actor), answers={})
    audit_record(actor=actor, action="draft.create", object_type="referral_draft", object_id=str(draft.uuid))
    return draft


@transaction.atomic
def draft_save(*, actor: User, draft: ReferralDraft, answers: dict) -> ReferralDraft:
    """Keep what the user typed, valid or not: a failed page must never lose their work."""
    if draft.owner_id != actor.pk or draft.submitted_referral_id is not None:
        raise NotAllowed("This draft cannot be changed")
    draft.answers = answers
    draft.save(update_fields=["answers", "updated_at"])
    audit_record(actor=actor, action="draft.change", object_type="referral_draft", object_id=str(draft.uuid))
    return draft


@transaction.atomic
def draft_discard(*, actor: User, draft: ReferralDraft) -> None:
    # Lock the row: two concurrent discards (or Duty to Notify sends) must not both go ahead.
    locked = ReferralDraft.objects.select_for_update().filter(pk=draft.pk).first()
    if locked is None:
        raise NotFound
    draft = locked
    if draft.owner_id != actor.pk or draft.submitted_referral_id is not None:
        raise NotAllowed("This draft cannot be deleted")
    uuid = str(draft.uuid)
    draft.delete()
    audit_record(actor=actor, action="draft.delete", object_type="referral_draft", object_id=uuid)


# --- Sending a draft ------------------------------------------------------------------------------------
#
# A draft keeps the contract-shaped body answered so far under "referral" (web/journey.py fills it a page at
# a time). Sending checks that body as the API checks one, then stores what it makes.


def _draft_body(draft: ReferralDraft) -> dict:
    body = (draft.answers or {}).get("referral")
    return body if isinstance(body, dict) else {}


@transaction.atomic
def referral_send(*, actor: User, draft: ReferralDraft, now: dt.datetime | None = None) -> Referral:
    """Send the draft as a referral: its answers checked as the API checks a body (Invalid with every
    problem), then stored by referral_create, which makes one referral of a double-clicked "Send"."""
    data, problems = validate_referral(_draft_body(draft), now=now or timezone.now())
    if problems:
        raise Invalid(problems)
    assert data is not None  # validate_referral gives a body exactly when there are no problems
    return referral_create(actor=actor, data=data, draft=draft)


@transaction.atomic
def duty_to_notify_send(*, actor: User, draft_uuid: uuid.UUID | str, now: dt.datetime | None = None) -> DutyToNotify:
    """Send the draft as a Duty to Notify, made of only the answers that cannot identify the person
    (validation.duty_to_notify_answers, MSA 2015 s.52(3)), and delete the draft, which may hold identifying
    answers, in the same transaction: the report exists exactly when the draft is gone.

    NotFound when the draft is not there (a second click finds it already sent); Invalid with every
    problem when the answers do not make a Duty to Notify.
    """
    draft = draft_get(actor=actor, uuid=draft_uuid)
    body = _draft_body(draft)
    if not is_duty_to_notify(body):
        raise Invalid(
            [
                FieldError(
                    "consent.given",
                    "Only an adult who does not consent to being referred is reported through Duty to Notify: "
                    "send this draft as a referral",
                )
            ]
        )
    data, problems = validate_duty_to_notify(duty_to_notify_answers(body), now=now or timezone.now())
    if problems:
        raise Invalid(problems)
    assert data is not None  # validate_duty_to_notify gives a body exactly when there are no problems
    report = duty_to_notify_create(actor=actor, data=data)
    draft_discard(actor=actor, draft=draft)
    return report
