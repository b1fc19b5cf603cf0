"""The compiled trees (lleaves) score exactly as LightGBM does, and the engine falls back to LightGBM without them."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest

from opennrm.linkage import engine, synthetic


@pytest.fixture(scope="module")
def scored_levels():
    prepared = engine.prepare([r.row for r in synthetic.generate(3000, seed=21)])
    pairs = engine.candidate_pairs(prepared, engine.Config())
    return prepared, pairs, engine.compare(prepared, pairs)


def test_compiled_trees_score_as_lightgbm_does(scored_levels, tmp_path, monkeypatch):
    pytest.importorskip("lleaves")
    monkeypatch.setattr(engine, "TREE_CACHE", tmp_path)
    model = engine.Model.load()
    prepared, pairs, levels = scored_levels
    x = engine.features(levels, prepared.n)
    screened = engine.screened_pairs(levels)
    assert 0 < screened.sum() < len(pairs)
    for forest_text, rows in ((model.screen_text, screened), (model.booster_text, ~screened)):
        forest = engine.Forest(forest_text)
        assert forest.compiled
        expected = forest.booster.predict(x[rows], raw_score=True)
        np.testing.assert_allclose(forest.raw(x[rows]), expected, rtol=0, atol=1e-9)
        np.testing.assert_allclose(forest.raw(x[rows], threads=2), expected, rtol=0, atol=1e-9)
    # Compiled once and kept: each model's source and machine code, under a key naming the CPU and compiler.
    assert len(list(tmp_path.glob("*.bin"))) == 2
    assert len(list(tmp_path.glob("*.txt"))) == 2
    again = engine.Forest(model.screen_text)
    assert again.compiled
    assert len(list(tmp_path.iterdir())) == 4


def test_processes_compiling_at_once_leave_one_whole_file(tmp_path, monkeypatch):
    pytest.importorskip("lleaves")
    monkeypatch.setattr(engine, "TREE_CACHE", tmp_path)
    text = engine.Model.load().screen_text
    with ThreadPoolExecutor(max_workers=2) as pool:
        forests = list(pool.map(lambda _: engine.Forest(text), range(2)))
    assert all(forest.compiled for forest in forests)
    assert sorted(path.suffix for path in tmp_path.iterdir()) == [".bin", ".txt"]


def test_without_compiled_trees_lightgbm_scores_the_same(scored_levels, monkeypatch):
    prepared, pairs, levels = scored_levels
    compiled = engine.Model.load()
    monkeypatch.setattr(engine, "_compiled_trees", lambda text: None)
    plain = engine.Model.load()
    assert not any(forest.compiled for forest in plain.forests)
    np.testing.assert_array_equal(plain.first(levels, prepared.n), compiled.first(levels, prepared.n))
    first = compiled.first(levels, prepared.n)
    np.testing.assert_array_equal(
        plain.with_rivals(pairs, first, prepared.n, engine.dob_vagueness(prepared)),
        compiled.with_rivals(pairs, first, prepared.n, engine.dob_vagueness(prepared)),
    )


def test_a_failure_to_compile_is_logged_and_lightgbm_scores(scored_levels, monkeypatch, caplog):
    def broken(text):
        raise OSError("no room on the disk")

    monkeypatch.setattr(engine, "_compiled_trees", broken)
    forest = engine.Forest(engine.Model.load().screen_text)
    assert not forest.compiled
    assert "not compiled" in caplog.text
    prepared, _pairs, levels = scored_levels
    x = engine.features(levels, prepared.n)[:100]
    np.testing.assert_array_equal(forest.raw(x), forest.booster.predict(x, raw_score=True))


def test_the_second_stage_rounds_are_saved_and_loaded_in_order(tmp_path):
    model = engine.Model.load()
    assert len(model.rival_texts) == engine.RIVAL_ROUNDS == 2
    assert len(model.forests) == 2 + engine.RIVAL_ROUNDS
    path = tmp_path / "model.json"
    model.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.json",
        "model.lgb.txt",
        "model.rivals.2.lgb.txt",
        "model.rivals.lgb.txt",
        "model.screen.lgb.txt",
    ]
    again = engine.Model.load(path)
    assert again.rival_texts == model.rival_texts and again.config == model.config
    assert engine.Model.load(path, second_stage=False).rival_texts == ()


def test_each_round_of_the_second_stage_weighs_the_scores_of_the_round_before(scored_levels):
    prepared, pairs, levels = scored_levels
    model = engine.Model.load()
    first = model.first(levels, prepared.n)
    one_round = replace(model, rival_texts=model.rival_texts[:1], _forests=())
    after_one = one_round.with_rivals(pairs, first, prepared.n, engine.dob_vagueness(prepared))
    shift = np.float32(model._prior_shift(prepared.n))
    plausible = first > engine.RIVAL_FLOOR
    # The second round scores the first round's output (its scores before the scale penalty), not the first stage's.
    x = engine.rival_features(
        pairs[plausible], (after_one + shift)[plausible], prepared.n, engine.dob_vagueness(prepared)
    )
    expected = (model.forests[3].raw(x) / np.log(2)).astype(np.float32) - shift
    np.testing.assert_allclose(
        model.with_rivals(pairs, first, prepared.n, engine.dob_vagueness(prepared))[plausible],
        expected,
        rtol=0,
        atol=1e-5,
    )
    # Pairs under the floor keep their first-stage score in every round.
    np.testing.assert_array_equal(
        model.with_rivals(pairs, first, prepared.n, engine.dob_vagueness(prepared))[~plausible],
        first[~plausible] - shift,
    )
