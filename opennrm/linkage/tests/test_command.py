import csv

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from opennrm.linkage import synthetic

HEADER = ",".join(synthetic.INPUT_COLUMNS)


def test_linkage_writes_one_row_per_record_with_clusters(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    synthetic.write(400, source, tmp_path / "truth.csv", seed=9)
    with open(source, "a", encoding="utf-8") as f:
        f.write("X1,Tesfay,Gebrehiwet Tekle,,,2010-03-04,exact,M,ERI,Kent,2025-01-01\n")
        f.write("X2,,,,ተስፋይ ገብረሂወት ተኽለ,2010-03-04,exact,M,ETH,Leeds,2025-02-01\n")
    call_command("linkage", input=str(source), output=str(target), quiet=True)
    with open(target, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["record_id"] for r in rows][:3] == ["R0000001", "R0000002", "R0000003"]
    assert len(rows) == 402
    assert set(rows[0]) == {"record_id", "cluster_id", "needs_review"}
    assert {r["needs_review"] for r in rows} <= {"true", "false"}
    by_id = {r["record_id"]: r for r in rows}
    assert by_id["X1"]["cluster_id"] == by_id["X2"]["cluster_id"]


def test_bad_lines_are_reported_by_number_and_nothing_is_written(tmp_path, capsys):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(
        HEADER + "\n"
        "A,Ali,Hassan,,,2010-03-04,exact,M,SDN,Kent,2025-01-01\n"
        "B,Ali,Hassan,,,2010-13-04,exact,M,SDN,Kent,2025-01-01\n"
        "C,Ali,Hassan,,,2010-03-04,sometime,M,SD,Kent,2025-01-01\n"
        "A,Ali,Hassan,,,2010-03-04,exact,M,SDN,Kent,2025-01-01\n"
        "D,Ali,Hassan\n"
        "E,Ali,Hassan,,,2010-03-04,exact,M,SDN,Kent,2025-02-30\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="nothing written"):
        call_command("linkage", input=str(source), output=str(target), quiet=True)
    err = capsys.readouterr().err
    assert "line 3: date_of_birth:" in err
    assert "line 4: date_of_birth_precision:" in err
    assert "line 4: nationalities: 'SD'" in err
    assert "line 5: record_id: 'A' already used on line 2" in err
    assert "line 6: 3 fields where the header has 11" in err
    assert "line 7: referral_date: '2025-02-30' is not a date (YYYY-MM-DD)" in err
    assert not target.exists()


def test_a_file_without_the_columns_is_refused(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("id,name\n1,Ali\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("linkage", input=str(source), output=str(tmp_path / "out.csv"), quiet=True)
    assert "line 1: missing column(s) record_id; unknown column(s) id, name" in capsys.readouterr().err
