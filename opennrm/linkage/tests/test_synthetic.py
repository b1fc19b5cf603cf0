import csv

import pytest

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
        rows = list(reader)
    assert len(rows) == 50
    # The contract's precision words (section 2), not the engine's "exact".
    assert {row["date_of_birth_precision"] for row in rows if row["date_of_birth"]} <= {
        "day",
        "month",
        "year",
        "estimated",
    }
    assert any(row["date_of_birth_precision"] == "day" for row in rows)


def test_eras_spread_the_same_children_over_earlier_years_one_family_to_an_era():
    one = list(synthetic.generate(2000, seed=4))
    spread = list(synthetic.generate(2000, seed=4, eras=4))
    assert [r.truth for r in spread] == [r.truth for r in one]
    dated = ("date_of_birth", "referral_date")
    era_of_family: dict[str, set[int]] = {}
    for before, after in zip(one, spread, strict=True):
        assert {k: v for k, v in after.row.items() if k not in dated} == {
            k: v for k, v in before.row.items() if k not in dated
        }
        years = int(before.row["referral_date"][:4]) - int(after.row["referral_date"][:4])
        if before.row["date_of_birth"]:
            assert (
                int(before.row["date_of_birth"][:4]) - int(after.row["date_of_birth"][:4]) == years
            )  # the same age when referred
        assert years % synthetic.ERA_YEARS == 0
        era_of_family.setdefault(before.truth["family_id"], set()).add(years // synthetic.ERA_YEARS)
    assert all(len(eras) == 1 for eras in era_of_family.values())
    assert set().union(*era_of_family.values()) == {0, 1, 2, 3}


def test_the_uk_density_takes_one_era_up_to_about_sixty_nine_thousand_records_and_twenty_two_at_a_million():
    assert [synthetic.eras_at_uk_density(size) for size in (2_000, 20_000, 50_000, 68_999, 1_000_000)] == [
        1,
        1,
        1,
        1,
        22,
    ]


def test_the_command_line_takes_eras_as_a_number_or_uk(tmp_path, capsys):
    synthetic.main(["--size", "40", "--seed", "3", "--eras", "uk", "--output", str(tmp_path / "uk.csv")])
    synthetic.main(["--size", "40", "--seed", "3", "--output", str(tmp_path / "plain.csv")])
    assert (tmp_path / "uk.csv").read_text() == (tmp_path / "plain.csv").read_text()  # 40 records: one era
    synthetic.main(["--size", "40", "--seed", "3", "--eras", "3", "--output", str(tmp_path / "three.csv")])
    assert (tmp_path / "three.csv").read_text() != (tmp_path / "plain.csv").read_text()
    with pytest.raises(SystemExit):
        synthetic.main(["--size", "40", "--eras", "many", "--output", str(tmp_path / "bad.csv")])
    assert "--eras must be a whole number or 'uk'" in capsys.readouterr().err
