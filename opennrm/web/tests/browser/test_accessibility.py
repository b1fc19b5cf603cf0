"""The pages outside the referral journey pass axe's WCAG 2.0–2.2 A and AA rules in the real Chromium."""

import re

import pytest
from playwright.sync_api import expect

from .helpers import BROWSER_TESTS, assert_accessible, sign_in

pytestmark = BROWSER_TESTS


def test_sign_in_page_and_its_error_summaries(page):
    page.goto("/sign-in")
    assert_accessible(page)

    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter your username")
    expect(summary).to_contain_text("Enter your password")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)

    page.get_by_label("Username").fill("fr.police")
    page.get_by_label("Password", exact=True).fill("not-the-demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The username or password is not right")
    assert_accessible(page)


@pytest.mark.parametrize("username", ["fr.police", "sca.one", "la.croydon", "immigration.one", "admin"])
def test_home_page(page, username):
    sign_in(page, username)
    expect(page.locator("footer")).to_contain_text(f"Signed in as {username}")
    assert_accessible(page)


def test_referral_list_and_detail_for_a_first_responder(page):
    sign_in(page, "fr.police")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Referrals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals")
    first_reference = page.locator("table tbody tr").first.get_by_role("link")
    expect(first_reference).to_have_text(re.compile(r"^NRM-\d{4}-\d{6}$"))
    assert_accessible(page)

    reference = first_reference.inner_text()
    first_reference.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(reference)
    expect(page.get_by_role("heading", name="Potential victim, as referred")).to_be_visible()
    # Shown as text, never as escaped markup.
    expect(page.locator("main")).not_to_contain_text("<span")
    assert_accessible(page)


def test_nrm_status_lookup_empty_error_found_and_not_found(page, demo_home_office_reference):
    sign_in(page, "immigration.one")
    page.goto("/nrm-status")
    assert_accessible(page)

    page.get_by_role("button", name="Look up").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a Home Office reference")
    assert_accessible(page)

    page.get_by_label("Home Office reference").fill(demo_home_office_reference)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("main")).to_contain_text("Status")
    expect(page.get_by_role("heading", level=2, name=re.compile(r"^NRM-\d{4}-\d{6}$")).first).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Home Office reference").fill("HO-NOBODY-HAS-THIS-0000")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name="No NRM record")).to_be_visible()
    assert_accessible(page)


def test_the_password_pages_and_their_error_summaries(page):
    page.goto("/password-reset/MQ/not-a-token")
    expect(page.locator("h1")).to_contain_text("This link to set your password does not work")
    assert_accessible(page)
    sign_in(page, "fr.police")
    page.locator("footer").get_by_role("link", name="Change your password").click()
    expect(page.locator("h1")).to_contain_text("Change your password")
    assert_accessible(page)
    page.get_by_role("button", name="Set password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your current password")
    assert_accessible(page)
