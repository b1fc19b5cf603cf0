import numpy as np
import pytest

from opennrm.linkage.evaluate import Truth, bcubed, evaluate, indistinguishable, pairwise


def test_pairwise_counts_pairs():
    truth = np.array([1, 1, 1, 2, 2])  # true pairs: (0,1) (0,2) (1,2) (3,4)
    predicted = np.array([1, 1, 2, 2, 3])  # predicted pairs: (0,1) (2,3)
    precision, recall, f1 = pairwise(truth, predicted)
    assert precision == pytest.approx(1 / 2)
    assert recall == pytest.approx(1 / 4)
    assert f1 == pytest.approx(2 * 0.5 * 0.25 / 0.75)


def test_bcubed_by_hand():
    truth = np.array([1, 1, 1, 2, 2])
    predicted = np.array([1, 1, 2, 2, 3])
    # precision per record: 2/2, 2/2, 1/2, 1/2, 1/1; recall: 2/3, 2/3, 1/3, 1/2, 1/2
    precision, recall, f1 = bcubed(truth, predicted)
    assert precision == pytest.approx((1 + 1 + 0.5 + 0.5 + 1) / 5)
    assert recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 0.5 + 0.5) / 5)
    assert f1 == pytest.approx(2 * precision * recall / (precision + recall))


def test_perfect_and_all_singletons():
    truth = np.array([5, 5, 7, 8, 8])
    assert pairwise(truth, truth) == (1.0, 1.0, 1.0)
    assert bcubed(truth, np.array([10, 20, 30, 40, 50]))[0] == 1.0


def _truth(person, family, relation, script_only=None, assessed=None, swapped=None):
    n = len(person)
    flags = lambda values: np.array(values if values is not None else [False] * n)  # noqa: E731
    return Truth(np.array(person), np.array(family), relation, flags(script_only), flags(assessed), flags(swapped))


def test_subsets_siblings_twins_and_review():
    # Records 0,1: one child (1 named only in Arabic script); 2,3: another (3 with an assessed date);
    # 4,5: twins of one family; 6: their sibling.
    truth = _truth(
        person=[1, 1, 2, 2, 3, 4, 5],
        family=[1, 1, 2, 2, 3, 3, 3],
        relation=["", "", "", "", "twin", "twin", "sibling"],
        script_only=[False, True, False, False, False, False, False],
        assessed=[False, False, False, True, False, False, False],
    )
    predicted = np.array([1, 1, 2, 3, 4, 4, 5])  # the twins merged, the age-disputed pair missed
    review_pairs = np.array([[2, 3]])
    needs_review = np.array([False, False, True, True, False, False, False])
    report = evaluate(truth, predicted, needs_review, review_pairs)
    assert report.cross_script_recall == 1.0
    assert report.age_disputed_auto == 0.0  # not linked automatically…
    assert report.age_disputed_recall == 1.0  # …but offered for review, which counts as the main recall does
    assert report.recall_with_review == 1.0  # the missed pair is in the review queue
    assert report.pairwise_recall == pytest.approx(1 / 2)
    assert report.twin_false_merges == 1.0
    assert report.sibling_false_merges == 0.0  # the sibling with each twin: not merged
    assert report.review_share == pytest.approx(2 / 7)


def _referral(given, family, dob="", precision="exact", authority="Kent", referred="2024-03-01", sex="F"):
    return {
        "given_names": given,
        "family_name": family,
        "aliases": "",
        "names_in_original_script": "",
        "sex": sex,
        "nationalities": "VNM",
        "date_of_birth": dob,
        "date_of_birth_precision": precision if dob else "",
        "local_authority": authority,
        "referral_date": referred,
    }


def test_indistinguishable_needs_a_look_alike_at_least_as_close_on_every_field():
    child = [
        _referral("Thi Huong", "Nguyen", "2010-05-14", referred="2024-03-01"),
        _referral("Huong", "Nguyen Thi", "2010-01-01", "year", referred="2024-03-20"),  # the same words, in other boxes
    ]
    look_alike = _referral("Thi Huong", "Nguyen", "2010-01-01", "year", referred="2024-03-10")
    person = np.array([1, 1, 2])
    # Another girl with the second record's names, year of birth, place and a nearer referral: no field tells them apart.
    assert indistinguishable([*child, look_alike], person).tolist() == [True]
    # Each field on which the look-alike matches worse makes the pair distinguishable.
    for change in (
        {"date_of_birth": "2011-01-01"},  # another birth year
        {"local_authority": "Croydon"},  # the pair shares a place she does not
        {"referral_date": "2025-06-01"},  # referred further from the first record than the second was
        {"sex": "M"},
        {"date_of_birth": "2010-05-01", "date_of_birth_precision": "month"},  # a month is other evidence than a year
        {"given_names": "Thi Hoa"},
    ):
        assert indistinguishable([*child, {**look_alike, **change}], person).tolist() == [False], change
    # Without the context (place and referral date), only the identity fields count.
    far = {**look_alike, "local_authority": "Croydon", "referral_date": "2025-06-01"}
    assert indistinguishable([*child, far], person, context=False).tolist() == [True]
    assert indistinguishable([*child, far], person).tolist() == [False]
    # A look-alike of the same child is no look-alike; nor is anyone when the pair is alone in its names.
    assert indistinguishable([*child, look_alike], np.array([1, 1, 1])).tolist() == [False, False, False]
    assert indistinguishable(child, np.array([1, 1])).tolist() == [False]


def test_indistinguishable_with_a_swapped_date_needs_the_same_swap():
    first = _referral("Amina", "Tesfaye", "2011-03-07", referred="2024-01-05")
    swapped = _referral("Amina", "Tesfaye", "2011-07-03", referred="2024-01-09")
    look_alike = {**swapped, "date_of_birth": "2011-06-01", "referral_date": "2024-01-06"}  # nearer in days, not a swap
    assert indistinguishable([first, swapped, look_alike], np.array([1, 1, 2])).tolist() == [False]
    assert indistinguishable(
        [first, swapped, {**look_alike, "date_of_birth": "2011-07-03"}], np.array([1, 1, 2])
    ).tolist() == [True]
