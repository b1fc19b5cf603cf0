import csv

from opennrm.linkage import synthetic


def test_the_same_seed_gives_the_same_records_and_another_seed_does_not():
    first = [(r.row, r.truth) for r in synthetic.generate(300, seed=5)]
    again = [(r.row, r.truth) for r in synthetic.generate(300, seed=5)]
    other = [(r.row, r.truth) for r in synthetic.generate(300, seed=6)]
    assert first == again
    assert first != other
    assert len(first) == 300


def test_the_noise_and_hard_negatives_are_there(tmp_path):
    records = list(synthetic.generate(3000, seed=2))
    truths = [r.truth for r in records]
    rows = [r.row for r in records]
    persons = {t["person_id"] for t in truths}
    assert len(persons) < len(records)  # children referred more than once
    assert any(t["relation"] == "twin" for t in truths)
    assert any(t["relation"] == "sibling" for t in truths)
    assert any(t["script_only"] == "1" for t in truths)
    assert any(t["dob_kind"] == "assessed" for t in truths)
    assert any(t["name_order"] == "swapped" for t in truths)
    assert any(any("\u1200" <= ch <= "\u137f" for ch in r["names_in_original_script"]) for r in rows)  # Ge'ez
    assert any(any("\u0600" <= ch <= "\u06ff" for ch in r["names_in_original_script"]) for r in rows)  # Arabic
    assert {"ERI", "ETH"} <= {code for r in rows for code in r["nationalities"].split(";")}
    assert sum(r["family_name"] == "Nguyen" for r in rows) > 20  # many distinct children called Nguyen


def test_write_streams_the_contract_columns(tmp_path):
    count = synthetic.write(50, tmp_path / "in.csv", tmp_path / "truth.csv", seed=3)
    assert count == 50
    with open(tmp_path / "in.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == synthetic.INPUT_COLUMNS
        assert len(list(reader)) == 50
