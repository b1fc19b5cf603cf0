"""The idle sign-out warning in a real browser: it opens before the server signs the user out, is
accessible (focus, live region, axe), "Stay signed in" and Escape keep the session, and when time runs
out the user lands on the sign-in page with a message and comes back to the same page afterwards.

Its own server, with the timeouts shortened from 15 and 2 minutes to seconds (the same code paths).
"""

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from .conftest import _started_server
from .helpers import BROWSER_TESTS, CHROMIUM, DEMO_PASSWORD, assert_accessible, is_csp_violation, sign_in

pytestmark = BROWSER_TESTS

SIGN_OUT_AFTER = 30  # seconds without a request
WARN_BEFORE = 20  # so the warning opens 10 seconds after a page loads


@pytest.fixture(scope="module")
def short_timeout_server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    extra = {"OPENNRM_IDLE_SIGN_OUT_SECONDS": str(SIGN_OUT_AFTER), "OPENNRM_IDLE_WARNING_SECONDS": str(WARN_BEFORE)}
    with _started_server(tmp_path_factory.mktemp("opennrm-timeout"), extra) as served:
        yield served


@pytest.fixture
def timeout_page(browser, short_timeout_server):
    context = browser.new_context(base_url=short_timeout_server.url)
    context.set_default_timeout(10_000)
    csp_reports = []
    page = context.new_page()
    page.on("console", lambda message: is_csp_violation(message.text) and csp_reports.append(message.text))
    yield page
    context.close()
    assert not csp_reports, csp_reports


def _seconds_left(page) -> int:
    status = page.request.get("/session").json()
    assert status["signed_in"], status
    return status["seconds_left"]


def test_the_warning_opens_lets_the_user_stay_and_signs_out_when_time_runs_out(timeout_page):
    page = timeout_page
    sign_in(page, "fr.police")
    page.goto("/referrals?status=withdrawn")
    status_filter = page.get_by_label("Status")
    status_filter.focus()
    dialog = page.get_by_role("dialog", name="You are about to be signed out")
    expect(dialog).to_be_hidden()

    # It opens about WARN_BEFORE seconds before the server would sign out, and takes the focus.
    expect(dialog).to_be_visible(timeout=(SIGN_OUT_AFTER - WARN_BEFORE + 8) * 1000)
    expect(page.locator("#timeout-warning-heading")).to_be_focused()
    expect(dialog).to_contain_text("we will sign you out in")
    expect(page.locator(".opennrm-timeout-announcer")).to_contain_text(
        re.compile(r"We will sign you out in \d+ seconds")
    )
    assert_accessible(page)
    left_when_warned = _seconds_left(page)
    assert 0 < left_when_warned <= WARN_BEFORE

    # "Stay signed in" extends the session on the server and gives the focus back.
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    expect(status_filter).to_be_focused()
    assert _seconds_left(page) > left_when_warned + 5

    # Escape also means "stay signed in".
    expect(dialog).to_be_visible(timeout=(SIGN_OUT_AFTER - WARN_BEFORE + 8) * 1000)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert _seconds_left(page) > WARN_BEFORE

    # Doing nothing: signed out at the end of the countdown, with the reason, and back here afterwards.
    expect(dialog).to_be_visible(timeout=(SIGN_OUT_AFTER - WARN_BEFORE + 8) * 1000)
    expect(page).to_have_url(
        re.compile(r"/sign-in\?next=%2Freferrals%3Fstatus%3Dwithdrawn$"), timeout=(WARN_BEFORE + 8) * 1000
    )
    expect(page.get_by_text("You were signed out because you had not done anything")).to_be_visible()
    assert page.request.get("/session").json()["signed_in"] is False
    assert_accessible(page)
    page.get_by_label("Username").fill("fr.police")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/referrals\?status=withdrawn$"))


def test_without_javascript_the_server_signs_out_alone(browser, short_timeout_server):
    context = browser.new_context(base_url=short_timeout_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, "fr.police")
        page.goto("/referrals")
        expect(page.get_by_role("dialog")).to_have_count(0)  # a closed dialog is not shown at all
        time.sleep(SIGN_OUT_AFTER + 2)
        page.goto("/referrals")
        expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Freferrals$"))
        expect(page.get_by_text("You were signed out because you had not done anything")).to_be_visible()
    finally:
        context.close()


def test_setting_up_an_authenticator_app_and_the_code_page_are_accessible(timeout_page):
    # On this module's own server: the shared one's demo users must keep signing in without a code.
    page = timeout_page
    sign_in(page, "sca.one")
    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not right")
    assert_accessible(page)
    authenticator = pyotp.TOTP(page.locator("#secret-key").inner_text().replace(" ", ""))
    page.get_by_label("Code from your authenticator app").fill(authenticator.now())
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_text("Your authenticator app is set up")).to_be_visible()

    page.get_by_role("button", name=re.compile(r"^Sign out")).click()
    page.get_by_label("Username").fill("sca.one")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter the code from your authenticator app")).to_be_visible()
    expect(page.get_by_role("navigation", name="Menu")).to_have_count(0)
    assert_accessible(page)
