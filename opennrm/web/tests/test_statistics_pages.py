"""The official statistics' pages (issue 24 points 4 and 5): public releases, the statistician's prepare, preview and
publish, the Atom feed, the calendar, the national reference series beside this service's own figures."""

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from odf.opendocument import load
from odf.table import TableCell, TableRow

from opennrm.audit.models import AuditEvent
from opennrm.linkage.models import Person, PersonLink
from opennrm.policy import Role
from opennrm.statistics.models import Release, ReleaseStatus
from opennrm.statistics.selectors import (
    NATIONAL_FILE,
    headlines,
    national_children_referred_by_year,
    planned_date,
    release_calendar,
)
from opennrm.statistics.services import publication_build
from opennrm.statistics.tables import MEASURES
from opennrm.statistics.tests.test_publication_build import noon, referral

ATOM = "{http://www.w3.org/2005/Atom}"
CONFIRMED = {"confirm": "yes"}


@pytest.fixture
def people(make_user):
    return {
        "referrer": make_user(Role.FIRST_RESPONDER, "fr"),
        "sca": make_user(Role.SCA_DECISION_MAKER, "sca1"),
        "stats": make_user(Role.STATISTICIAN, "stats.one"),
    }


def referrals_in(people, year: int, children: int, adults: int, *, start: int = 0) -> list:
    """Demo-like referrals spread over the year; children 0..9 are referred twice (the same person, linked)."""
    made = []
    for i in range(children + adults):
        day = dt.date(year, 1, 1) + dt.timedelta(days=(i * 7) % 360)
        made.append(
            referral(
                people,
                start + i,
                day=day,
                age="child" if i < children else "adult",
                types=("criminal",) if i % 3 == 0 else ("labour",),
                nation="ENG" if i % 4 else "WLS",
            )
        )
    for i in range(0, min(children, 20), 2):
        person = Person.objects.create()
        for r in (made[i], made[i + 1]):
            PersonLink.objects.create(person=person, referral=r, method="confirmed", made_at=noon(dt.date(year, 12, 1)))
    return made


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def build_and_publish(client: Client, year: int, **form):
    response = client.post("/statistics/prepare", {"year": str(year), "quarter": "0", **form})
    assert response.status_code == 302, response.content.decode()[:2000]
    preview = response.headers["Location"]
    assert preview.endswith("/preview")
    release = Release.objects.get(uuid=preview.split("/")[-2])
    published = client.post(f"/statistics/releases/{release.uuid}/publish", CONFIRMED)
    assert published.status_code == 302
    release.refresh_from_db()
    return release, preview


SUMMARIES = {MEASURES[m] for m in ("percentage_positive", "median_days", "p90_days")}  # not counts


def workbook_counts(path) -> list[float]:
    """Every count the .ods workbook publishes: each table row's Value, where its Measure is a count (not a median,
    a percentile or a percentage), read with odfpy as a reader's spreadsheet would."""
    counts = []
    for row in load(str(path)).getElementsByType(TableRow):
        cells = row.getElementsByType(TableCell)
        if len(cells) < 3:
            continue
        measure, value = str(cells[-3]), cells[-2]
        if value.getAttribute("valuetype") == "float" and measure not in SUMMARIES:
            counts.append(float(value.getAttribute("value")))
    return counts


def test_the_national_series_is_read_as_the_csv_gives_it():
    series = national_children_referred_by_year()
    assert series[2009] == 151 and series[2016] == 1281 and series[2023] == 7432
    assert list(series) == list(range(2009, 2024))
    # Independently of the selector: the CSV's own rows for a child, every location but the total, summed.
    with NATIONAL_FILE.open(newline="") as f:
        parts = [r for r in csv.DictReader(f) if r["Age at exploitation"].startswith("Child")]
    for year in (2009, 2016, 2023):
        assert series[year] == sum(
            int(r["NRM referrals"])
            for r in parts
            if r["Year"] == str(year) and r["Location of exploitation"] != "Total"
        )
    assert all(series[y] > 7000 for y in (2022, 2023))


def test_the_journey_stats_one_builds_and_publishes_2025_and_anyone_reads_it(people, tmp_path):
    referrals_in(people, 2025, children=60, adults=40)
    stats = signed_in(people["stats"])
    anonymous = Client()
    assert anonymous.get("/statistics").status_code == 200

    # Prepared: not public, only previewed by the statistician.
    response = stats.post("/statistics/prepare", {"year": "2025", "quarter": "0"})
    assert response.status_code == 302
    release = Release.objects.get()
    assert release.status == ReleaseStatus.PREPARED
    assert anonymous.get(f"/statistics/releases/{release.uuid}").status_code == 404
    assert stats.get(f"/statistics/releases/{release.uuid}").status_code == 404
    assert "2025" not in anonymous.get("/statistics").content.decode().split("Children referred in the UK")[0]
    preview = stats.get(response.headers["Location"])
    assert preview.status_code == 200 and "Preview – not published" in preview.content.decode()
    files = re.findall(r'href="(/statistics/releases/[^"]+/files/([^"]+))"', preview.content.decode())
    assert any(name.endswith(".ods") for _, name in files)
    assert anonymous.get(files[0][0]).status_code == 404  # the files of a prepared release are not public either

    # Publishing needs the confirmation.
    refused = stats.post(f"/statistics/releases/{release.uuid}/publish", {})
    assert refused.status_code == 422
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PREPARED
    assert stats.post(f"/statistics/releases/{release.uuid}/publish", CONFIRMED).status_code == 302
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PUBLISHED and release.published_by == people["stats"]
    assert AuditEvent.objects.filter(action="statistics.release_publish", object_id=str(release.uuid)).exists()

    # Signed out, anyone reads it: the list, the page with its headlines, the national chart, the downloads.
    listing = anonymous.get("/statistics").content.decode()
    assert f"/statistics/releases/{release.uuid}" in listing and "Read more" in listing
    page = anonymous.get(f"/statistics/releases/{release.uuid}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Preview" not in text
    assert "children referred" in text.lower() or "Referrals of children" in text
    assert "Source: Home Office, National Referral Mechanism statistics (published)" in text
    assert "<svg" in text and 'id="national-trend-table"' in text
    assert ">1,281<" in text and ">151<" in text
    ods = next(url for url, name in files if name.endswith(".ods"))
    download = anonymous.get(ods)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    (tmp_path / "downloaded.ods").write_bytes(b"".join(download.streaming_content))
    numbers = workbook_counts(tmp_path / "downloaded.ods")
    assert len(numbers) > 20, "the workbook has its counts"
    assert not [n for n in numbers if 1 <= n <= 4], "no count of 1 to 4 is published"
    tidy = next(url for url, name in files if name.endswith(".csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(anonymous.get(tidy).streaming_content).decode())))
    assert rows and not [r for r in rows if r["value"] and 1 <= float(r["value"]) <= 4]

    # The headline is from the published, rounded figure (children counted once: 60 referrals of 50 children).
    assert headlines(release)[0].value == 50


def test_a_revision_needs_a_reason_and_shows_it(people):
    referrals_in(people, 2025, children=30, adults=20)
    stats = signed_in(people["stats"])
    first, _ = build_and_publish(stats, 2025)
    referrals_in(people, 2025, children=10, adults=0, start=500)
    changed = stats.post("/statistics/prepare", {"year": "2025", "quarter": "0"})
    assert changed.status_code == 409 and "--revise" in changed.content.decode()
    no_reason = stats.post("/statistics/prepare", {"year": "2025", "quarter": "0", "revise": "yes"})
    assert no_reason.status_code == 409 and "Say why" in no_reason.content.decode()
    second, _ = build_and_publish(stats, 2025, revise="yes", reason="Ten referrals received late were added")
    assert second.version == 2 and second.reason == "Ten referrals received late were added"
    page = Client().get(f"/statistics/releases/{second.uuid}").content.decode()
    assert "Ten referrals received late were added" in page and "revises version 1" in page
    old = Client().get(f"/statistics/releases/{first.uuid}").content.decode()
    assert "This release has been revised" in old
    first.refresh_from_db()
    assert first.status == ReleaseStatus.PUBLISHED and first.figures != second.figures  # never changed in place


def test_headlines_compare_with_the_previous_year_from_published_figures(people):
    referrals_in(people, 2024, children=40, adults=10)
    referrals_in(people, 2025, children=80, adults=10, start=1000)
    stats = signed_in(people["stats"])
    build_and_publish(stats, 2024)
    release, _ = build_and_publish(stats, 2025)
    children = headlines(release)[0]
    # 40 referrals of 30 children (10 pairs linked) and 80 of 70: rounded to 5, 30 then 70, a rise of 133%.
    assert (children.previous, children.value) == (30, 70)
    assert children.text == "Referrals of children rose by 133% to 70 in 2025 (from 30 in 2024)"
    page = Client().get("/statistics").content.decode()
    assert "rose by 133% to 70 in 2025" in page


def test_the_atom_feed_is_valid_atom_with_the_published_releases_only(people):
    referrals_in(people, 2025, children=30, adults=20)
    stats = signed_in(people["stats"])
    empty = ET.fromstring(Client().get("/statistics/releases.atom").content)
    assert empty.tag == f"{ATOM}feed" and empty.findall(f"{ATOM}entry") == []
    # A quarter prepared, never published (before its year: a quarter is not released after its year).
    publication_build(actor=people["stats"], year=2025, quarter=1)
    published, _ = build_and_publish(stats, 2025)
    response = Client().get("/statistics/releases.atom")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    assert feed.find(f"{ATOM}link[@rel='self']").get("href").endswith("/statistics/releases.atom")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    for required in ("id", "title", "updated", "link", "summary"):
        assert entry.find(f"{ATOM}{required}") is not None, required
    assert entry.find(f"{ATOM}id").text == f"urn:uuid:{published.uuid}"
    assert dt.datetime.fromisoformat(entry.find(f"{ATOM}updated").text).tzinfo is not None
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/statistics/releases/{published.uuid}")


@pytest.mark.parametrize("role", [r for r in Role if r != Role.STATISTICIAN])
def test_only_a_statistician_prepares_previews_and_publishes(make_user, people, role):
    referrals_in(people, 2025, children=20, adults=0)
    release = publication_build(actor=people["stats"], year=2025).release
    other = signed_in(make_user(role, f"other.{role}"))
    assert other.get("/statistics/prepare").status_code == 403
    assert other.post("/statistics/prepare", {"year": "2025", "quarter": "0"}).status_code == 403
    assert other.get(f"/statistics/releases/{release.uuid}/preview").status_code == 403
    assert other.post(f"/statistics/releases/{release.uuid}/publish", CONFIRMED).status_code == 403
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PREPARED and Release.objects.count() == 1
    # The public pages answer everyone.
    for url in ("/statistics", "/statistics/calendar", "/statistics/releases.atom"):
        assert other.get(url).status_code == 200


def test_signed_out_the_statistician_pages_send_to_sign_in_and_the_public_pages_answer(people):
    referrals_in(people, 2025, children=20, adults=0)
    release = publication_build(actor=people["stats"], year=2025).release
    anonymous = Client()
    for url in ("/statistics/prepare", f"/statistics/releases/{release.uuid}/preview"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert anonymous.post(f"/statistics/releases/{release.uuid}/publish", CONFIRMED).status_code == 302
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PREPARED
    for url in ("/statistics", "/statistics/calendar", "/statistics/releases.atom"):
        assert anonymous.get(url).status_code == 200
    assert anonymous.get(f"/statistics/releases/{release.uuid}").status_code == 404


def test_the_prepare_page_says_what_is_wrong(people):
    stats = signed_in(people["stats"])
    assert stats.get("/statistics/prepare").status_code == 200
    bad = stats.post("/statistics/prepare", {"year": "twenty", "quarter": "0"})
    assert bad.status_code == 422 and "Enter the year as 4 digits" in bad.content.decode()
    future = stats.post("/statistics/prepare", {"year": "2099", "quarter": "0"})
    assert future.status_code == 409 and "is in the future" in future.content.decode()
    empty = stats.post("/statistics/prepare", {"year": "2010", "quarter": "2"})
    assert empty.status_code == 409 and "nothing to publish" in empty.content.decode()
    assert Release.objects.count() == 0


def test_the_calendar_is_computed_from_the_quarters(db):
    assert planned_date(2026, 3) == dt.date(2026, 11, 26)  # last Thursday of November
    assert planned_date(2026, 4) == planned_date(2026, 0) == dt.date(2027, 2, 25)
    announced = release_calendar(dt.date(2026, 12, 8))
    assert [a.period_label for a in announced][:2] == ["2026 Q4", "2026 (the calendar year)"]
    assert all(dt.date(2026, 12, 8) <= a.planned for a in announced)


def test_the_command_line_records_a_revisions_reason_too(people, tmp_path):
    from django.core.management import call_command

    referrals_in(people, 2025, children=30, adults=20)
    call_command(
        "statistics", "--year", "2025", "--output", str(tmp_path / "v1"), "--as", "stats.one", stdout=io.StringIO()
    )
    referrals_in(people, 2025, children=10, adults=0, start=500)
    call_command(
        "statistics",
        "--year",
        "2025",
        "--output",
        str(tmp_path / "v2"),
        "--as",
        "stats.one",
        "--revise",
        "--reason",
        "Late referrals added",
        stdout=io.StringIO(),
    )
    assert Release.objects.get(version=2).reason == "Late referrals added"
