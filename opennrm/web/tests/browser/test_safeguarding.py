"""The safeguarding pages over the demo, in the real Chromium, pass axe's WCAG 2.2 A and AA rules."""

import re

from playwright.sync_api import expect

from .helpers import BROWSER_TESTS, assert_accessible, sign_in

pytestmark = BROWSER_TESTS


def test_missing_now_the_childs_record_and_a_refused_form(page):
    sign_in(page, "la.croydon")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Missing now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Missing now")
    assert_accessible(page)
    page.get_by_role("link", name="safeguarding work queue").click()
    expect(page.get_by_role("heading", name="Return interviews to hold")).to_be_visible()
    assert_accessible(page)
    page.go_back()

    page.locator("table tbody tr").first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Safeguarding")
    expect(page.locator("main")).to_contain_text("(missing now)")
    assert_accessible(page)

    # Sent empty: the error summary, nothing recorded (the served demo is shared by the other tests).
    page.get_by_role("button", name="Record the child found").click()  # a GOV.UK button link
    page.get_by_role("button", name="Record found").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter when the child was found")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)


def test_the_guardians_work_queue(page):
    sign_in(page, "guardian.one")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Safeguarding").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Safeguarding work queue")
    expect(page.get_by_role("heading", name="Children waiting for a guardian")).to_be_visible()
    assert_accessible(page)
