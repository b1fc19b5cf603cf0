"""The managers' dashboard in the real Chromium: axe's WCAG 2.0–2.2 A and AA rules, charts with tables, the GET form without JavaScript."""

import re

from playwright.sync_api import expect

from .helpers import BROWSER_TESTS, assert_accessible, sign_in

pytestmark = BROWSER_TESTS


def test_dashboard_for_a_decision_maker_with_its_charts_tables_and_errors(page):
    sign_in(page, "sca.one")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Decisions dashboard")
    for title in (
        "Open cases by stage",
        "Days from referral to the Reasonable Grounds decision",
        "Reasonable Grounds decisions made within the deadline",
        "Missed deadlines by competent authority and nation",
    ):
        expect(page.get_by_role("img", name=title)).to_be_visible()
        expect(page.get_by_role("table", name=title)).to_be_visible()
    # The demo's open SCA cases are counted in the table, the same figure as the chart's.
    total = page.locator("#open-table tbody tr").last
    expect(total).to_contain_text(re.compile(r"All open cases\s*[1-9]"))
    assert_accessible(page)

    # A start date that is not a real date, and an end date before it: both named, each linked to its box.
    page.get_by_role("group", name="Start date").get_by_label("Day").fill("31")
    page.get_by_role("group", name="Start date").get_by_label("Month").fill("2")
    page.get_by_role("group", name="Start date").get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Show the figures").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The start date must be a real date")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)
    summary.get_by_role("link", name=re.compile("start date")).click()
    expect(page.locator("#from-day")).to_be_focused()


def test_dashboard_for_a_statistician_with_the_authority_filter(page):
    sign_in(page, "stats.one")
    page.goto("/dashboard")
    page.get_by_role("combobox", name="Competent authority").select_option("SCA")
    page.get_by_role("combobox", name="Nation").select_option("ENG")
    page.get_by_role("button", name="Show the figures").click()
    expect(page).to_have_url(re.compile(r"authority=SCA"))
    expect(page.locator("main")).to_contain_text("Single Competent Authority")
    assert_accessible(page)
