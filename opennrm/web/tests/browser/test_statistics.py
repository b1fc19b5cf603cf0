"""The public statistics pages in the real Chromium over the demo (issue 24 points 4 and 5): stats.one prepares,
previews and publishes last year's release; signed out, anyone reads it. axe at a desktop's and a phone's width."""

import datetime as dt
import re

from playwright.sync_api import expect

from ..test_statistics_pages import workbook_counts
from .helpers import BROWSER_TESTS, assert_accessible, sign_in, sign_out

pytestmark = BROWSER_TESTS

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TREND = "Children referred to the NRM by year"


def test_stats_one_publishes_last_year_and_anyone_reads_it_signed_out(page, tmp_path):
    year = str(dt.date.today().year - 1)
    sign_in(page, "stats.one")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Prepare statistics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prepare a release")
    assert_accessible(page)
    page.get_by_label("Year", exact=True).fill(year)
    page.get_by_label("The calendar year").check()
    page.get_by_role("button", name="Build the release").click()
    expect(page).to_have_url(re.compile(r"/preview$"))
    preview_url = page.url
    if page.get_by_role("button", name=re.compile("^Publish")).count():  # not yet published by an earlier run
        expect(page.locator("#preview-banner")).to_contain_text("Preview – not published")
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            assert_accessible(page)
        page.set_viewport_size(DESKTOP)
        page.get_by_label("I have checked the figures").check()
        page.get_by_role("button", name=re.compile("^Publish")).click()
        expect(page).not_to_have_url(re.compile(r"/preview$"))
    else:
        page.get_by_role("link", name="its public page").click()
    release_url = page.url
    assert release_url != preview_url
    sign_out(page)

    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        page.goto("/sign-in")  # signed out, the footer's link leads to the statistics
        page.locator("footer").get_by_role("link", name="Official statistics").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("National Referral Mechanism statistics")
        expect(page.locator("#releases")).to_contain_text(year)
        expect(page.get_by_role("img", name=TREND)).to_be_visible()
        expect(page.get_by_role("table", name=TREND)).to_contain_text("1,281")
        expect(page.get_by_role("link", name=re.compile("Subscribe to the feed"))).to_be_visible()
        assert_accessible(page)

        page.goto(release_url)
        expect(page.get_by_role("heading", level=1)).to_contain_text(year)
        expect(page.locator("#headlines")).to_contain_text(year)
        expect(page.locator("#national-source")).to_contain_text(
            "Source: Home Office, National Referral Mechanism statistics (published)"
        )
        expect(page.get_by_role("img", name=TREND)).to_be_visible()
        expect(page.locator("#files")).to_contain_text(".ods")
        assert_accessible(page)
        # Signed out, the workbook downloads, and no count in it is 1 to 4 (the demo data, disclosure-controlled).
        workbook = page.locator("#files a[href$='.ods']").get_attribute("href")
        download = page.request.get(workbook)
        assert download.ok and download.headers["content-type"] == "application/vnd.oasis.opendocument.spreadsheet"
        (tmp_path / "workbook.ods").write_bytes(download.body())
        counts = workbook_counts(tmp_path / "workbook.ods")
        assert counts and not [n for n in counts if 1 <= n <= 4]

        page.goto("/statistics/calendar")
        expect(page.get_by_role("heading", level=1)).to_have_text("Release calendar")
        assert_accessible(page)
