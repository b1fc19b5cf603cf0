import csv

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from opennrm.linkage import csvio, synthetic

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


def _link(tmp_path, name: str, lines: list[str]) -> str:
    """Run `opennrm linkage` on HEADER + lines; the output file's text."""
    source, target = tmp_path / f"{name}.csv", tmp_path / f"{name}.out.csv"
    source.write_text(HEADER + "\n" + "".join(line + "\n" for line in lines), encoding="utf-8")
    call_command("linkage", input=str(source), output=str(target), quiet=True)
    return target.read_text(encoding="utf-8")


# One Eritrean boy twice (the second time named only in Ge'ez and taken for Ethiopian), and another boy.
TESFAY = [
    "X1,Tesfay,Gebrehiwet Tekle,,,2010-03-04,{precision},M,ERI,Kent,2025-01-01",
    "X2,,,,ተስፋይ ገብረሂወት ተኽለ,2010-03-04,{precision},M,ETH,Leeds,2025-02-01",
    "X3,Dawit,Tsegay,,,2009-11-23,{precision},M,ERI,Kent,2025-01-09",
]


def test_the_contracts_day_precision_is_accepted_and_links_as_exact_did(tmp_path):
    with_day = _link(tmp_path, "day", [line.format(precision="day") for line in TESFAY])
    by_id = {row["record_id"]: row["cluster_id"] for row in csv.DictReader(with_day.splitlines())}
    assert by_id["X1"] == by_id["X2"] != by_id["X3"]
    # "exact", the word of files written before the contract's, is still read, and means the same.
    assert _link(tmp_path, "exact", [line.format(precision="exact") for line in TESFAY]) == with_day
    assert _link(tmp_path, "capitalised", [line.format(precision="Day") for line in TESFAY]) == with_day


def test_an_impossible_date_of_birth_is_warned_with_its_line_and_read_as_unknown(tmp_path, capsys):
    lines = [line.format(precision="day") for line in TESFAY]
    impossible = _link(tmp_path, "impossible", [lines[0], lines[1].replace("2010-03-04", "1854-01-81"), lines[2]])
    err = capsys.readouterr().err
    assert (
        "warning: line 3: date_of_birth: '1854-01-81' is not a date (YYYY-MM-DD, or YYYY-MM, YYYY); read as unknown"
        in err
    )
    assert "1 warning(s) on 1 line(s) (date_of_birth 1)" in err
    assert impossible.count("\n") == 1 + 3  # every record has its row
    # Read as unknown: linked exactly as the same record without a date of birth.
    assert impossible == _link(tmp_path, "undated", [lines[0], lines[1].replace("2010-03-04,day", ","), lines[2]])
    assert csvio.read_input(tmp_path / "impossible.csv").rows[1]["date_of_birth"] == ""


def test_dirty_values_are_warned_by_line_and_column_and_every_record_linked(tmp_path, capsys):
    output = _link(
        tmp_path,
        "dirty",
        [
            "A,Ali,Hassan,,,2010-03-04,day,male,SDN,Kent,2025-01-01",
            "B,Ali,Hassan,,,2010-03-04,sometime,Q,SD;SDN,Kent,2025-02-30",
            "C,,,,,2010-03-04,month,female,SDN,Kent,2025-01-01",
        ],
    )
    err = capsys.readouterr().err
    assert (
        "warning: line 3: date_of_birth_precision: 'sometime' is not one "
        "of day, month, year, estimated; the date of birth is read as unknown" in err
    )
    assert "warning: line 3: referral_date: '2025-02-30' is not a date (YYYY-MM-DD); read as unknown" in err
    assert (
        "warning: line 3: sex: 'Q' is not one of female, male, other, unknown (or F, M, X, U); read as unknown" in err
    )
    assert "warning: line 3: nationalities: 'SD' is not an ISO 3166 alpha-3 code (VNM, ERI, GBR); left out" in err
    assert (
        "warning: line 4: given_names: no name in given_names, family_name, names_in_original_script or aliases" in err
    )
    assert "line 2:" not in err
    assert "5 warning(s) on 2 line(s)" in err
    assert [row["record_id"] for row in csv.DictReader(output.splitlines())] == ["A", "B", "C"]
    rows = csvio.read_input(tmp_path / "dirty.csv").rows
    assert (
        rows[1]["date_of_birth"],
        rows[1]["date_of_birth_precision"],
        rows[1]["referral_date"],
        rows[1]["sex"],
        rows[1]["nationalities"],
    ) == ("", "", "", "", "SDN")


def test_malformed_lines_stop_the_run_naming_each_line_and_nothing_is_written(tmp_path, capsys):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(
        HEADER + "\n"
        "A,Ali,Hassan,,,2010-03-04,day,M,SDN,Kent,2025-01-01\n"
        "B,Ali,Hassan,,,2010-13-04,day,M,SDN,Kent,2025-01-01\n"
        "A,Ali,Hassan,,,2010-03-04,day,M,SDN,Kent,2025-01-01\n"
        "D,Ali,Hassan\n"
        ",Ali,Hassan,,,2010-03-04,day,M,SDN,Kent,2025-01-01\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"3 malformed line\(s\); nothing written.*\(1 warning\(s\) too"):
        call_command("linkage", input=str(source), output=str(target), quiet=True)
    err = capsys.readouterr().err
    assert "warning: line 3: date_of_birth: '2010-13-04'" in err  # a dirty value, reported with the rest
    assert "line 4: record_id: 'A' already used on line 2: each record needs its own" in err
    assert "line 5: 3 fields where the header has 11: check the commas and quotes" in err
    assert "line 6: record_id: required" in err
    assert not target.exists()


def test_a_byte_that_is_not_utf8_is_named_by_its_own_line(tmp_path, capsys):
    source = tmp_path / "in.csv"
    lines = [f"R{n},Ali,Hassan,,,2010-03-04,day,M,SDN,Kent,2025-01-01" for n in range(3000)]
    lines[2500] = lines[2500].replace("Kent", "K\xe9nt")  # Latin-1, as a spreadsheet might save it
    source.write_bytes((HEADER + "\n" + "\n".join(lines) + "\n").encode("latin-1"))
    with pytest.raises(CommandError, match="nothing written"):
        call_command("linkage", input=str(source), output=str(tmp_path / "out.csv"), quiet=True)
    assert (
        "line 2502: not valid UTF-8 at character 42 (after '10-03-04,day,M,SDN,K'): save the file as UTF-8"
        in capsys.readouterr().err
    )


def test_a_file_without_the_columns_is_refused(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("id,name\n1,Ali\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("linkage", input=str(source), output=str(tmp_path / "out.csv"), quiet=True)
    assert "line 1: missing column(s) record_id, given_names," in capsys.readouterr().err


def test_a_header_missing_one_contract_column_is_refused_naming_it(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text(
        HEADER.replace(",sex", "") + "\nA,Ali,Hassan,,,2010-03-04,day,SDN,Kent,2025-01-01\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match="nothing written"):
        call_command("linkage", input=str(source), output=str(tmp_path / "out.csv"), quiet=True)
    assert "line 1: missing column(s) sex (expected record_id,given_names," in capsys.readouterr().err
