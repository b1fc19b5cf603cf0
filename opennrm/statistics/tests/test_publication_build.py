"""publication_build and `opennrm statistics` against hand-built cases: the figures, the files, the bad inputs (ADR 0030)."""

import csv
import datetime as dt
import json
import warnings
import zipfile

import pytest
from django.core.management import CommandError, call_command

from opennrm.audit.models import AuditEvent
from opennrm.decisions.models import Decision
from opennrm.linkage.models import Person, PersonLink
from opennrm.policy import Role
from opennrm.referrals.models import DutyToNotify, Referral
from opennrm.statistics.errors import ExtractChanged, NoData, NotAllowed, PeriodError
from opennrm.statistics.models import Extract, Release
from opennrm.statistics.publication import PolicyError, PublicationPolicy
from opennrm.statistics.services import publication_build
from opennrm.statistics.tables import MappingError

TODAY = dt.date(2026, 12, 8)


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def people(make_user):
    return {
        "referrer": make_user(Role.FIRST_RESPONDER, "fr"),
        "sca": make_user(Role.SCA_DECISION_MAKER, "sca1"),
        "stats": make_user(Role.STATISTICIAN, "stats"),
    }


def referral(people, n, *, day, age="child", types=("labour",), subtypes=(), nation="ENG", sex="female", nat="VNM"):
    return Referral.objects.create(
        organisation=people["referrer"].organisation,
        created_by=people["referrer"],
        reference=f"NRM-T-{n}",
        nation=nation,
        competent_authority="SCA",
        received_at=noon(day),
        reasonable_grounds_due=day + dt.timedelta(days=7),
        age_group=age,
        potential_victim={"given_names": "Canary", "family_name": f"S{n}", "sex": sex, "nationalities": [nat]},
        exploitation=[{"types": list(types), "criminal_subtypes": list(subtypes)}],
        police={"force": "Kent Police"},
    )


def decide(people, r, stage, day, outcome="positive"):
    return Decision.objects.create(
        referral=r,
        stage=stage,
        outcome=outcome,
        state="issued",
        reasons="Synthetic",
        competent_authority="SCA",
        decided_by=people["sca"],
        decided_at=noon(day),
        reviewed_at=noon(day) if outcome == "negative" else None,
        policy_version="t",
        guidance_version="t",
    )


@pytest.fixture
def q3(people):
    """60 referrals in 2026 Q3: 40 children (20 of them the same 10 children, linked), 20 adults; decisions on 30."""
    made = []
    for i in range(60):
        day = dt.date(2026, 7, 1) + dt.timedelta(days=i)
        made.append(
            referral(
                people,
                i,
                day=day,
                age="child" if i < 40 else "adult",
                types=("criminal",) if i % 3 == 0 else ("labour",),
                subtypes=("county_lines",) if i % 6 == 0 else (),
                nation="ENG" if i % 10 else "WLS",
            )
        )
    # Referrals 0..9 and 10..19 are the same ten children.
    for i in range(10):
        person = Person.objects.create()
        for r in (made[i], made[i + 10]):
            PersonLink.objects.create(person=person, referral=r, method="confirmed", made_at=noon(dt.date(2026, 9, 1)))
    for i in range(30):
        decide(people, made[i], "reasonable_grounds", dt.date(2026, 7, 1) + dt.timedelta(days=i + 3 + i % 4))
    DutyToNotify.objects.create(
        organisation=people["referrer"].organisation,
        created_by=people["referrer"],
        received_at=noon(dt.date(2026, 8, 1)),
        nation="ENG",
        sex="male",
        exploitation=[{"types": ["labour"]}],
    )
    return made


def csvw_problems(metadata: str) -> list[str]:
    """What the W3C CSVW implementation (csvw) finds wrong in a CSV against its metadata: it logs each, row by row."""
    import logging

    from csvw import CSVW

    found = []

    class Collect(logging.Handler):
        def emit(self, record):
            found.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("csvw")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            valid = CSVW(metadata, validate=True).is_valid
        found += [str(w.message) for w in caught]
    finally:
        logger.removeHandler(handler)
    return found if found or valid else ["not valid"]


def figures(build, table):
    return {(f.dims, f.measure): (f.value, f.obs_status) for f in build.protected.figures[table]}


def test_a_quarter_is_built_counted_rounded_and_suppressed(people, q3, tmp_path):
    build = publication_build(
        actor=people["stats"],
        year=2026,
        quarter=3,
        output=tmp_path / "out",
        internal_output=tmp_path / "int",
        today=TODAY,
    )
    assert build.created and build.release.version == 1 and build.release.provisional
    t01 = figures(build, "t01_referrals_by_exploitation_type")
    total = ((("age_group", "total"), ("exploitation_type", "total")), "referrals")
    assert t01[total] == (60, "p")
    child_total = ((("age_group", "child"), ("exploitation_type", "total")), "referrals")
    assert t01[child_total] == (40, "p")
    # The same shared total in another table, the same answer.
    t04 = figures(build, "t04_referrals_by_nation")
    assert t04[((("age_group", "child"), ("nation", "total")), "referrals")] == (40, "p")
    # Duty to Notify: one report, suppressed, and its total with it.
    t08 = figures(build, "t08_duty_to_notify_by_nation")
    assert t08[((("nation", "total"),), "reports")] == (None, "c")
    # Children once each: 40 referrals of children are 30 children.
    t12 = figures(build, "t12_children_and_missing_episodes")
    assert t12[((), "children_referred")] == (30, "p")
    assert t12[((), "missing_episodes")] == (0, "p")
    # Medians only beside a published count.
    t11 = figures(build, "t11_time_to_decision")
    rg_child = (("stage", "reasonable_grounds"), ("age_group", "child"))
    assert t11[(rg_child, "decisions")] == (30, "p")
    assert t11[(rg_child, "median_days")][0] is not None
    assert t11[((("stage", "conclusive_grounds"), ("age_group", "child")), "median_days")] == (None, "x")
    # The release, its extract and the audit event, in the database.
    extract = build.release.extract
    assert extract.row_counts == {"referrals": 60, "decisions": 30, "missing_episodes": 0, "duty_to_notify": 1}
    assert len(extract.content_hash) == 64
    assert AuditEvent.objects.filter(action="statistics.release_build", object_id=str(build.release.uuid)).exists()
    # The internal ledger names the suppressed cells with their true counts; it is not among the public files.
    ledger = (tmp_path / "int" / "suppression-ledger-2026-Q3-v1.csv").read_text()
    assert "reports(all),1,primary" in ledger
    assert not any("ledger" in p.name for p in (tmp_path / "out").iterdir())


def test_the_tidy_csvs_have_the_contracts_columns_and_their_csvw_metadata_validates(people, q3, tmp_path):
    out = tmp_path / "out"
    publication_build(actor=people["stats"], year=2026, quarter=3, output=out, internal_output=tmp_path, today=TODAY)
    csvs = sorted(out.glob("*.csv"))
    assert len(csvs) == 12
    for path in csvs:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        header = rows[0]
        assert header[:2] == ["period", "table"] and header[-3:] == ["measure", "value", "obs_status"]
        for row in rows[1:]:
            value, status = row[-2], row[-1]
            assert status in {"", "c", "x", "z", "p", "r"}
            assert (value == "") == (status in {"c", "x", "z"})
        assert csvw_problems(str(path) + "-metadata.json") == [], path
    # A value the metadata does not allow is caught: the validation is not a formality.
    bad = out / "t03_referrals_by_sex.csv"
    bad.write_text(bad.read_text().replace(",female,", ",feminine,", 1))
    assert csvw_problems(str(bad) + "-metadata.json") == [f"{bad}:2:4 sex: invalid lexical value for string: feminine"]


def test_the_workbook_has_cover_contents_notes_then_a_table_a_sheet_titled_in_a1_without_merged_cells(
    people, q3, tmp_path
):
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow

    out = tmp_path / "out"
    publication_build(actor=people["stats"], year=2026, quarter=3, output=out, internal_output=tmp_path, today=TODAY)
    (workbook,) = out.glob("*.ods")
    assert zipfile.ZipFile(workbook).read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    doc = load(str(workbook))
    sheets = doc.spreadsheet.getElementsByType(Table)
    names = [s.getAttribute("name") for s in sheets]
    assert names[:3] == ["Cover", "Contents", "Notes"] and len(names) == 15
    assert b"number-columns-spanned" not in zipfile.ZipFile(workbook).read("content.xml")
    for sheet in sheets:
        rows = sheet.getElementsByType(TableRow)
        a1 = str(rows[0].getElementsByType(TableCell)[0])
        assert a1.strip(), sheet.getAttribute("name")
        for row in rows:  # no blank rows as spacing
            assert any(str(c).strip() for c in row.getElementsByType(TableCell)), sheet.getAttribute("name")
    notes = " ".join(str(c) for c in sheets[2].getElementsByType(TableCell))
    for code in ("[c]", "[p]", "[r]", "[x]", "[z]"):
        assert code in notes
    assert "each child once" in notes.lower() or "counted once" in notes.lower()
    # Numbers are stored as numbers.
    content = zipfile.ZipFile(workbook).read("content.xml").decode()
    assert 'office:value-type="float"' in content


def test_a_rebuild_of_unchanged_data_gives_the_same_release_and_changed_data_needs_revise(people, q3, tmp_path):
    first = publication_build(actor=people["stats"], year=2026, quarter=3, today=TODAY)
    again = publication_build(actor=people["stats"], year=2026, quarter=3, today=TODAY)
    assert not again.created and again.release.pk == first.release.pk
    assert again.protected.released == first.release.figures
    for i in range(100, 110):
        referral(people, i, day=dt.date(2026, 9, 2), age="adult")
    with pytest.raises(ExtractChanged, match="--revise"):
        publication_build(actor=people["stats"], year=2026, quarter=3, today=TODAY)
    assert Release.objects.count() == 1
    revised = publication_build(actor=people["stats"], year=2026, quarter=3, revise=True, today=TODAY)
    assert revised.release.version == 2 and revised.release.revises_id == first.release.pk
    t01 = figures(revised, "t01_referrals_by_exploitation_type")
    assert t01[((("age_group", "total"), ("exploitation_type", "total")), "referrals")] == (70, "r")
    assert t01[((("age_group", "child"), ("exploitation_type", "total")), "referrals")] == (40, "p")


def test_the_bad_inputs_each_say_why_and_publish_nothing(people, q3, tmp_path):
    out = tmp_path / "out"
    kwargs = dict(actor=people["stats"], output=out, internal_output=tmp_path / "int", today=TODAY)
    with pytest.raises(PeriodError, match="in the future"):
        publication_build(year=2027, quarter=1, **kwargs)
    with pytest.raises(PeriodError, match="has not ended"):
        publication_build(year=2026, quarter=4, **kwargs)
    with pytest.raises(PeriodError, match="no quarter 5"):
        publication_build(year=2026, quarter=5, **kwargs)
    with pytest.raises(NoData, match="nothing to publish"):
        publication_build(year=2025, quarter=1, **kwargs)
    with pytest.raises(PolicyError, match="threshold 3"):
        publication_build(year=2026, quarter=3, policy=PublicationPolicy(threshold=3), **kwargs)
    with pytest.raises(NotAllowed):
        publication_build(**{**kwargs, "actor": people["sca"]}, year=2026, quarter=3)
    odd = referral(people, 999, day=dt.date(2026, 8, 3), types=("piracy",))
    with pytest.raises(MappingError, match=r"exploitation_type 'piracy' is not in the code list \(records NRM-T-999\)"):
        publication_build(year=2026, quarter=3, **kwargs)
    odd.delete()
    assert not out.exists() and Release.objects.count() == 0 and Extract.objects.count() == 0


def test_a_failure_while_writing_leaves_neither_files_nor_a_release(people, q3, tmp_path, monkeypatch):
    from opennrm.statistics import outputs

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(outputs, "write_workbook", broken)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        publication_build(
            actor=people["stats"], year=2026, quarter=3, output=out, internal_output=tmp_path / "i", today=TODAY
        )
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name != "i"] == []
    assert Release.objects.count() == 0


def test_the_command_writes_the_publication_and_says_why_when_it_cannot(people, q3, tmp_path, capsys, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 8, 9, tzinfo=dt.UTC))
    out = tmp_path / "out"
    call_command(
        "statistics",
        "--year",
        "2026",
        "--quarter",
        "Q3",
        "--output",
        str(out),
        "--as",
        "stats",
        "--internal-output",
        str(tmp_path / "int"),
    )
    printed = capsys.readouterr().out
    assert "2026 Q3, version 1: built." in printed and "referrals 60" in printed
    assert (out / "nrm-statistics-2026-Q3.ods").exists()
    with pytest.raises(CommandError, match="is not empty"):
        call_command(
            "statistics",
            "--year",
            "2026",
            "--quarter",
            "Q3",
            "--output",
            str(out),
            "--internal-output",
            str(tmp_path / "int"),
        )
    with pytest.raises(CommandError, match="in the future"):
        call_command("statistics", "--year", "2027", "--output", str(tmp_path / "x"))
    assert json.loads((out / "t12_children_and_missing_episodes.csv-metadata.json").read_text())["url"] == (
        "t12_children_and_missing_episodes.csv"
    )


def test_the_policy_is_configurable_versioned_and_refused_below_the_contracts_floor(settings):
    from opennrm.statistics.publication import configured_policy

    assert configured_policy() == PublicationPolicy()
    settings.STATISTICS_PUBLICATION_POLICY = {
        "threshold": 10,
        "rounding_base": 10,
        "min_group_for_summary": 10,
        "version": "local-2027-01",
    }
    policy = configured_policy()
    assert (policy.threshold, policy.rounding_base, policy.version) == (10, 10, "local-2027-01")
    settings.STATISTICS_PUBLICATION_POLICY = {"threshold": 10}  # the default minimum group (5) is now below it
    with pytest.raises(PolicyError, match="minimum group for a median"):
        configured_policy()
    settings.STATISTICS_PUBLICATION_POLICY = {"treshold": 10}
    with pytest.raises(PolicyError, match="Unknown disclosure policy settings: treshold"):
        configured_policy()


def test_a_release_is_public_only_once_a_statistician_publishes_it(people, q3):
    from opennrm.statistics.errors import ReleaseSuperseded
    from opennrm.statistics.selectors import published_releases
    from opennrm.statistics.services import release_publish

    first = publication_build(actor=people["stats"], year=2026, quarter=3, today=TODAY).release
    assert list(published_releases()) == []
    with pytest.raises(NotAllowed):
        release_publish(actor=people["sca"], release=first)
    referral(people, 500, day=dt.date(2026, 9, 3))
    second = publication_build(actor=people["stats"], year=2026, quarter=3, revise=True, today=TODAY).release
    with pytest.raises(ReleaseSuperseded, match="publish that one"):
        release_publish(actor=people["stats"], release=first)
    published = release_publish(actor=people["stats"], release=second)
    assert list(published_releases()) == [published] and published.published_by == people["stats"]
    assert AuditEvent.objects.filter(action="statistics.release_publish", object_id=str(second.uuid)).count() == 1


def test_a_year_beside_its_four_quarters_gives_away_no_count_a_quarter_withheld(people, monkeypatch):
    from opennrm.statistics import services
    from opennrm.statistics.publication import quarter_links
    from opennrm.statistics.tests.test_publication_properties import attacker_range

    # Unrounded counts, so that a year minus three published quarters would give the fourth away exactly.
    exact = PublicationPolicy(rounding_base=1)
    n = 0
    for q, sexual in ((1, 10), (2, 10), (3, 10), (4, 2)):
        day = dt.date(2025, 3 * q - 1, 1)
        for types, count in ((("labour",), 10), (("sexual",), sexual)):
            for _ in range(count):
                referral(people, n, day=day, types=types)
                n += 1
    for q in (1, 2, 3, 4):
        publication_build(actor=people["stats"], year=2025, quarter=q, policy=exact, today=TODAY)

    def attack(build):
        quarters = services._quarters_released(2025)
        extra_counts, extra_lines, before = quarter_links(build.tabulation, quarters)
        shown = {}
        for table in build.tabulation.tables:
            for cell, fig in zip(table.cells, build.protected.figures[table.id]):
                if cell.key is not None:
                    shown[cell.key] = (fig.value, fig.obs_status)
        for key, was_suppressed in before.items():
            shown[key] = (None, "c") if was_suppressed else (extra_counts[key], "")
        q4_sexual = ("quarter", 4, ("referrals", (("age_group", "child"), ("exploitation_type", "sexual"))))
        assert shown[q4_sexual] == (None, "c")
        return attacker_range(q4_sexual, shown, [*build.tabulation.lines, *extra_lines], exact)

    year = publication_build(actor=people["stats"], year=2025, policy=exact, today=TODAY)
    low, high = attack(year)
    assert high - low + 1 >= exact.threshold - 1
    # The control: the same year protected on its own gives the fourth quarter's 2 away.
    Release.objects.filter(quarter=0).delete()
    monkeypatch.setattr(services, "_quarters_released", lambda year, real=services._quarters_released: None)
    alone = publication_build(actor=people["stats"], year=2025, policy=exact, today=TODAY)
    monkeypatch.undo()
    assert attack(alone) == (2, 2)


def test_a_quarter_is_not_released_after_its_year_which_it_could_be_set_against(people):
    # Two quarters' referrals; the year is released first (here, before any quarter).
    n = 0
    for q in (1, 2):
        for _ in range(8):
            referral(people, n, day=dt.date(2025, 3 * q - 1, 1), types=("labour",))
            n += 1
    year = publication_build(actor=people["stats"], year=2025, today=TODAY)
    releases = Release.objects.count()
    with pytest.raises(PeriodError, match="A quarter cannot be released or revised after its year"):
        publication_build(actor=people["stats"], year=2025, quarter=1, today=TODAY)
    assert Release.objects.count() == releases
    # The year itself is rebuilt as before: unchanged data, the same release.
    assert publication_build(actor=people["stats"], year=2025, today=TODAY).release == year.release
