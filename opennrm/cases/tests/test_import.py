"""`opennrm import`: good lines stored with the right dates, bad lines reported by number, idempotent."""

import datetime as dt
import io
import json
import unicodedata

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from opennrm.audit.models import AuditEvent
from opennrm.decisions.routing import reasonable_grounds_due
from opennrm.demo.synthetic import import_lines, write_import_file
from opennrm.policy import Role
from opennrm.referrals.models import Referral
from opennrm.tests.names import NOT_NAMES, REAL_NAMES

pytestmark = pytest.mark.django_db


@pytest.fixture
def importer(make_user):
    return make_user(Role.FIRST_RESPONDER, "fr.import")


def run_import(path, username="fr.import", *extra) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", str(path), "--as", username, *extra, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def write_lines(path, lines: list) -> None:
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines),
        encoding="utf-8",
    )


@pytest.mark.parametrize("jobs", ["0", "2"])  # in this process, and in worker processes
def test_a_good_file_is_imported_with_its_dates(tmp_path, importer, jobs):
    path = tmp_path / "good.jsonl"
    write_import_file(path, 30, seed=7)
    code, out, err = run_import(path, "fr.import", "--jobs", jobs, "--batch-size", "8")
    assert (code, err) == (0, "")
    assert "Imported 30 referrals" in out and "0 refused" in out
    lines = {line["external_id"]: line for line in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    referrals = list(Referral.objects.filter(organisation=importer.organisation))
    assert len(referrals) == 30
    for referral in referrals:
        line = lines[referral.external_id]
        received_at = dt.datetime.fromisoformat(line["received_at"])
        assert referral.received_at == received_at
        assert referral.reasonable_grounds_due == reasonable_grounds_due(
            received_at=received_at, nation=line["nation"], competent_authority=referral.competent_authority
        )
        assert referral.reference.startswith("NRM-") and referral.created_by == importer
        assert referral.potential_victim["given_names"] == line["potential_victim"]["given_names"]
    assert AuditEvent.objects.filter(action="referral.import").count() == 30


def test_importing_again_duplicates_nothing(tmp_path, importer):
    path = tmp_path / "again.jsonl"
    write_import_file(path, 12, seed=3)
    assert run_import(path)[0] == 0
    references = set(Referral.objects.values_list("reference", flat=True))
    code, out, _err = run_import(path)
    assert code == 0
    assert "Imported 0 referrals" in out and "12 already present" in out
    assert set(Referral.objects.values_list("reference", flat=True)) == references


def test_bad_lines_are_reported_by_number_and_good_lines_imported(tmp_path, importer):
    good = list(import_lines(3, seed=11, now=timezone.now()))
    bad_sex = json.loads(json.dumps(good[1]))
    bad_sex["potential_victim"]["sex"] = "boy"
    bad_sex["external_id"] = "BAD-1"
    no_contact = json.loads(json.dumps(good[2]))
    no_contact.update(external_id="BAD-2", local_authority_contact=None, consent=None)
    no_contact["potential_victim"]["age_group"] = "child"
    no_contact["nation"] = "XXX"
    path = tmp_path / "mixed.jsonl"
    write_lines(path, [good[0], bad_sex, "", '{"nation": "ENG", ', no_contact, "[1, 2]", "   ", good[1]])

    code, out, err = run_import(path)
    assert code == 1
    assert "Imported 2 referrals" in out and "4 refused" in out
    assert "line 2: potential_victim.sex: Choose female, male, other or unknown" in err
    assert "line 4: not valid JSON" in err
    assert "line 5: nation: Choose ENG, WLS, SCT or NIR" in err
    assert "line 5: local_authority_contact: Give the local authority you contacted" in err
    assert "line 6: body: The body must be a JSON object" in err
    assert "line 3" not in err and "line 7" not in err  # blank lines are skipped, not refused
    assert "Refused lines: 2, 4, 5, 6." in err
    assert set(Referral.objects.values_list("external_id", flat=True)) == {
        good[0]["external_id"],
        good[1]["external_id"],
    }


def test_invalid_json_and_encoding_are_reported_not_raised(tmp_path, importer):
    path = tmp_path / "broken.jsonl"
    path.write_bytes(b'{"nation": "ENG"\n\xff\xfe not utf-8\n')
    code, _out, err = run_import(path)
    assert code == 1
    assert "line 1: not valid JSON: Expecting ',' delimiter" in err
    assert "line 2: not valid UTF-8" in err
    assert not Referral.objects.exists()


def test_importer_must_be_a_first_responder_and_the_file_must_exist(tmp_path, importer, make_user):
    make_user(Role.SCA_DECISION_MAKER, "sca.import")
    path = tmp_path / "one.jsonl"
    write_import_file(path, 1)
    with pytest.raises(CommandError, match="only a first responder"):
        run_import(path, "sca.import")
    with pytest.raises(CommandError, match="no active user 'nobody'"):
        run_import(path, "nobody")
    with pytest.raises(CommandError, match="Cannot read"):
        run_import(tmp_path / "missing.jsonl")
    assert not Referral.objects.exists()


def test_names_that_are_not_names_are_refused_by_line_and_names_in_every_script_imported(tmp_path, importer):
    lines = list(import_lines(4 + len(REAL_NAMES), seed=13, now=timezone.now()))
    refused = {  # line number: (field, name)
        1: ("given_names", NOT_NAMES["no-break-space"]),
        2: ("family_name", NOT_NAMES["right-to-left-override"]),
        3: ("names_in_original_script", NOT_NAMES["zero-width-space"]),
    }
    for number, (field, (name, _)) in refused.items():
        lines[number - 1]["potential_victim"][field] = name
    lines[3]["potential_victim"]["aliases"] = ["Annie", NOT_NAMES["first-strong-isolate"][0]]
    real = dict(zip(REAL_NAMES.values(), lines[4:]))
    for name, line in real.items():
        line["potential_victim"].update(given_names=name, aliases=[name])
    path = tmp_path / "names.jsonl"
    write_lines(path, lines)

    code, out, err = run_import(path)
    assert code == 1
    assert f"Imported {len(REAL_NAMES)} referrals" in out and "4 refused" in out
    for number, (field, (_, message)) in refused.items():
        assert f"line {number}: potential_victim.{field}: {message}" in err
    assert f"line 4: potential_victim.aliases.1: {NOT_NAMES['first-strong-isolate'][1]}" in err
    imported = {r.external_id: r.potential_victim for r in Referral.objects.all()}
    assert set(imported) == {line["external_id"] for line in real.values()}
    for name, line in real.items():
        assert imported[line["external_id"]]["given_names"] == unicodedata.normalize("NFC", name)
        assert imported[line["external_id"]]["aliases"] == [unicodedata.normalize("NFC", name)]
