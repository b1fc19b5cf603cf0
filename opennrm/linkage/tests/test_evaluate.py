import numpy as np
import pytest

from opennrm.linkage.evaluate import Truth, bcubed, evaluate, pairwise


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
        person=[1, 1, 2, 2, 3, 4, 5], family=[1, 1, 2, 2, 3, 3, 3],
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
