"""Issue 5's "done when", in the real Chromium over the demo: a decision maker sees a demo child's earlier referral under
a different spelling offered as a match, confirms it, and undoes it; every page passes axe's WCAG 2.2 A and AA rules."""

import re

from playwright.sync_api import expect

from .helpers import BROWSER_TESTS, assert_accessible, sign_in

pytestmark = BROWSER_TESTS


def test_a_decision_maker_confirms_a_possible_duplicate_and_undoes_it(page):
    sign_in(page, "sca.one")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Duplicates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Possible duplicate referrals")
    assert_accessible(page)

    # The demo's Eritrean boy: Tesfay Gebre Medhin now, Tesfaye Gebremedhin Haile a year ago.
    row = page.get_by_role("row").filter(has_text="Tesfay Gebre Medhin").filter(has_text="Tesfaye Gebremedhin Haile")
    row.get_by_role("link", name=re.compile("^Compare")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Is this the same child?")
    evidence = page.get_by_role("table", name="The evidence, field by field")
    expect(evidence).to_contain_text("Names")
    expect(evidence).to_contain_text("nationalities commonly confused")
    side_by_side = page.get_by_role("table", name="The two referrals side by side")
    expect(side_by_side.get_by_role("row").filter(has_text="Family name")).to_contain_text("Differs")
    expect(side_by_side.get_by_role("row").filter(has_text="Date of birth")).to_contain_text("Same")
    assert_accessible(page)

    # No reason: refused with what to fix, and nothing linked.
    page.get_by_role("button", name="Same child").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Give a reason")
    assert_accessible(page)

    page.get_by_label("Reason").fill("Same father's name and route; the age was disputed at the second referral")
    page.get_by_role("button", name="Same child").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Linked: both referrals are now on one person"
    )
    assert_accessible(page)

    page.get_by_role("link", name="a person with other referrals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A person and their referrals")
    expect(page.locator(".govuk-summary-card")).to_have_count(2)
    assert_accessible(page)
    page.go_back()

    page.get_by_label("Why undo it?").fill("Confirmed too soon: checking with Croydon first")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Undone")
    expect(page.get_by_role("button", name="Same child")).to_be_visible()  # back in the queue, to decide again
    expect(page.get_by_role("list").filter(has_text="Undone by")).to_contain_text("Confirmed too soon")
    assert_accessible(page)
