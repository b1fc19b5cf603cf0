"""What of a referral a caller sees: one function, cut by compartment (contract section 5)."""

from functools import cache

from django.conf import settings

from opennrm.core.sql import CompiledQuery
from opennrm.decisions.models import Decision, DecisionState
from opennrm.decisions.routing import received_on
from opennrm.policy import GUARDIAN_ALLOCATION_FIELDS, MISSING_PERSON_FIELDS, Access, Compartment, View
from opennrm.referrals.models import Referral
from opennrm.safeguarding.selectors import allocation_summaries

_REFERRAL_ID_PLACEHOLDER = -5_318_008


@cache
def _decisions_query() -> CompiledQuery:
    # Every referral read shows its decisions: compiled once (core/sql.py).
    return CompiledQuery(
        Decision.objects.filter(referral_id=_REFERRAL_ID_PLACEHOLDER).order_by("decided_at", "id"),
        (_REFERRAL_ID_PLACEHOLDER,),
    )


def decisions_of(referral: Referral) -> list[Decision]:
    """The referral's decisions, oldest first: prefetched ones when a list prefetched them."""
    prefetched = getattr(referral, "_prefetched_objects_cache", {})
    if "decisions" in prefetched:
        return list(prefetched["decisions"])
    return _decisions_query().fetch(referral.pk)


def status_compartment(referral: Referral) -> dict:
    return {
        "id": str(referral.uuid),
        "reference": referral.reference,
        "nation": referral.nation,
        "status": referral.status,
        "competent_authority": referral.competent_authority,
        "received_at": referral.received_at.isoformat(),
        "reasonable_grounds_due": referral.reasonable_grounds_due.isoformat(),
        "recovery_period_ends_on": referral.recovery_period_ends_on.isoformat()
        if referral.recovery_period_ends_on
        else None,
        # Issued decisions only: a proposed negative has not been decided yet (decisions/services.py).
        "decisions": [
            {"stage": d.stage, "outcome": d.outcome, "decided_on": received_on(d.decided_at).isoformat()}
            for d in decisions_of(referral)
            if d.state == DecisionState.ISSUED
        ],
    }


def referral_compartment(referral: Referral) -> dict:
    return {
        "first_responder_reference": referral.first_responder_reference or None,
        "potential_victim": dict(referral.potential_victim),
        "local_authority_contact": referral.local_authority_contact,
        "consent": referral.consent,
        "exploitation": referral.exploitation,
        "indicators": referral.indicators,
        "police": referral.police,
    }


def safeguarding_compartment(referral: Referral) -> dict:
    return {"current_address": referral.current_address or None, "phone": referral.phone or None}


def missing_person_cut(referral: Referral) -> dict:
    """What a police force looking for a missing child sees of the referral (policy.MISSING_PERSON_FIELDS)."""
    pv = referral.potential_victim or {}
    return {
        "potential_victim": {name: pv.get(name) for name in MISSING_PERSON_FIELDS["potential_victim"]},
        "exploitation": [
            {name: e.get(name) for name in MISSING_PERSON_FIELDS["exploitation"]} for e in referral.exploitation or []
        ],
        "safeguarding": {
            name: v
            for name, v in safeguarding_compartment(referral).items()
            if name in MISSING_PERSON_FIELDS["safeguarding"]
        },
    }


def guardian_allocation_cut(referral: Referral, summary=None) -> dict:
    """What a guardian service sees of a child waiting for a guardian (policy.GUARDIAN_ALLOCATION_FIELDS)."""
    s = summary or getattr(referral, "allocation_summary", None) or allocation_summaries([referral])[referral.pk]
    pv = referral.potential_victim or {}
    return {
        "id": str(referral.uuid),
        "reference": referral.reference,
        "received_on": received_on(referral.received_at).isoformat(),
        "potential_victim": {
            "initials": s.initials,
            "age": s.age,
            **{name: pv.get(name) for name in GUARDIAN_ALLOCATION_FIELDS["potential_victim"]},
        },
        "local_authority": s.local_authority,
        "urgency": {
            "missing_now": s.missing_now,
            "missing_risk": s.missing_risk,
            "secure_accommodation": s.secure_accommodation,
        },
    }


def access_as_dict(access: Access) -> dict | None:
    """Why the caller sees the record, when an event grants it: the grant, its reason, when it began and ends."""
    grant = access.grant
    if grant is None:
        return None
    return {
        "view": access.view.value,
        "grant": grant.kind.value,
        "reason": grant.reason,
        "began_at": grant.began_at.isoformat(),
        "ends_at": grant.ends_at.isoformat() if grant.ends_at else None,
    }


def referral_as_dict(referral: Referral, access: Access) -> dict:
    """The referral as the caller may see it: the whole compartments of their access, or its view's cut (ADR 0028)."""
    if access.view == View.GUARDIAN_ALLOCATION:
        return {**guardian_allocation_cut(referral), "access": access_as_dict(access)}
    out: dict = {}
    if Compartment.STATUS in access.compartments:
        out.update(status_compartment(referral))
    if access.view == View.MISSING_PERSON:
        out.update(missing_person_cut(referral))
    if Compartment.REFERRAL in access.compartments:
        out.update(referral_compartment(referral))
    if Compartment.SAFEGUARDING in access.compartments:
        out["safeguarding"] = safeguarding_compartment(referral)
    if access.grant is not None:
        out["access"] = access_as_dict(access)
    return out


def nrm_status_no_match_message(home_office_reference: str) -> str:
    """What a status lookup that found nothing says, in the page and the API alike: an officer must not take it
    for proof that the person is not in the NRM (they may be detained or removed on the strength of it)."""
    return (
        f"No NRM referral was found with the Home Office reference {home_office_reference}. This is not proof that no "
        "referral exists: the person may have been referred under another reference, or without one, their referral "
        "may not yet be linked to this reference, or the reference may have been mistyped. "
        f"Before you act on this answer, ask {settings.NRM_STATUS_CONTACT}."
    )
