"""Referrals in every state a decision can leave them in, for the tests of what each role sees of them.

Each is a canary referral (tests/canaries.py referral_body) of a child in Croydon, referred by a police first
responder, with its own Home Office reference, taken through the decisions services as a decision maker would:

- awaiting: no decision yet;
- proposed: a negative Reasonable Grounds decision proposed, not yet reviewed;
- sentback: a negative Reasonable Grounds decision proposed, then sent back by a second decision maker;
- confirmed: a negative Reasonable Grounds decision confirmed by a second decision maker (issued);
- positive: a positive Reasonable Grounds decision (issued at once: a recovery period);
- reconsidered: a confirmed negative whose reconsideration the first responder asked for;
- withdrawn: an adult's referral, withdrawn.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from opennrm.cases.services import referral_create
from opennrm.decisions.services import (
    decision_confirm,
    decision_record,
    decision_send_back,
    reconsideration_request,
    referral_withdraw,
)
from opennrm.referrals.models import Referral
from opennrm.referrals.validation import validate_referral

from .canaries import Canary, referral_body

STATES = ("awaiting", "proposed", "sentback", "confirmed", "positive", "reconsidered", "withdrawn")


@dataclass(frozen=True)
class StateRecord:
    state: str
    referral: Referral
    # What the status compartment must show of its decisions: the issued ones only, as (stage, outcome).
    issued: frozenset[tuple[str, str]]
    canaries: list[Canary]


def make_records_in_every_state(*, referrer, decider, reviewer) -> dict[str, StateRecord]:
    """One referral per state of STATES; `decider` and `reviewer` are two decision makers of the authority that holds them."""
    now = timezone.now()
    made = {}
    for number, state in enumerate(STATES, 2):
        body, canaries = referral_body(state, contacted_at=now - dt.timedelta(hours=1))
        # referral_body's phone is unique per first letter of the four canary records only: one per state here.
        phone = f"+44 (0) 7700 9{number}{number} 38{number}1"
        body["potential_victim"]["phone"] = phone
        canaries = [Canary(phone, c.record, c.compartment, c.field) if c.field == "phone" else c for c in canaries]
        if state == "withdrawn":
            # Only an adult's referral may be withdrawn (the adult's own choice).
            body["potential_victim"].update(age_group="adult", date_of_birth="1990-05-04")
            body["local_authority_contact"] = None
            body["consent"] = {"given": True, "recorded_at": (now - dt.timedelta(hours=2)).isoformat()}
            canaries = [c for c in canaries if c.field != "local_authority_contact.name"]
        data, errors = validate_referral(body, now=now)
        assert not errors, errors
        referral = referral_create(actor=referrer, data=data)
        canaries.append(Canary(referral.reference, state, "status", "reference"))
        issued: set[tuple[str, str]] = set()
        rg = "reasonable_grounds"
        if state in ("proposed", "sentback", "confirmed", "reconsidered"):
            proposal = decision_record(
                actor=decider, referral=referral, stage=rg, outcome="negative", reasons=f"Synthetic reasons ({state})"
            )
            if state == "sentback":
                decision_send_back(
                    actor=reviewer, referral=referral, decision=proposal, comment="Synthetic: look again at the account"
                )
            elif state in ("confirmed", "reconsidered"):
                decision_confirm(actor=reviewer, referral=referral, decision=proposal)
                issued.add((rg, "negative"))
                if state == "reconsidered":
                    reconsideration_request(
                        actor=referrer, referral=referral, grounds="Synthetic: new evidence of exploitation"
                    )
        elif state == "positive":
            decision_record(
                actor=decider, referral=referral, stage=rg, outcome="positive", reasons="Synthetic reasons (positive)"
            )
            issued.add((rg, "positive"))
        elif state == "withdrawn":
            referral_withdraw(actor=referrer, referral=referral, reason="Synthetic: the adult withdrew")
        referral.refresh_from_db()
        made[state] = StateRecord(state, referral, frozenset(issued), canaries)
    expected_status = {
        "awaiting": "awaiting_reasonable_grounds",
        "proposed": "awaiting_reasonable_grounds",
        "sentback": "awaiting_reasonable_grounds",
        "confirmed": "reasonable_grounds_negative",
        "positive": "recovery_period",
        "reconsidered": "reconsideration",
        "withdrawn": "withdrawn",
    }
    assert {s: r.referral.status for s, r in made.items()} == expected_status, (
        "the decisions services took a record elsewhere than meant"
    )
    return made
