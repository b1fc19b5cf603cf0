"""Writing referrals, drafts and Duty to Notify reports. Each service takes the acting user, runs
in one transaction and writes its audit event in it."""

import datetime as dt
import uuid
from typing import cast

from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel

from opennrm.accounts.models import User
from opennrm.audit.services import audit_record
from opennrm.core.errors import Invalid, NotAllowed, NotFound
from opennrm.policy import Capability, has_capability

from .models import DutyToNotify, ReferralDraft
from .references import referral_reference
from .schemas import DutyToNotifyIn
from .selectors import draft_get
from .validation import (
    FieldError,
    duty_to_notify_answers,
    is_duty_to_notify,
    validate_duty_to_notify,
)

# Submitting a referral (stored, routed, a guardian requested, duplicates checked) is composed above the case
# domains: cases/services.py referral_create and referrals_import.


def require_capability(actor: User, capability: Capability) -> None:
    """Raise NotAllowed unless the actor's role holds the capability."""
    if not has_capability(actor, capability):
        raise NotAllowed(f"Your role ({actor.role_label}) cannot {capability.value.replace('_', ' ')}")


def dump_schema(model: BaseModel | None) -> object:
    """A submitted part (a pydantic schema) as stored: JSON, without the empty fields."""
    return model.model_dump(mode="json", exclude_none=True) if model is not None else None


def organisation_id_of(actor: User) -> int:
    """The organisation the actor's new records belong to. A role that makes records works for one; an account without
    one is refused by the database (the column is NOT NULL), as it always was: cast for the type, not checked here."""
    return cast(int, actor.organisation_id)


@transaction.atomic
def duty_to_notify_create(*, actor: User, data: DutyToNotifyIn) -> DutyToNotify:
    require_capability(actor, Capability.NOTIFY_DUTY)
    report = DutyToNotify.objects.create(
        organisation_id=organisation_id_of(actor),
        created_by=actor,
        received_at=timezone.now(),
        nation=data.nation,
        first_responder_reference=data.first_responder_reference or "",
        sex=data.sex,
        nationalities=list(data.nationalities or []),
        exploitation=[dump_schema(e) for e in data.exploitation],
        indicators=list(data.indicators or []),
        police=dump_schema(data.police),
    )
    report.reference = referral_reference("DTN", report.received_at, report.pk)
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
    require_capability(actor, Capability.CREATE_REFERRAL)
    draft = ReferralDraft.objects.create(owner=actor, organisation_id=organisation_id_of(actor), answers={})
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


def draft_body(draft: ReferralDraft) -> dict:
    body = (draft.answers or {}).get("referral")
    return body if isinstance(body, dict) else {}


@transaction.atomic
def duty_to_notify_send(*, actor: User, draft_uuid: uuid.UUID | str, now: dt.datetime | None = None) -> DutyToNotify:
    """Send the draft as a Duty to Notify, made of only the answers that cannot identify the person
    (validation.duty_to_notify_answers, MSA 2015 s.52(3)), and delete the draft, which may hold identifying
    answers, in the same transaction: the report exists exactly when the draft is gone.

    NotFound when the draft is not there (a second click finds it already sent); Invalid with every
    problem when the answers do not make a Duty to Notify.
    """
    draft = draft_get(actor=actor, uuid=draft_uuid)
    body = draft_body(draft)
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
