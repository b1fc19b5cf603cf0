from dataclasses import replace

import numpy as np

from opennrm.linkage import engine, evaluate, synthetic


def _row(
    record_id,
    given,
    family,
    dob,
    precision="exact",
    sex="F",
    nationalities="ERI",
    original="",
    aliases="",
    referred="2025-01-01",
):
    return {
        "record_id": record_id,
        "given_names": given,
        "family_name": family,
        "aliases": aliases,
        "names_in_original_script": original,
        "date_of_birth": dob,
        "date_of_birth_precision": precision,
        "sex": sex,
        "nationalities": nationalities,
        "local_authority": "Kent",
        "referral_date": referred,
    }


def _levels(n, sibling=None, hard=None):
    """What clustering reads of `n` pairs' comparisons: sibling levels, twins referred together, hard patterns."""
    return {
        "sibling": np.zeros(n, dtype=np.int16) if sibling is None else np.array(sibling, dtype=np.int16),
        "together": np.zeros(n, dtype=bool),
        "twin_names": np.zeros(n, dtype=bool),
        "hard": np.zeros(n, dtype=bool) if hard is None else np.array(hard),
    }


def _background(size=1500, seed=11):
    return [r.row for r in synthetic.generate(size, seed)]


def test_a_child_under_another_script_is_linked_and_twins_are_not():
    rows = _background() + [
        _row("A1", "Selam", "Tesfay Gebrehiwet", "2011-04-17"),
        _row("A2", "", "", "2011-04-17", original="ሰላም ተስፋይ ገብረሂወት", nationalities="ETH"),
        _row("A3", "Salam", "Tesfai Ghebrehiwet", "2011-04-17"),
        _row("T1", "Winta", "Tesfay Gebrehiwet", "2011-04-17"),  # her twin sister
    ]
    result = engine.link(rows)
    cluster = dict(zip(result.record_ids, result.cluster.tolist(), strict=True))
    assert cluster["A1"] == cluster["A2"] == cluster["A3"]
    assert cluster["T1"] != cluster["A1"]


def test_blocking_finds_the_true_pairs_and_pairs_are_unique():
    records = list(synthetic.generate(2000, seed=3))
    prepared = engine.prepare([r.row for r in records])
    pairs = engine.candidate_pairs(prepared, engine.Config())
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert len(np.unique(pairs, axis=0)) == len(pairs)
    person = np.array([int(r.truth["person_id"]) for r in records])
    true_pairs = evaluate._pairs_within(person)
    found = np.isin(evaluate._codes(true_pairs), evaluate._codes(pairs))
    assert found.mean() >= 0.98


def test_quality_on_two_thousand_synthetic_referrals():
    """Floors that guard against regressions at 2,000 records (seed 3, never used in training). The
    issue's targets are measured at 20,000 by bench/linkage.py; these floors sit below what the engine
    reaches today (precision 1.000, B-cubed F1 0.867, recall with review 0.572, review queue 1.8%)."""
    records = list(synthetic.generate(2000, seed=3))
    result = engine.link([r.row for r in records])
    report = evaluate.evaluate(
        evaluate.Truth.from_rows([r.truth for r in records]), result.cluster, result.needs_review, result.review_pairs
    )
    assert report.pairwise_precision >= 0.99
    assert report.bcubed_f1 >= 0.85
    assert report.recall_with_review >= 0.55
    assert report.review_share <= 0.03
    assert report.sibling_false_merges <= 0.005
    assert report.twin_false_merges <= 0.05
    assert len(result.cluster) == 2000


def test_one_new_referral_is_checked_against_the_index():
    rows = _background(800) + [_row("A1", "Selam", "Tesfay Gebrehiwet", "2011-04-17", nationalities="ERI;ETH")]
    index = engine.Index(rows)
    matches = index.query(_row("NEW", "", "", "2011-04-17", original="ሰላም ተስፋይ ገብረሂወት", nationalities="ETH"))
    assert matches and matches[0].record_id == "A1"
    assert matches == sorted(matches, key=lambda m: -m.score)
    assert index.query(_row("NONE", "Zzyzx", "Qwertyuiop", "2001-01-01")) == []
    # Same answer as the batch run would give for that pair.
    batch = engine.link([*rows, _row("NEW", "", "", "2011-04-17", original="ሰላም ተስፋይ ገብረሂወት", nationalities="ETH")])
    cluster = dict(zip(batch.record_ids, batch.cluster.tolist(), strict=True))
    assert (cluster["NEW"] == cluster["A1"]) == (matches[0].decision == "auto")


def test_a_new_referral_is_offered_hard_pattern_matches_in_their_lower_band():
    model = engine.Model.load()
    model = replace(
        model,
        config=replace(
            model.config, auto_link=engine.OFF, review=engine.OFF, review_hard=-50, review_alongside=engine.OFF
        ),
    )
    index = engine.Index(_background(800) + [_row("A1", "Selam", "Tesfay Gebrehiwet", "2011-04-17")], model)
    # Named only in the original script: a hard pattern, offered in the lower band.
    assert "A1" in [m.record_id for m in index.query(_row("NEW", "", "", "2011-04-17", original="ሰላም ተስፋይ ገብረሂወት"))]
    # The same child in Latin letters is no hard pattern: under this review band it is not offered.
    assert "A1" not in [m.record_id for m in index.query(_row("LATIN", "Selam", "Tesfay Gebrehiwet", "2011-04-17"))]


def test_the_review_bands_rise_between_the_fitted_sizes_in_log_n_and_stay_beyond_the_last():
    model = engine.Model.load()
    n = model.trained_n
    model = replace(
        model, config=replace(model.config, review=6.0, review_hard=-1.0, review_shifts=((n * 4, 1.0), (n * 16, 1.5)))
    )
    assert model.config_for(n // 2) == replace(
        model.config, merge_size=model.config_for(n // 2).merge_size
    )  # no lower than trained
    assert [model.config_for(n * k).review for k in (1, 2, 4, 8, 16, 64)] == [6.0, 6.5, 7.0, 7.25, 7.5, 7.5]
    bands = model.config_for(n * 2)
    assert (bands.review_hard, bands.auto_link) == (-0.5, model.config.auto_link)


def test_the_merge_size_changes_by_its_scale_per_doubling_and_never_goes_below_zero():
    model = engine.Model.load()
    model = replace(model, config=replace(model.config, merge_size=1.5, merge_size_scale=-0.25))
    assert model.config_for(model.trained_n).merge_size == 1.5
    assert model.config_for(model.trained_n * 4).merge_size == 1.0
    assert model.config_for(model.trained_n * 2**10).merge_size == 0.0


def test_each_match_carries_its_evidence_field_by_field():
    rows = _background(800) + [_row("A1", "Selam", "Tesfay Gebrehiwet", "2011-04-17", nationalities="ERI")]
    index = engine.Index(rows)
    matches = index.query(_row("NEW", "Salam", "Tesfai Ghebrehiwet", "2011-04-17", nationalities="ETH"))
    assert matches and matches[0].record_id == "A1"
    evidence = {e.field: e for e in matches[0].evidence}
    assert list(evidence) == [
        "Names",
        "Date of birth",
        "Sex",
        "Nationality",
        "Local authority",
        "Sibling pattern",
        "Referral dates",
        engine.RIVALS_FIELD,
    ]
    assert evidence["Referral dates"].label == "made 0 days apart"
    assert evidence["Date of birth"].label == "same date" and evidence["Date of birth"].weight > 5
    assert evidence["Nationality"].label.startswith("nationalities commonly confused")
    assert evidence["Names"].label.startswith("all names agree") and evidence["Names"].weight > 2
    # The weights are the score's parts: the pair's own (explain) with the prior, and what its rivals did.
    score, explained = engine.explain(
        rows[-1], _row("NEW", "Salam", "Tesfai Ghebrehiwet", "2011-04-17", nationalities="ETH"), index=index
    )
    assert explained == matches[0].evidence[:-1]
    assert abs(score + evidence[engine.RIVALS_FIELD].weight - matches[0].score) < 0.01


# A second referral of the same episode, days after the first (the same day would also fit twins referred together).
LATER = "2025-01-05"


def test_explain_two_rows_without_an_index():
    score, evidence = engine.explain(
        _row("A", "Selam", "Tesfay", "2011-04-17"), _row("B", "Selam", "Tesfay", "2011-04-17", referred=LATER)
    )
    by_field = {e.field: e for e in evidence}
    assert by_field["Date of birth"].label == "same date"
    swapped_score, swapped = engine.explain(
        _row("A", "Selam", "Tesfay", "2011-04-09"), _row("B", "Selam", "Tesfay", "2011-09-04", referred=LATER)
    )
    assert {e.field: e for e in swapped}["Date of birth"].label == "day and month swapped"
    assert swapped_score < score
    twin_score, twin = engine.explain(
        _row("A", "Selam", "Tesfay", "2011-04-17"), _row("B", "Winta", "Tesfay", "2011-04-17", referred=LATER)
    )
    by_field = {e.field: e for e in twin}
    assert by_field["Sibling pattern"].label.startswith("twin pattern")
    assert "given names differ" in by_field["Names"].label
    assert twin_score < score - 5 and twin_score < 0
    disputed = engine.explain(
        _row("A", "Selam", "Tesfay", "2011-04-17"),
        _row("B", "Selam", "Tesfay", "2010", precision="estimated", referred=LATER),
    )[1]
    assert {e.field: e for e in disputed}["Date of birth"].label.startswith("intervals overlap")


def test_a_block_too_big_to_pair_in_full_pairs_date_of_birth_neighbours_only():
    # Ten records sharing one key, a block bigger than max_block=4: each is paired with its next two by date.
    owners = np.arange(10)
    keys = np.full(10, 7, dtype=np.uint64)
    dates = np.array([90, 10, 80, 20, 70, 30, 60, 40, 50, 0], dtype=np.int32)
    pairs = engine.pairs_from_blocks(keys, owners, max_block=4, order_by=dates, window=2)
    by_date = np.argsort(dates)
    expected = {
        tuple(sorted((int(by_date[k]), int(by_date[k + step])))) for k in range(10) for step in (1, 2) if k + step < 10
    }
    assert {tuple(map(int, pair)) for pair in pairs} == expected
    assert len(engine.pairs_from_blocks(keys, owners, max_block=4)) == 0  # no window: the block is dropped
    assert len(engine.pairs_from_blocks(keys, owners, max_block=10)) == 45  # small enough: every pair


def test_in_a_big_block_a_record_without_a_date_of_birth_is_paired_with_every_record_up_to_a_size():
    # Ten records sharing one key, two of them undated: by date they would meet only each other and the oldest.
    owners = np.arange(10)
    keys = np.full(10, 7, dtype=np.uint64)
    dates = np.array([90, engine.MISSING, 80, 20, 70, 30, 60, engine.MISSING, 50, 0], dtype=np.int32)
    windowed = {
        tuple(map(int, pair)) for pair in engine.pairs_from_blocks(keys, owners, max_block=4, order_by=dates, window=2)
    }
    assert not {(1, 9), (7, 8)} <= windowed
    pairs = {
        tuple(map(int, pair))
        for pair in engine.pairs_from_blocks(keys, owners, max_block=4, order_by=dates, window=2, undated_max_block=10)
    }
    assert {tuple(sorted((undated, other))) for undated in (1, 7) for other in range(10) if other != undated} <= pairs
    assert (
        pairs - windowed
        == {tuple(sorted((undated, other))) for undated in (1, 7) for other in range(10) if other != undated} - windowed
    )
    too_big = engine.pairs_from_blocks(keys, owners, max_block=4, order_by=dates, window=2, undated_max_block=9)
    assert {tuple(map(int, pair)) for pair in too_big} == windowed


def test_a_query_meets_the_undated_records_of_a_big_block_as_the_batch_run_does():
    """A block of one common name bigger than max_block: the new referral without a date of birth is offered
    the dated record of the same child, and a dated one the undated record, as a batch run pairs them."""
    config = replace(engine.Model.load().config, max_block=4, window=1)
    model = replace(engine.Model.load(), config=config)
    days = [f"2012-0{month}-1{day}" for month in range(1, 7) for day in range(1, 3)]
    existing = [_row(f"E{k}", "Molly", "Suter", dob, nationalities="GBR") for k, dob in enumerate(days)]
    existing.append(_row("U1", "Molly", "Suter", "", precision="", nationalities="GBR"))
    index = engine.Index(existing, model=model)
    undated = index._candidates(
        engine.prepare_like([_row("Q1", "Molly", "Suter", "", precision="", nationalities="GBR")], index.prepared)
    )[0]
    assert {index.prepared.record_ids[e] for e, _ in undated.tolist()} >= {f"E{k}" for k in range(len(days))}
    dated = index._candidates(
        engine.prepare_like([_row("Q2", "Molly", "Suter", "2012-03-11", nationalities="GBR")], index.prepared)
    )[0]
    assert "U1" in {index.prepared.record_ids[e] for e, _ in dated.tolist()}
    narrow = replace(model, config=replace(config, undated_max_block=4))
    index = engine.Index(existing, model=narrow)
    dated = index._candidates(
        engine.prepare_like([_row("Q2", "Molly", "Suter", "2012-03-11", nationalities="GBR")], index.prepared)
    )[0]
    assert "U1" not in {index.prepared.record_ids[e] for e, _ in dated.tolist()}


def test_clusters_that_are_each_others_clear_best_are_merged_and_rivals_are_not():
    config = engine.Config(auto_link=10, cannot_link=10, review=2, best_link=3, margin=2)
    pairs = np.array([[0, 1], [2, 3], [2, 4], [5, 6]], dtype=np.int32)
    scores = np.array([5.0, 5.0, 4.5, 5.0], dtype=np.float32)
    levels = _levels(4, sibling=[0, 0, 0, 2])
    clusters, flagged, _review_pairs = engine.decide(7, pairs, scores, levels, config)
    assert clusters[0] == clusters[1]  # each other's only candidate, above best_link
    assert clusters[2] != clusters[3] and clusters[2] != clusters[4]  # 3 and 4 are rivals for 2: review
    assert clusters[5] != clusters[6]  # the sibling pattern: never merged by the cluster-level pass
    # The newer record of each review pair needs review (here, with no referral dates, the later in the input).
    assert flagged.tolist() == [False, False, False, True, True, False, True]


def test_a_bigger_merge_needs_a_stronger_link():
    # merge_size 1.5: two lone records join at auto_link (4); a lone record joins a cluster of two at 4 + 1.5 = 5.5,
    # and two clusters of two at 4 + 1.5 × 2 = 7. Links are taken strongest first.
    config = engine.Config(auto_link=4, cannot_link=20, review=3, best_link=engine.OFF, merge_size=1.5)
    levels = _levels(5)
    pairs = np.array([[0, 1], [2, 3], [4, 5], [1, 2], [3, 4]], dtype=np.int32)
    clusters, _, review_pairs = engine.decide(
        6, pairs, np.array([9, 9, 4.2, 6.5, 5.0], dtype=np.float32), levels, config
    )
    assert clusters[4] == clusters[5]  # lone records at 4.2
    assert clusters[1] != clusters[2]  # two clusters of two at 6.5, under 7
    assert clusters[3] != clusters[4]  # the cluster of two and lone record 4 at 5.0, under 5.5
    assert review_pairs.tolist() == [[1, 2], [3, 4]]  # both in the review band instead
    clusters, _, _ = engine.decide(6, pairs, np.array([9, 9, 4.2, 7.5, 5.0], dtype=np.float32), levels, config)
    assert clusters[0] == clusters[3] != clusters[4]  # 7.5 joins the clusters of two; then 5.0 would need 4 + 1.5 × 2
    without = engine.decide(
        6, pairs, np.array([9, 9, 4.2, 6.5, 5.0], dtype=np.float32), levels, replace(config, merge_size=0)
    )[0]
    assert len(set(without.tolist())) == 1  # without the rule, every link at 4 or more merges


def test_the_newer_referral_of_a_review_pair_is_the_one_that_needs_review():
    # As in the service, where the possible match is queued with the referral whose arrival found it.
    pairs = np.array([[0, 1], [2, 3], [4, 5]], dtype=np.int32)
    day = np.array([20, 10, 5, 5, engine.MISSING, 3], dtype=np.int32)  # newer first; the same day; a date not known
    assert engine.newer_records(pairs, day).tolist() == [0, 3, 5]
    config = engine.Config(auto_link=10, cannot_link=10, review=2, best_link=engine.OFF)
    levels = _levels(3)
    _, flagged, _ = engine.decide(6, pairs, np.full(3, 5.0, dtype=np.float32), levels, config, day)
    assert np.flatnonzero(flagged).tolist() == [0, 3, 5]


def test_a_referral_in_review_is_shown_with_its_other_possible_matches():
    # Record 1 (the newest) is in review through its pair with 0. Its other candidates: 2 (0 bits: offered beside it),
    # 3 (-3 bits: under the floor), and the cluster of 5 and 6 through two pairs (offered once, the stronger). 3 and 4
    # are at 0 bits too, but neither is in review: the queue does not grow.
    day = np.array([1, 9, 2, 3, 4, 5, 6], dtype=np.int32)
    pairs = np.array([[0, 1], [1, 2], [1, 3], [3, 4], [5, 6], [1, 5], [1, 6]], dtype=np.int32)
    scores = np.array([5.0, 0.0, -3.0, 0.0, 20.0, 0.5, -0.5], dtype=np.float32)
    config = engine.Config(auto_link=10, cannot_link=10, review=4, review_hard=4, best_link=engine.OFF)
    _, flagged, review_pairs = engine.decide(7, pairs, scores, _levels(7), replace(config, review_alongside=-1.0), day)
    assert np.flatnonzero(flagged).tolist() == [1]
    assert sorted(review_pairs.tolist()) == [[0, 1], [1, 2], [1, 5]]
    _, flagged_without, review_pairs = engine.decide(7, pairs, scores, _levels(7), config, day)
    assert (flagged_without == flagged).all() and review_pairs.tolist() == [[0, 1]]


def test_a_new_referral_in_review_is_offered_with_its_other_possible_matches():
    rows = _background() + [
        _row("A1", "Selam", "Tesfay Gebrehiwet", "2011-04-17"),
        _row("A2", "Selam", "Tesfay", "2009-01-01", precision="estimated"),
        _row("A3", "Selamawit", "Tesfay", "2010-06-01", precision="month", nationalities="ETH"),
    ]
    in_review = _row("N1", "Selam", "Tesfay", "2014-04-17", sex="M")  # A1 or A2 in the review band, A3 far under it
    linked = _row("N2", "Selam", "Tesfai", "2012-01-01", precision="estimated", nationalities="")  # all three linked
    model = engine.Model.load()
    floor = -20.0
    bare = engine.Index(rows, replace(model, config=replace(model.config, review_alongside=engine.OFF)))
    beside = engine.Index(rows, replace(model, config=replace(model.config, review_alongside=floor)))
    without, found = bare.query(in_review), beside.query(in_review)
    banded = [m.record_id for m in without]
    assert "review" in {m.decision for m in without} and "A3" not in banded
    assert [m.record_id for m in found if m.record_id in banded] == banded
    offered = [m for m in found if m.record_id not in banded]
    assert "A3" in {m.record_id for m in offered}
    assert all(floor <= m.score < model.config.review_hard and m.decision == "review" for m in offered)
    assert [(m.record_id, m.decision) for m in bare.query(linked)] == [
        (m.record_id, m.decision) for m in beside.query(linked)
    ]
    assert {m.decision for m in bare.query(linked)} == {"auto"}


def test_the_hard_patterns_have_a_lower_review_band_of_their_own():
    # Three pairs of lone records scoring 3: only the cross-script or age-assessed one reaches review_hard.
    config = engine.Config(auto_link=10, cannot_link=10, review=5, review_hard=2, best_link=engine.OFF)
    pairs = np.array([[0, 1], [2, 3], [4, 5]], dtype=np.int32)
    scores = np.array([3.0, 3.0, 1.0], dtype=np.float32)
    levels = _levels(3, hard=[True, False, True])
    _, flagged, review_pairs = engine.decide(6, pairs, scores, levels, config)
    assert review_pairs.tolist() == [[0, 1]] and flagged.tolist() == [False, True, False, False, False, False]
    # Two clusters whose strongest pair is ordinary and under the review band, but with a hard pair in its lower
    # band between them, go to review through the hard pair.
    pairs = np.array([[0, 1], [0, 2], [1, 2]], dtype=np.int32)
    scores = np.array([20.0, 4.0, 3.0], dtype=np.float32)
    levels = _levels(3, hard=[False, False, True])
    clusters, _, review_pairs = engine.decide(3, pairs, scores, levels, config)
    assert clusters[0] == clusters[1] != clusters[2] and review_pairs.tolist() == [[1, 2]]
    # Which pairs are hard comes from the comparison: one record named only in its original script.
    rows = [
        _row("A", "Selam", "Tesfay", "2011-04-17"),
        {**_row("B", "", "", "2011-04-17"), "names_in_original_script": "ሰላም ተስፋይ"},
        _row("C", "Selam", "Tesfay", "2011-04-17"),
    ]
    levels = engine.compare(engine.prepare(rows), np.array([[0, 1], [0, 2]]))
    assert engine.hard_pattern(levels).tolist() == [True, False]


def test_a_batch_of_queries_answers_as_the_queries_one_by_one():
    rows = _background(800) + [_row("A1", "Selam", "Tesfay Gebrehiwet", "2011-04-17", nationalities="ERI;ETH")]
    index = engine.Index(rows)
    new = [
        _row("NEW", "Salam", "Tesfai Ghebrehiwet", "2011-04-17", nationalities="ETH"),
        *rows[:40],
        _row("NONE", "Zzyzx", "Qwertyuiop", "2001-01-01"),
    ]
    one_by_one = [index.query(row) for row in new]
    assert index.query_many(new) == one_by_one
    assert one_by_one[0] and one_by_one[-1] == [] and sum(map(len, one_by_one[1:-1])) > 0


def test_referral_dates_are_told_in_days_months_or_years():
    assert [engine.referral_gap_label(days) for days in (-1, 3, 200, 1000)] == [
        "a referral date not known",
        "made 3 days apart",
        "made 7 months apart",
        "made 2.7 years apart",
    ]


def test_scoring_in_chunks_is_scoring_at_once():
    """Chunks are compared in a second thread while the previous one is scored: every chunk's scores and flags
    land where they belong."""
    rows = _background(1500)
    model = engine.Model.load()
    prepared = engine.prepare(rows)
    pairs = engine.candidate_pairs(prepared, model.config)
    whole_scores, whole = engine.score_pairs(prepared, pairs, model, chunk=len(pairs))
    scores, flags = engine.score_pairs(prepared, pairs, model, chunk=397)
    assert len(pairs) > 5 * 397
    assert np.array_equal(scores, whole_scores)
    assert all(np.array_equal(flags[name], whole[name]) for name in ("sibling", "together", "twin_names", "hard"))
    assert (flags["sibling"] > 0).any() and flags["hard"].any()


def test_a_rare_spelling_counts_as_rare_though_its_key_is_common():
    """Viion and Van share the consonant key vn; two records of Viion weigh as rare, Viion against Van as common."""
    family_names = [
        "".join("bdfgklmnprstvz"[int(digit)] for digit in f"{i:03d}") + "a" for i in range(200)
    ]  # all different
    rows = [
        _row(f"V{i}", "Van", family, "2010-01-01", nationalities="VNM") for i, family in enumerate(family_names)
    ] + [
        _row("X1", "Viion", "Shehu", "2017-06-05", nationalities="ALB"),
        _row("X2", "Viion", "Shehu", "", nationalities="ALB"),
        _row("X3", "Van", "Shehu", "", nationalities="ALB"),
    ]
    p = engine.prepare(rows)
    levels = engine.compare(p, np.array([[200, 201], [200, 202]], dtype=np.int64))
    same_spelling, other_spelling = levels["name_bits"].tolist()
    assert levels["n_match"].tolist() == [2, 2]  # both pairs share both keys
    assert same_spelling > other_spelling + 5


def test_family_names_are_compared_as_spelled_when_the_other_names_agree():
    rows = [
        _row("A", "Finley Cameron", "Elcroft", "2013-02-24"),
        _row("B", "Finley Cameron", "Ellcroft", "2012-02-25"),
        _row("C", "Finley Cameron", "Smith", "2012-02-25"),
        _row("D", "Finley Cameron", "", "2012-02-25"),
    ]
    levels = engine.compare(engine.prepare(rows), np.array([[0, 1], [0, 2], [0, 3]], dtype=np.int64))
    typo, other, missing = levels["family_similarity"].tolist()
    assert typo > 0.85 and other < 0.6 and missing == -1
    # Two of three words agree in both; the spelling of the whole still tells the typo from another family.
    assert levels["fuzzy"][0] > levels["fuzzy"][1] > 0


def test_the_scale_is_fitted_at_each_size_and_keeps_the_review_queue_in_budget_at_each():
    # A model "trained" at 1,000 records, so that sets of 2,000, 4,000 and 16,000 are one, two and four doublings beyond it.
    model = engine.Model.load()
    model = replace(model, trained_n=1000, config=replace(model.config, scale_penalty=0.0, review_shifts=()))
    large, middle, nearer = engine.labelled(16_000, 31), engine.labelled(4_000, 32), engine.labelled(2_000, 33)
    config = engine.fit_scale(large, model, middle=[middle, nearer], review_share=0.02)
    assert [size for size, _ in config.review_shifts] == [2_000, 4_000, 16_000]
    assert config.scale_penalty in np.arange(0.0, 2.01, 0.0625)
    fitted = replace(model, config=config)
    # The merge size at the large set is one of those tried there, reached by its scale per doubling from the trained one.
    assert min(abs(fitted.config_for(16_000).merge_size - tried) for tried in engine.MERGE_SIZES_AT_SCALE) < 1e-9
    for p, person in (large, middle, nearer):
        bands = fitted.config_for(p.n)
        pairs = engine.candidate_pairs(p, bands)
        scores, levels = engine.score_pairs(p, pairs, fitted)
        clusters, needs_review, _ = engine.decide(p.n, pairs, scores, levels, bands, p.referral_day)
        assert needs_review.mean() <= 0.02
        if p is large[0]:
            assert evaluate.pairwise(person, clusters)[0] >= engine.FITTED_PRECISION_AT_SCALE


def test_rival_features_weigh_each_pair_against_its_records_best_other_candidate():
    # Records 0, 1, 2 all candidates of each other; record 3 only of 0.
    pairs = np.array([[0, 1], [0, 2], [1, 2], [0, 3]])
    first = np.array([10.0, 8.0, 9.0, -4.0], dtype=np.float32)
    # Record 1 has no date of birth, record 3 an estimated one.
    x = engine.rival_features(pairs, first, 20_000, np.array([0, 2, 0, 1], dtype=np.int8))
    column = {name: x[:, i] for i, name in enumerate(engine.RIVAL_FEATURES)}
    # Each side's vagueness goes with its margin: in (0, 1) record 1 has the smaller margin (1 bit against 2).
    assert column["vague_low"][0] == 2 and column["vague_high"][0] == 0
    assert column["vague_low"][3] == 0 and column["vague_high"][3] == 1  # in (0, 3) record 0 has (−14 against 6)
    # (0, 1): 0's rival is 2 (8 bits), 1's rival is 2 (9 bits); the rival 2 scores 9 with 1 and 8 with 0.
    assert column["margin_low"][0] == 1.0 and column["margin_high"][0] == 2.0
    assert column["rival_partner_low"][0] == 8.0 and column["rival_partner_high"][0] == 9.0
    # (0, 3): 3 has no other candidate, so its rival is the floor; 0's rival is 1, which 3 was never compared with.
    assert column["margin_low"][3] == -14.0 and column["margin_high"][3] == -4.0 - engine.RIVAL_FLOOR
    assert (
        column["rival_partner_low"][3] == engine.RIVAL_FLOOR and column["rival_partner_high"][3] == engine.RIVAL_FLOOR
    )
    # (0, 1): 0's second-best other is 3 (−4 bits), 1 has none (the floor); record 2 matches both 0 and 1 (8 and 9
    # bits), so it vouches for the pair with the lesser, 8; each has one other candidate within 3 bits (2).
    assert column["second_margin_low"][0] == 14.0 and column["second_margin_high"][0] == 10.0 - engine.RIVAL_FLOOR
    assert column["support_low"][0] == column["support_high"][0] == 8.0
    assert np.isclose(column["near_low"][0], np.log(2)) and np.isclose(column["near_high"][0], np.log(2))
    assert np.isclose(column["candidates_low"][0], np.log(3)) and np.isclose(column["candidates_high"][0], np.log(4))
    # (0, 3): nobody matches 3 but 0, so nothing vouches for it; 0 has 1 and 2 at 10 and 8, far above −4 + 3.
    assert column["support_low"][3] == column["support_high"][3] == engine.RIVAL_FLOOR
    assert column["near_low"][3] == 0.0 and np.isclose(column["near_high"][3], np.log(3))
    assert (column["first"] == first).all() and (column["population"] == engine.population_bits(20_000)).all()


def test_names_given_to_each_other_as_aliases_agree_through_the_alias():
    # Referred under her street name with her own name as the alias, then the other way round: one name word in
    # common (Visa) would otherwise be all the names had to say.
    p = engine.prepare(
        [
            _row("A", "Visa", "Shkollaku", "2014-04-01", precision="month", aliases="Visa Rexiqi"),
            _row("B", "Visa", "Rexiqi", "2014-04-23", aliases="Visa Shkollaku"),
            _row("C", "Visa", "Rexiqi", "2014-04-23"),
            _row("D", "Visa", "Hoxha", "2014-04-23"),
        ]
    )
    levels = engine.compare(p, np.array([[0, 1], [0, 2], [0, 3]]))
    assert (levels["name_given"] // engine.GIVEN_LEVELS).tolist() == [9, 9, 8]
    # D shares only the given name with A's alias: one word, and a rarer one shared means more.
    assert levels["alias_match"].tolist() == [2, 2, 1]
    assert levels["alias_rarity"][0] > levels["alias_rarity"][2]


def test_a_look_alike_of_either_record_lowers_a_match_and_the_evidence_says_so():
    """A year of birth and a name point to this record only when no other child's record matches as well."""
    earlier = _row("EARLIER", "Thi Huong", "Nguyen", "2010-05-14", nationalities="VNM")
    new = _row("NEW", "Thi Huong", "Nguyen", "2010-01-01", precision="year", nationalities="VNM", referred="2025-02-01")
    look_alike = _row("OTHER", "Thi Huong", "Nguyen", "2010-09-02", nationalities="VNM", referred="2023-06-01")
    # Among as many records as the smallest set the second stage learnt from: among 1,500 it extrapolates (this model
    # takes 0.2 bits off there, 0.9 among 20,000, and the match goes from automatic to review).
    background = _background(20_000)

    def match(rows):
        found = [m for m in engine.Index(background + rows).query(new) if m.record_id == "EARLIER"]
        return found[0] if found else None

    alone, beside_another = match([earlier]), match([earlier, look_alike])
    assert alone is not None
    # Less than a look-alike alone would take: matching both records, it could also be the same child a third time.
    assert beside_another is None or beside_another.score < alone.score - 0.5
    rivals = {e.field: e for e in alone.evidence}[engine.RIVALS_FIELD]
    assert rivals.label == engine.rivals_label(rivals.weight)
    if beside_another is not None:
        rivals_beside = {e.field: e for e in beside_another.evidence}[engine.RIVALS_FIELD]
        assert rivals_beside.weight < rivals.weight - 0.5 and rivals_beside.label == engine.rivals_label(
            rivals_beside.weight
        )


def test_a_new_record_already_in_the_index_is_not_its_own_rival():
    rows = _background(800) + [_row("A1", "Selam", "Tesfay Gebrehiwet", "2011-04-17")]
    new = _row("NEW", "Salam", "Tesfai Ghebrehiwet", "2011-04-17", nationalities="ETH")
    without = engine.Index(rows).query(new)
    within = engine.Index(rows + [new]).query(new)
    # Only the names' counts differ (the new record counts among the population); as its own rival, matching itself
    # in every field, it would take tens of bits off.
    assert without and [m.record_id for m in within] == [m.record_id for m in without]
    assert all(abs(a.score - b.score) < 1.5 for a, b in zip(within, without, strict=True))


def test_a_record_without_blocking_keys_has_its_place_among_each_records_own_keys():
    """A record with neither a name nor a date of birth has no blocking keys: it still has its (empty) place, last too."""
    rows = [
        _row("A1", "Selam", "Tesfay Gebrehiwet", "2011-04-17"),
        _row("EMPTY", "", "", ""),
        _row("A2", "Selam", "Tesfay", "2011-04-17"),
        _row("LAST", "", "", ""),
    ]
    index = engine.Index(rows)
    assert len(index.own_start) == len(rows) + 1 and index.own_start[2] == index.own_start[1]
    assert index.own_start[-1] == index.own_start[-2] == len(index.keys)
    assert {m.record_id for m in index.query(_row("NEW", "Selam", "Tesfay Gebrehiwet", "2011-04-17"))} == {"A1", "A2"}


def test_twins_referred_together_with_names_a_letter_apart_are_not_merged():
    # Lacey and Laley Whitton, twins: referred together one day by Kent, and each again on other days. Their names
    # are one letter apart, so every pair of their records looks like one child with a typo; only the day they
    # were referred together says two children.
    def twin(record_id, given, referred, authority="Kent"):
        return {
            **_row(record_id, given, "Whitton", "2010-09-30", nationalities="GBR", referred=referred),
            "local_authority": authority,
        }

    rows = _background() + [
        twin("L1", "Lacey", "2022-12-06"),
        twin("L2", "Lacey", "2021-01-28"),
        twin("L3", "Lacey", "2023-05-02"),
        twin("Y1", "Laley", "2021-01-28"),
        twin("Y2", "Laley", "2021-06-15", "Glasgow City"),
    ]
    result = engine.link(rows)
    cluster = dict(zip(result.record_ids, result.cluster.tolist(), strict=True))
    assert cluster["L1"] == cluster["L2"] == cluster["L3"]
    # The guard holds for the record referred the same day as a Lacey record; Y2 (another authority, another day) is
    # the model's call: on every field it agrees with the Lacey records about as well as with Y1.
    assert cluster["Y1"] not in {cluster["L1"], cluster["L2"], cluster["L3"]}
    # Checked on arrival, the twin referred the same day is offered for review, not as a strong match.
    found = {match.record_id: match for match in engine.Index(rows[:-2]).query(rows[-2])}
    assert found["L2"].decision == "review"


def test_twins_named_alike_across_their_given_names_are_not_merged_and_a_child_under_its_other_given_name_is():
    # Kayla and Grace Kelee Morhurst, twins (validation seed 2004): Kelee and Kayla share the key kl, so the given
    # names did not conflict and the pairs scored 7 to 9 bits. Thi Chi Nguyen, referred again as Chi, is one child.
    twins = [_row(f"K{k}", "Kayla", "Morhurst", "2011-10-08", nationalities="GBR") for k in (1, 2)]
    twins += [_row(f"G{k}", "Grace Kelee", "Morhurst", "2011-10-08", nationalities="GBR") for k in (1, 2)]
    one_child = [
        _row("C1", "Thi Chi", "Nguyen", "2010-03-04", nationalities="VNM"),
        _row("C2", "Chi", "Nguyen", "2010-03-04", nationalities="VNM"),
    ]
    rows = _background() + twins + one_child
    p = engine.prepare(rows)
    at = {record_id: k for k, record_id in enumerate(p.record_ids)}
    pairs = np.array([[at["K1"], at["G1"]], [at["K1"], at["K2"]], [at["C1"], at["C2"]]])
    assert engine.compare(p, pairs)["twin_names"].tolist() == [True, False, False]
    result = engine.link(rows)
    cluster = dict(zip(result.record_ids, result.cluster.tolist(), strict=True))
    assert cluster["K1"] == cluster["K2"] and cluster["G1"] == cluster["G2"] and cluster["K1"] != cluster["G1"]
    assert cluster["C1"] == cluster["C2"]
    # Checked on arrival, the other twin is not a strong match.
    assert all(
        match.decision != "auto" for match in engine.Index(rows[:-3]).query(rows[-3]) if match.record_id.startswith("K")
    )


def test_a_scale_set_no_bigger_than_the_training_size_leaves_the_merge_size_as_trained():
    model = engine.Model.load()
    model = replace(
        model, trained_n=4000, config=replace(model.config, scale_penalty=0.0, review_shifts=(), merge_size_scale=0.0)
    )
    config = engine.fit_scale(engine.labelled(2_000, 34), model, review_share=0.03, precision=0.99)
    assert (config.merge_size, config.merge_size_scale) == (model.config.merge_size, 0.0)


def test_the_population_is_the_count_of_records_unless_their_births_are_spread_over_more_years_than_the_models_sets():
    eleven_years = np.repeat(np.arange(2007, 2018), 100)
    assert engine.effective_population(1100, eleven_years) == 1100
    fifty_five_years = np.repeat(np.arange(1963, 2018), 20)
    assert engine.effective_population(1100, fifty_five_years) == round(1100 * engine.BIRTH_YEARS_TRAINED / 55)
    assert engine.effective_population(7, np.zeros(0, dtype=np.int64)) == 7  # no date of birth at all
    assert engine.prepare(_background()).population == 1500


def test_a_referral_stream_grown_by_earlier_years_weighs_each_child_as_one_span_of_years_does():
    """The same 2,000 referrals again in three earlier eras (their children born 11, 22 and 33 years earlier): each
    child's matches among them score about as they do among the 2,000 alone, and far closer than weighed among
    four times as many records (a denser stream)."""
    rows = _background(2000, seed=21)

    def earlier(row, era):
        years = synthetic.ERA_YEARS * era
        return {
            **row,
            "record_id": f"{row['record_id']}-{era}",
            "date_of_birth": synthetic._years_earlier(row["date_of_birth"], years),
            "referral_date": synthetic._years_earlier(row["referral_date"], years),
        }

    stream = rows + [earlier(row, era) for era in (1, 2, 3) for row in rows]
    model = engine.Model.load()
    alone, grown = engine.link(rows, model), engine.link(stream, model)
    prepared = engine.prepare(stream)
    assert prepared.population < 1.5 * len(rows)
    dense = replace(prepared, population=len(stream))
    first, _ = engine.first_scores(dense, grown.pairs, model)
    dense_scores = model.with_rivals(grown.pairs, first, dense.population, engine.dob_vagueness(dense))
    own = {pair: k for k, pair in enumerate(map(tuple, grown.pairs.tolist()))}
    common = [(k, own[pair]) for k, pair in enumerate(map(tuple, alone.pairs.tolist())) if pair in own]
    assert len(common) > 0.9 * len(alone.pairs)
    at, grown_at = np.array(common).T
    as_grown = np.abs(grown.scores[grown_at] - alone.scores[at]).mean()
    as_dense = np.abs(dense_scores[grown_at] - alone.scores[at]).mean()
    assert as_grown < as_dense / 2, (as_grown, as_dense)
