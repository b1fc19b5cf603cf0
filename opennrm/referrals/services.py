"""Writing referrals, drafts and Duty to Notify reports. Each service takes the acting user, runs
in one transaction and writes its audit event in it."""

from django.db import transaction
from django.utils import timezone

from opennrm.audit.services import audit_record
from opennrm.policy import Capability, has_capability

from .models import DutyToNotify, ReferralDraft
from .references import referral_reference
from .schemas import DutyToNotifyIn
from .selectors import NotFound

# Submitting a referral (stored, routed, a guardian requested, duplicates checked) is composed above the case
# domains: cases/services.py referral_create and referrals_import.


class NotAllowed(Exception):
    """The actor's role may not do this at all (HTTP 403)."""


def require_capability(actor, capability: Capability) -> None:
    """Raise NotAllowed unless the actor's role holds the capability."""
    if not has_capability(actor, capability):
        raise NotAllowed(f"Your role ({actor.role_label}) cannot {capability.value.replace('_', ' ')}")


def dump_schema(model) -> object:
    """A submitted part (a pydantic schema) as stored: JSON, without the empty fields."""
    return model.model_dump(mode="json", exclude_none=True) if model is not None else None


@transaction.atomic
def duty_to_notify_create(*, actor, data: DutyToNotifyIn) -> DutyToNotify:
    require_capability(actor, Capability.NOTIFY_DUTY)
    report = DutyToNotify.objects.create(
        organisation_id=actor.organisation_id,
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
def draft_start(*, actor) -> ReferralDraft:
    require_capability(actor, Capability.CREATE_REFERRAL)
    draft = ReferralDraft.objects.create(owner=actor, organisation_id=actor.organisation_id, answers={})
    audit_record(actor=actor, action="draft.create", object_type="referral_draft", object_id=str(draft.uuid))
    return draft


@transaction.atomic
def draft_save(*, actor, draft: ReferralDraft, answers: dict) -> ReferralDraft:
    """Keep what the user typed, valid or not: a failed page must never lose their work."""
    if draft.owner_id != actor.pk or draft.submitted_referral_id is not None:
        raise NotAllowed("This draft cannot be changed")
    draft.answers = answers
    draft.save(update_fields=["answers", "updated_at"])
    audit_record(actor=actor, action="draft.change", object_type="referral_draft", object_id=str(draft.uuid))
    return draft


@transaction.atomic
def draft_discard(*, actor, draft: ReferralDraft) -> None:
    # Lock the row: two concurrent discards (or Duty to Notify sends) must not both go ahead.
    draft = ReferralDraft.objects.select_for_update().filter(pk=draft.pk).first()
    if draft is None:
        raise NotFound
    if draft.owner_id != actor.pk or draft.submitted_referral_id is not None:
        raise NotAllowed("This draft cannot be deleted")
    uuid = str(draft.uuid)
    draft.delete()
    audit_record(actor=actor, action="draft.delete", object_type="referral_draft", object_id=uuid)
