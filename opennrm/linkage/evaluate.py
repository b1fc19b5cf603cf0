"""Scoring a clustering against ground truth, and the Splink 5 baseline on the same data.

Measures (all on record pairs unless B-cubed):
- pairwise precision / recall / F1 of automatic links (pairs put in one cluster);
- recall of automatic-or-review links (a true pair counts when its records share a cluster or their
  clusters are joined by a pair sent to review);
- B-cubed precision / recall / F1 (per record: the share of its predicted cluster that is truly its person,
  and of its person that its predicted cluster holds; averaged over records);
- recall on the hard subsets of true pairs, automatic-or-review (as the main recall) and automatic only: cross-script
  (exactly one record named only in its original script), age-disputed (one date claimed, the other assessed),
  name-swapped (one record's given and family names exchanged);
- false merges among siblings and twins: the share of sibling/twin pairs put in one cluster;
- the review queue: the share of records flagged for review;
- beside them, the true pairs no linker can tell apart (`indistinguishable`): what the data leaves out of reach.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Truth:
    person: np.ndarray  # (n,) int
    family: np.ndarray
    relation: list[str]
    script_only: np.ndarray  # bool
    assessed: np.ndarray  # bool
    swapped: np.ndarray  # bool

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, str]]) -> Truth:
        return cls(
            person=np.array([int(r["person_id"]) for r in rows]),
            family=np.array([int(r["family_id"]) for r in rows]),
            relation=[r["relation"] for r in rows],
            script_only=np.array([r["script_only"] == "1" for r in rows]),
            assessed=np.array([r["dob_kind"] == "assessed" for r in rows]),
            swapped=np.array([r["name_order"] == "swapped" for r in rows]),
        )

    @classmethod
    def read(cls, path: Path) -> Truth:
        with open(path, newline="", encoding="utf-8") as f:
            return cls.from_rows(list(csv.DictReader(f)))


def _pairs_within(groups: np.ndarray) -> np.ndarray:
    """All (i < j) pairs of records sharing a group label: (m, 2)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    sizes = np.diff(np.r_[starts, len(groups)])
    position = np.arange(len(groups))
    partners = np.repeat(starts, sizes) + np.repeat(sizes, sizes) - 1 - position
    left = np.repeat(position, partners)
    right = left + 1 + (np.arange(partners.sum()) - np.repeat(np.cumsum(partners) - partners, partners))
    a, b = order[left], order[right]
    return np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)


def _codes(pairs: np.ndarray) -> np.ndarray:
    return pairs[:, 0].astype(np.int64) * (1 << 32) + pairs[:, 1].astype(np.int64)


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def pairwise(truth_groups: np.ndarray, predicted_groups: np.ndarray) -> tuple[float, float, float]:
    true_codes = _codes(_pairs_within(truth_groups))
    predicted_codes = _codes(_pairs_within(predicted_groups))
    hits = np.intersect1d(true_codes, predicted_codes).size
    precision = hits / predicted_codes.size if predicted_codes.size else 1.0
    recall = hits / true_codes.size if true_codes.size else 1.0
    return precision, recall, _f1(precision, recall)


def bcubed(truth_groups: np.ndarray, predicted_groups: np.ndarray) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin), averaged over records."""
    joint: dict[tuple[int, int], int] = defaultdict(int)
    for t, p in zip(truth_groups.tolist(), predicted_groups.tolist(), strict=True):
        joint[(t, p)] += 1
    truth_size = np.bincount(np.unique(truth_groups, return_inverse=True)[1])
    _, truth_index = np.unique(truth_groups, return_inverse=True)
    _, predicted_index = np.unique(predicted_groups, return_inverse=True)
    predicted_size = np.bincount(predicted_index)
    overlap = np.array([joint[(t, p)] for t, p in zip(truth_groups.tolist(), predicted_groups.tolist(), strict=True)])
    precision = float(np.mean(overlap / predicted_size[predicted_index]))
    recall = float(np.mean(overlap / truth_size[truth_index]))
    return precision, recall, _f1(precision, recall)


def found_with_review(true_pairs: np.ndarray, predicted: np.ndarray, review_pairs: np.ndarray | None) -> np.ndarray:
    """Per true pair: whether its records share a cluster or their clusters are joined by a pair sent to review."""
    found = predicted[true_pairs[:, 0]] == predicted[true_pairs[:, 1]]
    if review_pairs is not None and len(review_pairs):
        ca, cb = predicted[review_pairs[:, 0]], predicted[review_pairs[:, 1]]
        linked = np.unique(_codes(np.stack([np.minimum(ca, cb), np.maximum(ca, cb)], axis=1)))
        ta, tb = predicted[true_pairs[:, 0]], predicted[true_pairs[:, 1]]
        found |= np.isin(_codes(np.stack([np.minimum(ta, tb), np.maximum(ta, tb)], axis=1)), linked)
    return found


@dataclass
class Report:
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    recall_with_review: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    cross_script_recall: float
    age_disputed_recall: float
    name_swapped_recall: float
    cross_script_auto: float
    age_disputed_auto: float
    name_swapped_auto: float
    hard_subset_f1: float
    sibling_false_merges: float
    twin_false_merges: float
    review_share: float
    true_pairs: int
    hard_pairs: dict[str, int]

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("pairwise precision (auto links)", f"{self.pairwise_precision:.4f}"),
            ("pairwise recall (auto links)", f"{self.pairwise_recall:.4f}"),
            ("pairwise F1", f"{self.pairwise_f1:.4f}"),
            ("recall, auto or review", f"{self.recall_with_review:.4f}"),
            ("B-cubed precision", f"{self.bcubed_precision:.4f}"),
            ("B-cubed recall", f"{self.bcubed_recall:.4f}"),
            ("B-cubed F1", f"{self.bcubed_f1:.4f}"),
            (
                f"cross-script recall, auto or review ({self.hard_pairs['cross_script']} pairs)",
                f"{self.cross_script_recall:.4f}",
            ),
            ("cross-script recall, auto only", f"{self.cross_script_auto:.4f}"),
            (
                f"age-disputed recall, auto or review ({self.hard_pairs['age_disputed']} pairs)",
                f"{self.age_disputed_recall:.4f}",
            ),
            ("age-disputed recall, auto only", f"{self.age_disputed_auto:.4f}"),
            (
                f"name-swapped recall, auto or review ({self.hard_pairs['name_swapped']} pairs)",
                f"{self.name_swapped_recall:.4f}",
            ),
            ("name-swapped recall, auto only", f"{self.name_swapped_auto:.4f}"),
            ("F1 on the hard subsets (auto links)", f"{self.hard_subset_f1:.4f}"),
            ("sibling false merges", f"{self.sibling_false_merges:.4%}"),
            ("twin false merges", f"{self.twin_false_merges:.4%}"),
            ("review queue (share of referrals)", f"{self.review_share:.2%}"),
        ]


def evaluate(
    truth: Truth, predicted: np.ndarray, needs_review: np.ndarray | None = None, review_pairs: np.ndarray | None = None
) -> Report:
    """Score `predicted` cluster labels (one per record, in truth's order)."""
    n = len(truth.person)
    predicted = np.asarray(predicted)
    true_pairs = _pairs_within(truth.person)
    same_cluster = predicted[true_pairs[:, 0]] == predicted[true_pairs[:, 1]]
    found = found_with_review(true_pairs, predicted, review_pairs)
    precision, recall, f1 = pairwise(truth.person, predicted)
    b_precision, b_recall, b_f1 = bcubed(truth.person, predicted)
    i, j = true_pairs[:, 0], true_pairs[:, 1]
    subsets = {
        "cross_script": truth.script_only[i] != truth.script_only[j],
        "age_disputed": truth.assessed[i] != truth.assessed[j],
        "name_swapped": truth.swapped[i] != truth.swapped[j],
    }

    def recall_on(mask: np.ndarray, links: np.ndarray = found) -> float:
        return float(links[mask].mean()) if mask.any() else 1.0

    # Precision on the hard subsets: predicted pairs touching a record with hard noise.
    hard_record = truth.script_only | truth.assessed | truth.swapped
    predicted_pairs = _pairs_within(predicted)
    touches = hard_record[predicted_pairs[:, 0]] | hard_record[predicted_pairs[:, 1]]
    hard_predicted = predicted_pairs[touches]
    hard_precision = (
        float((truth.person[hard_predicted[:, 0]] == truth.person[hard_predicted[:, 1]]).mean())
        if len(hard_predicted)
        else 1.0
    )
    any_hard = subsets["cross_script"] | subsets["age_disputed"] | subsets["name_swapped"]
    hard_recall = recall_on(any_hard, same_cluster)  # F1 of the clustering itself: automatic links

    family_pairs = _pairs_within(truth.family)
    different_person = truth.person[family_pairs[:, 0]] != truth.person[family_pairs[:, 1]]
    family_pairs = family_pairs[different_person]
    relation = np.array(truth.relation)
    twin = (relation[family_pairs[:, 0]] == "twin") & (relation[family_pairs[:, 1]] == "twin")
    merged = predicted[family_pairs[:, 0]] == predicted[family_pairs[:, 1]]
    same_dob_pair = twin  # the two twins of a family share a date of birth; other pairs are siblings
    return Report(
        pairwise_precision=precision,
        pairwise_recall=recall,
        pairwise_f1=f1,
        recall_with_review=float(found.mean()) if len(found) else 1.0,
        bcubed_precision=b_precision,
        bcubed_recall=b_recall,
        bcubed_f1=b_f1,
        cross_script_recall=recall_on(subsets["cross_script"]),
        age_disputed_recall=recall_on(subsets["age_disputed"]),
        name_swapped_recall=recall_on(subsets["name_swapped"]),
        cross_script_auto=recall_on(subsets["cross_script"], same_cluster),
        age_disputed_auto=recall_on(subsets["age_disputed"], same_cluster),
        name_swapped_auto=recall_on(subsets["name_swapped"], same_cluster),
        hard_subset_f1=_f1(hard_precision, hard_recall),
        sibling_false_merges=float(merged[~same_dob_pair].mean()) if (~same_dob_pair).any() else 0.0,
        twin_false_merges=float(merged[same_dob_pair].mean()) if same_dob_pair.any() else 0.0,
        review_share=float(needs_review.mean()) if needs_review is not None and n else 0.0,
        true_pairs=len(true_pairs),
        hard_pairs={name: int(mask.sum()) for name, mask in subsets.items()},
    )


# ---------------------------------------------------------------- the Splink 5 baseline


def splink_baseline(rows: Sequence[dict[str, str]], seed: int = 1) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Splink 5 (DuckDB) configured the way its documentation shows, on the same rows.

    Name and date-of-birth comparisons from the comparison library plus exact matches; λ from a
    deterministic rule with recall 0.7, u by random sampling, m by EM on two blocked subsets, predictions
    at p ≥ 0.5 clustered at p ≥ 0.95 (the tutorial's values). Returns (cluster label per record, pairs
    with 0.5 ≤ p < 0.95 — its review band —, timings).
    """
    import logging
    import time

    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    started = time.perf_counter()
    frame = pa.table(
        {
            "unique_id": list(range(len(rows))),
            "first_name": [r["given_names"] or None for r in rows],
            "surname": [r["family_name"] or None for r in rows],
            "dob": [r["date_of_birth"] or None for r in rows],
            "sex": [r["sex"] or None for r in rows],
            "nationality": [r["nationalities"] or None for r in rows],
            "local_authority": [r["local_authority"] or None for r in rows],
        }
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("sex"),
            cl.ExactMatch("nationality").configure(term_frequency_adjustments=True),
            cl.ExactMatch("local_authority"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    table = db_api.register(frame, dataset_display_name="referrals")
    linker = Linker(table, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    trained = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
    labels_by_id = {r["unique_id"]: str(r["cluster_id"]) for r in clusters.as_record_list()}
    review = np.array(
        [(r["unique_id_l"], r["unique_id_r"]) for r in predictions.as_record_list() if r["match_probability"] < 0.95],
        dtype=np.int64,
    ).reshape(-1, 2)
    finished = time.perf_counter()
    _, labels = np.unique(np.array([labels_by_id.get(i, f"single-{i}") for i in range(len(rows))]), return_inverse=True)
    return (
        labels,
        review,
        {"training": trained - started, "predict_and_cluster": finished - trained, "total": finished - started},
    )


# ---------------------------------------------------------------- what no linker can tell apart

_PRECISION_RANK = {
    "day": 3,
    "exact": 3,
    "month": 2,
    "year": 1,
    "estimated": 1,
}  # "exact": files before the contract's "day"


def indistinguishable(rows: Sequence[dict[str, str]], person: np.ndarray, context: bool = True) -> np.ndarray:
    """Per true pair (in `_pairs_within(person)` order): whether a record of *another* child matches one of the
    two records at least as well as the other one does, on every field a linker reads. Such a pair cannot be
    linked automatically without linking the other child too, whatever the model, so the share of these pairs
    bounds the recall of automatic links at full precision (a person reviewing can still tell them apart).

    From record x's side, the true partner y has a look-alike c (a different child) when c has y's names
    exactly (given and family as a set of words, aliases, original script), y's sex, nationalities and
    date-of-birth precision; c's date agrees with x's at least as finely as y's does (same day, month or year)
    and lies no further from it (when y's date is x's with day and month swapped, c's is y's); c was referred
    in x's local authority when y was; and c's referral is no further from x's than y's is. Names are compared
    as written, not normalised, so look-alikes are only counted when spelled alike: the share is a lower bound.
    `context=False` leaves out the place and the referral date: what the identity a child gives cannot tell apart.
    """
    n = len(rows)
    person = np.asarray(person)
    pairs = _pairs_within(person)
    if not len(pairs):
        return np.zeros(0, dtype=bool)

    def words(value: str) -> str:
        return " ".join(sorted(value.lower().split()))

    keys: dict[tuple, int] = {}
    group = np.empty(n, dtype=np.int64)
    day = np.zeros(n, dtype=np.int64)
    month = np.zeros(n, dtype=np.int64)
    year = np.zeros(n, dtype=np.int64)
    rank = np.zeros(n, dtype=np.int8)
    swap_code = np.zeros(
        n, dtype=np.int64
    )  # year, then day and month exchanged: equal to another's day code when swapped
    day_code = np.zeros(n, dtype=np.int64)
    places: dict[str, int] = {}
    place = np.empty(n, dtype=np.int64)
    referred = np.zeros(n, dtype=np.int64)
    for i, row in enumerate(rows):
        text = row.get("date_of_birth", "")
        rank[i] = _PRECISION_RANK.get(row.get("date_of_birth_precision", ""), 3) if text else 0
        if text:
            d = dt.date.fromisoformat(text)
            day[i], month[i], year[i] = d.toordinal(), d.year * 12 + d.month, d.year
            day_code[i] = d.year * 10_000 + d.month * 100 + d.day
            swap_code[i] = d.year * 10_000 + d.day * 100 + d.month
        key = (
            words(row.get("given_names", "") + " " + row.get("family_name", "")),
            words(row.get("aliases", "")),
            row.get("names_in_original_script", ""),
            row.get("sex", ""),
            ";".join(sorted(row.get("nationalities", "").split(";"))),
            int(rank[i]),
        )
        group[i] = keys.setdefault(key, len(keys))
        place[i] = places.setdefault(row.get("local_authority", ""), len(places))
        referral = row.get("referral_date", "")
        referred[i] = dt.date.fromisoformat(referral).toordinal() if referral else 0

    # Perspectives (x, y): x's partner y, both ways round. Only groups holding more than one child can hold a look-alike.
    x = np.concatenate([pairs[:, 0], pairs[:, 1]])
    y = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])
    bounds = np.r_[starts, n]
    children = np.array([len(np.unique(person[order[a:b]])) for a, b in itertools.pairwise(bounds)])
    group_index = np.searchsorted(group[order][starts], group[y])
    candidates = np.flatnonzero(children[group_index] > 1)
    found = np.zeros(len(x), dtype=bool)
    coarser = np.minimum(rank[x], rank[y])
    swapped = (rank[x] == 3) & (rank[y] == 3) & (swap_code[x] == day_code[y]) & (day_code[x] != day_code[y])
    by_group = candidates[np.argsort(group_index[candidates], kind="stable")]
    cut = np.flatnonzero(np.r_[True, group_index[by_group][1:] != group_index[by_group][:-1]])
    for part in np.split(by_group, cut[1:]) if len(by_group) else []:
        g = group_index[part[0]]
        members = order[bounds[g] : bounds[g + 1]]
        for chunk in np.array_split(part, max(1, len(part) * len(members) // 2_000_000)):
            xs, ys = x[chunk][:, None], y[chunk][:, None]
            c = members[None, :]
            level = coarser[chunk][:, None]
            dated = (rank[xs] > 0) & (rank[ys] > 0)
            agree = (
                np.where(
                    level == 3, day[xs] == day[ys], np.where(level == 2, month[xs] == month[ys], year[xs] == year[ys])
                )
                & dated
            )
            agree_c = np.where(
                level == 3, day[xs] == day[c], np.where(level == 2, month[xs] == month[c], year[xs] == year[c])
            )
            ok = person[c] != person[xs]
            ok &= ~dated | ((~agree | agree_c) & (np.abs(day[c] - day[xs]) <= np.abs(day[ys] - day[xs])))
            ok &= ~swapped[chunk][:, None] | (day[c] == day[ys])
            if context:
                ok &= (place[xs] != place[ys]) | (place[c] == place[xs])
                ok &= np.abs(referred[c] - referred[xs]) <= np.abs(referred[ys] - referred[xs])
            found[chunk] = ok.any(axis=1)
    m = len(pairs)
    return found[:m] | found[m:]
