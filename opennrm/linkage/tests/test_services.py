"""Linking referrals to a person: on arrival, by a person's decision, undone; audited, reversible, scoped."""

import dataclasses

import numpy as np
import pytest

from opennrm.audit.models import AuditEvent
from opennrm.core.errors import Invalid, NotAllowed, NotFound, Refused
from opennrm.linkage import services
from opennrm.linkage.models import (
    ArrivalCheck,
    Band,
    CandidateDecision,
    CandidateStatus,
    MatchCandidate,
    Person,
    PersonLink,
)
from opennrm.linkage.selectors import candidate_get, candidates_visible_to, person_get, review_queue
from opennrm.linkage.services import referrals_check_on_arrival, referrals_check_unchecked
from opennrm.policy import Role

from .support import SOMEONE_ELSE, TESFAYE_AGAIN, TESFAYE_FIRST, child_body, refer


@pytest.fixture
def people(make_user):
    return {
        "fr": make_user(Role.FIRST_RESPONDER, username="fr"),
        "dq": make_user(Role.DATA_QUALITY_OFFICER, username="dq"),
        "sca": make_user(Role.SCA_DECISION_MAKER, username="sca"),
        "ieca": make_user(Role.IECA_DECISION_MAKER, username="ieca"),
        "immigration": make_user(Role.IMMIGRATION_OFFICER, username="immigration"),
    }


@pytest.fixture
def pair(people):
    """Tesfaye's first referral, someone else's, and Tesfaye again under another spelling: checked on arrival."""
    first = refer(people["fr"], child_body(**TESFAYE_FIRST))
    other = refer(people["fr"], child_body(**SOMEONE_ELSE))
    again = refer(people["fr"], child_body(**TESFAYE_AGAIN))
    assert referrals_check_on_arrival() == 3
    return first, other, again


def actions(*names):
    return list(
        AuditEvent.objects.filter(action__in=names).order_by("occurred_at", "seq").values_list("action", flat=True)
    )


def test_a_new_referral_under_another_spelling_is_offered_as_a_possible_match(pair):
    first, _other, again = pair
    candidate = MatchCandidate.objects.get()
    assert (candidate.referral_id, candidate.earlier_id) == (again.pk, first.pk)
    assert candidate.status == CandidateStatus.OPEN and candidate.band in (Band.POSSIBLE, Band.STRONG)
    fields = {e["field"] for e in candidate.evidence}
    assert {"Names", "Date of birth", "Nationality"} <= fields
    assert all(isinstance(e["weight"], float) and e["label"] for e in candidate.evidence)
    assert ArrivalCheck.objects.count() == 3
    assert PersonLink.objects.count() == 0  # never linked silently
    assert actions("linkage.candidate_found") == ["linkage.candidate_found"]
    # Checking again finds nothing new to do.
    assert referrals_check_on_arrival() == 0


def test_confirm_links_both_to_one_person_and_undo_restores_the_state_before(pair, people):
    first, _, again = pair
    candidate = MatchCandidate.objects.get()
    person = services.candidate_confirm(
        actor=people["dq"], candidate=candidate, reason="Same father's and grandfather's names, same school"
    )
    assert set(
        PersonLink.objects.filter(person=person, undone_at__isnull=True).values_list("referral_id", flat=True)
    ) == {first.pk, again.pk}
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.CONFIRMED
    assert actions("linkage.confirm") == ["linkage.confirm"]

    services.candidate_undo(actor=people["sca"], candidate=candidate, reason="Confirmed on the wrong pair")
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.OPEN and candidate.decided_at is None
    assert PersonLink.objects.filter(undone_at__isnull=True).count() == 0
    # Nothing lost: the links and both decisions are still there, with who undid what and why.
    assert (
        PersonLink.objects.filter(
            person=person, undone_by=people["sca"], undo_reason="Confirmed on the wrong pair"
        ).count()
        == 2
    )
    assert list(CandidateDecision.objects.order_by("pk").values_list("action", "decided_by__username")) == [
        ("confirm", "dq"),
        ("undo", "sca"),
    ]
    assert actions("linkage.confirm", "linkage.undo") == ["linkage.confirm", "linkage.undo"]

    # Decided again: a fresh link on the same person record is made.
    services.candidate_confirm(
        actor=people["sca"], candidate=candidate, reason="Checked the school records: the same boy"
    )
    assert PersonLink.objects.filter(undone_at__isnull=True).count() == 2


def test_reject_keeps_the_referrals_apart_and_can_be_undone(pair, people):
    candidate = MatchCandidate.objects.get()
    services.candidate_reject(actor=people["dq"], candidate=candidate, reason="Different mothers named in the accounts")
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.REJECTED
    assert review_queue(actor=people["dq"])[1] == 0
    services.candidate_undo(actor=people["dq"], candidate=candidate, reason="Rejected by mistake")
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.OPEN
    assert review_queue(actor=people["dq"])[1] == 1
    assert actions("linkage.reject", "linkage.undo") == ["linkage.reject", "linkage.undo"]


def test_unlinking_a_referral_from_a_person_puts_the_match_back_in_the_queue(pair, people):
    first, _, again = pair
    candidate = MatchCandidate.objects.get()
    person = services.candidate_confirm(actor=people["dq"], candidate=candidate, reason="Same boy")
    services.person_link_undo(actor=people["dq"], person=person, referral=again, reason="Twin brother, not him")
    assert list(
        PersonLink.objects.filter(person=person, undone_at__isnull=True).values_list("referral_id", flat=True)
    ) == [first.pk]
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.OPEN
    assert actions("linkage.unlink") == ["linkage.unlink"]
    with pytest.raises(Refused, match="no longer linked"):
        services.person_link_undo(actor=people["dq"], person=person, referral=again, reason="Twice")


@pytest.mark.parametrize(
    "reason, message", [("", "Give a reason"), ("   ", "Give a reason"), ("x" * 2001, "Shorten the reason")]
)
def test_a_decision_without_a_proper_reason_is_refused_and_changes_nothing(pair, people, reason, message):
    candidate = MatchCandidate.objects.get()
    before = AuditEvent.objects.count()
    with pytest.raises(Invalid, match=message) as refused:
        services.candidate_confirm(actor=people["dq"], candidate=candidate, reason=reason)
    assert refused.value.field == "reason"
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.OPEN and PersonLink.objects.count() == 0 and Person.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_a_decided_match_cannot_be_decided_again_nor_an_open_one_undone(pair, people):
    candidate = MatchCandidate.objects.get()
    with pytest.raises(Refused, match="no decision on this possible match to undo"):
        services.candidate_undo(actor=people["dq"], candidate=candidate, reason="Nothing to undo")
    services.candidate_reject(actor=people["dq"], candidate=candidate, reason="Different boys")
    with pytest.raises(Refused, match="already been decided"):
        services.candidate_confirm(actor=people["sca"], candidate=candidate, reason="Stale page")
    assert PersonLink.objects.count() == 0


def test_the_same_home_office_reference_is_linked_automatically_and_flagged(people):
    first = refer(people["fr"], child_body(**SOMEONE_ELSE, home_office_reference="HO-TEST-77"))
    again = refer(
        people["fr"],
        child_body(
            given="Daoud", family="Tesgai", dob="2003-01-01", precision="year", home_office_reference="HO-TEST-77"
        ),
    )
    referrals_check_on_arrival()
    candidate = MatchCandidate.objects.get()
    assert candidate.band == Band.CERTAIN and candidate.status == CandidateStatus.AUTO_LINKED
    assert candidate.evidence[0]["field"] == "home_office_reference"
    link = PersonLink.objects.filter(referral=again).get()
    assert link.method == "automatic" and link.made_by is None
    assert PersonLink.objects.get(referral=first).person_id == link.person_id
    assert actions("linkage.auto_link") == ["linkage.auto_link"]
    # Flagged: first in the queue, for a person to check.
    items, _ = review_queue(actor=people["dq"])
    assert items[0] == candidate
    # Rejecting it undoes the automatic link; undoing the rejection links them again.
    services.candidate_reject(actor=people["dq"], candidate=candidate, reason="Reference typed on the wrong record")
    assert PersonLink.objects.filter(undone_at__isnull=True).count() == 0
    services.candidate_undo(actor=people["dq"], candidate=candidate, reason="The reference was right after all")
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.AUTO_LINKED
    assert PersonLink.objects.filter(undone_at__isnull=True).count() == 2


def test_who_sees_possible_matches(pair, people, make_user):
    candidate = MatchCandidate.objects.get()
    assert candidates_visible_to(actor=people["dq"]).count() == 1
    assert candidates_visible_to(actor=people["sca"]).count() == 1  # both cases are the SCA's
    for role in ("fr", "ieca", "immigration"):
        assert candidates_visible_to(actor=people[role]).count() == 0
        with pytest.raises(NotFound):
            candidate_get(actor=people[role], uuid=candidate.uuid)
    with pytest.raises(NotAllowed):
        services.candidate_confirm(actor=people["fr"], candidate=candidate, reason="A first responder may not")
    with pytest.raises(NotFound):
        services.candidate_confirm(actor=people["ieca"], candidate=candidate, reason="Not the IECA's cases")
    assert PersonLink.objects.count() == 0


def test_a_decision_maker_sees_a_person_only_through_their_own_cases(pair, people):
    first, _, again = pair
    candidate = MatchCandidate.objects.get()
    person = services.candidate_confirm(actor=people["dq"], candidate=candidate, reason="Same boy")
    view = person_get(actor=people["sca"], uuid=person.uuid)
    assert {link.referral_id for link in view.current} == {first.pk, again.pk} and view.hidden == 0
    with pytest.raises(NotFound):
        person_get(actor=people["ieca"], uuid=person.uuid)
    with pytest.raises(NotFound):
        person_get(actor=people["fr"], uuid=person.uuid)
    # An IECA case linked to the same person stays hidden from the SCA (counted, not shown).
    from opennrm.referrals.models import Referral

    Referral.objects.filter(pk=first.pk).update(competent_authority="IECA")
    view = person_get(actor=people["sca"], uuid=person.uuid)
    assert [link.referral_id for link in view.current] == [again.pk] and view.hidden == 1
    assert candidates_visible_to(actor=people["sca"]).count() == 0


def test_the_growing_index_is_the_index_built_at_once():
    from opennrm.linkage import arrival, engine

    rows = [
        arrival.identity_row(
            i, {"given_names": g, "family_name": f, "date_of_birth": d, "sex": "male", "nationalities": n}, ""
        )
        for i, (g, f, d, n) in enumerate(
            [
                ("Tesfaye", "Gebremedhin", "2010-04-12", ["ERI"]),
                ("Thi Anh", "Nguyen", "2011-02-03", ["VNM"]),
                ("Tesfay", "Gebre Medhin", "2009-01-01", ["ETH"]),
                ("Arben", "Hoxha", "2008-05-06", ["ALB"]),
            ]
        )
    ]
    grown = arrival.GrowingIndex(rows[:2])
    grown.extend(rows[2:])
    whole = engine.Index(rows)
    for name in ("keys", "owners", "block_of", "by_block_and_date", "own_keys", "own_start"):
        assert np.array_equal(getattr(grown, name), getattr(whole, name)), name
    for f in dataclasses.fields(whole.prepared):  # every array of the prepared records, the codes too
        mine, theirs = getattr(grown.prepared, f.name), getattr(whole.prepared, f.name)
        assert np.array_equal(mine, theirs) if isinstance(theirs, np.ndarray) else mine == theirs, f.name
    query = arrival.identity_row(
        99, {"given_names": "Tesfai", "family_name": "Gebremedhin", "date_of_birth": "2010", "sex": "male"}, ""
    )
    assert [(m.record_id, m.score) for m in grown.query(query)] == [(m.record_id, m.score) for m in whole.query(query)]


def test_a_referral_committed_out_of_id_order_is_still_compared(people):
    """A referral whose id is below one already read (its transaction committed later) is added before it is checked."""
    from opennrm.linkage import arrival

    refer(people["fr"], child_body(**SOMEONE_ELSE))
    assert referrals_check_on_arrival() == 1  # the index is built
    first = refer(people["fr"], child_body(**TESFAYE_FIRST))
    arrival.process_index._upto = first.pk  # as if a later id had been read before this one committed
    assert referrals_check_on_arrival() == 1
    again = refer(people["fr"], child_body(**TESFAYE_AGAIN))
    assert referrals_check_on_arrival() == 1
    # Found only because the late referral was added to the index when it was checked.
    assert MatchCandidate.objects.filter(referral=again, earlier=first).exists()


def test_a_worker_behind_a_burst_checks_the_newer_referrals_in_the_same_batch(people):
    first, other, again = (
        refer(people["fr"], child_body(**who)) for who in (TESFAYE_FIRST, SOMEONE_ELSE, TESFAYE_AGAIN)
    )
    assert referrals_check_on_arrival(referral_ids=[other.pk]) == 1  # by default, just the referrals named
    assert referrals_check_unchecked(from_id=first.pk, batch=1000) == 2  # the first, and the newer still unchecked
    assert referrals_check_unchecked(from_id=again.pk, batch=1000) == 0  # its own task finds it done
    assert MatchCandidate.objects.filter(referral=again, earlier=first).exists()
