"""What of a referral a caller sees: one function, cut by compartment (contract section 5)."""

from functools import cache

from django.conf import settings

from opennrm.core.sql import CompiledQuery
from opennrm.decisions.models import Decision, DecisionState
from opennrm.decisions.routing import received_on
from opennrm.policy import Compartment

from .models import Referral


_REFERRAL_ID_PLACEHOLDER = -5_318_008


@cache
def _decisions_query() -> CompiledQuery:
    # Every referral read shows its decisions: compiled once (core/sql.py).
    return CompiledQuery(Decision.objects.filter(referral_id=_REFERRAL_ID_PLACEHOLDER).order_by("decided_at", "id"), (_REFERRAL_ID_PLACEHOLDER,))


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
        "recovery_period_ends_on": referral.recovery_period_ends_on.isoformat() if referral.recovery_period_ends_on else None,
        # Issued decisions only: a proposed negative has not been decided yet (decisions/services.py).
        "decisions": [
            {"stage": d.stage, "outcome": d.outcome, "decided_on": received_on(d.decided_at).isoformat()}
            for d in decisions_of(referral) if d.state == DecisionState.ISSUED
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


def referral_as_dict(referral: Referral, compartments: frozenset[Compartment]) -> dict:
    out: dict = {}
    if Compartment.STATUS in compartments:
        out.update(status_compartment(referral))
    if Compartment.REFERRAL in compartments:
        out.update(referral_compartment(referral))
    if Compartment.SAFEGUARDING in compartments:
        out["safeguarding"] = safeguarding_compartment(referral)
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
