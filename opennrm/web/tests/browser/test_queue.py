"""The work queue in the real Chromium: its views, filters and bulk assignment pass axe's WCAG 2.2 A and AA rules."""

import re

from playwright.sync_api import expect

from .helpers import BROWSER_TESTS, assert_accessible, sign_in

pytestmark = BROWSER_TESTS


def test_queue_views_filters_and_bulk_assignment(page):
    sign_in(page, "sca.manager")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Work queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Work queue")
    assert_accessible(page)

    page.get_by_role("navigation", name="Work queues").get_by_role("link", name="Unassigned").click()
    expect(page.get_by_role("link", name="Unassigned")).to_have_attribute("aria-current", "page")
    page.get_by_label("Age group").select_option("child")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"view=unassigned.*age_group=child"))
    assert_accessible(page)

    # Nothing ticked: the error summary says so, and nothing is assigned.
    page.get_by_label("Assign the selected cases to").select_option(label="Me (sca.manager)")
    page.get_by_role("button", name="Assign selected cases").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose at least one case")
    assert_accessible(page)

    first = page.locator("table tbody tr").first
    reference = first.get_by_role("link").inner_text()
    first.get_by_role("checkbox").check()
    page.get_by_label("Assign the selected cases to").select_option(label="Me (sca.manager)")
    page.get_by_role("button", name="Assign selected cases").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("1 case assigned to Me (sca.manager)")
    expect(page.locator("table")).not_to_contain_text(reference)
    assert_accessible(page)

    page.get_by_role("navigation", name="Work queues").get_by_role("link", name="My cases").click()
    expect(page.locator("table")).to_contain_text(reference)
    assert_accessible(page)

    # The case's own page: who holds it, its history, and assigning it back to the team.
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(reference)
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    page.get_by_label("Assign this case to").select_option(label="SCA casework team 1 (the team, no one in it yet)")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Case assigned to SCA casework team 1")
    assert_accessible(page)
