"""The referral journey end to end, as a first responder meets it in the real Chromium.

A child is referred over two sittings (signed out in between), every page passing axe on the way, and
what was sent is then out of the immigration officer's reach except its status, looked up by Home Office
reference. The child path also works with JavaScript switched off; an adult who does not consent
becomes a Duty to Notify; a draft can be deleted.
"""

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from .helpers import BROWSER_TESTS, assert_accessible, sign_in, sign_out

pytestmark = BROWSER_TESTS

ORIGINAL_SCRIPT_NAME = "Nguyễn Thị Ánh"
REFERENCE_PATTERN = re.compile(r"NRM-\d{4}-\d{6}")
GUARDIAN_PAGE_HEADING = "Refer the child to an Independent Child Trafficking Guardian"


def _check(page: Page, accessible: bool) -> None:
    if accessible:
        assert_accessible(page)


def _heading(page: Page, text: str | re.Pattern) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _save_and_continue(page: Page) -> None:
    page.get_by_role("button", name="Save and continue").click()


def _fill_date(page: Page, prefix: str, day: dt.date) -> None:
    page.locator(f"#{prefix}-day").fill(str(day.day))
    page.locator(f"#{prefix}-month").fill(str(day.month))
    page.locator(f"#{prefix}-year").fill(str(day.year))


def start_child_referral(page: Page, first_responder_reference: str, accessible: bool) -> str:
    """From the home page to the first exploitation situation; returns the draft's address (its resume link)."""
    page.goto("/")
    page.get_by_role("main").get_by_role("button", name="Make a referral").click()
    _heading(page, "Make a referral")
    _check(page, accessible)
    page.get_by_role("button", name="Start now").click()

    _heading(page, "What is your reference for this referral?")
    draft_path = re.search(r"/referrals/drafts/[0-9a-f-]{36}", page.url)[0]
    _check(page, accessible)
    page.get_by_label("What is your reference for this referral?").fill(first_responder_reference)
    _save_and_continue(page)

    _heading(page, "Where are you making this report?")
    # An error state: nothing chosen.
    _save_and_continue(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select where you are making this report")
    expect(page).to_have_title(re.compile(r"^Error: "))
    _check(page, accessible)
    page.get_by_label("England", exact=True).check()
    _save_and_continue(page)

    _heading(page, "Is the potential victim under 18?")
    _check(page, accessible)
    page.get_by_label("Yes", exact=True).check()
    _save_and_continue(page)

    _heading(page, "Which local authority did you contact?")
    _check(page, accessible)
    page.get_by_label("Local authority", exact=True).select_option("E09000008")  # Croydon
    page.get_by_label("Name or role of the person you spoke to").fill("Duty social worker")
    yesterday = dt.datetime.now(ZoneInfo("Europe/London")).date() - dt.timedelta(days=1)
    _fill_date(page, "contacted_at", yesterday)
    page.get_by_label("Time you contacted them").fill("10:15")
    _save_and_continue(page)

    # The demo's guardian service covers Croydon, so the child is first pointed to it.
    _heading(page, GUARDIAN_PAGE_HEADING)
    _check(page, accessible)
    page.get_by_role("button", name="Continue").click()
    _heading(page, "Exploitation situation 1")
    return draft_path


def finish_child_referral(page: Page, home_office_reference: str, accessible: bool) -> None:
    """From the first exploitation situation to check your answers."""
    _heading(page, "Exploitation situation 1")
    _check(page, accessible)
    page.get_by_role("checkbox", name=re.compile(r"^Criminal exploitation")).check()
    subtype = page.get_by_label("Cannabis cultivation", exact=True)
    # The script reveals the subtypes only once criminal is ticked; without it they are always there.
    expect(subtype).to_be_visible()
    subtype.check()
    page.get_by_label("Both in the UK and overseas", exact=True).check()
    page.get_by_label("UK towns or cities (optional)").fill("Croydon")
    page.get_by_label("Countries (optional)").fill("Vietnam\nFrance")
    _fill_date(page, "started_on", dt.date(2025, 6, 1))
    page.get_by_role("group", name="Is it still happening?").get_by_label("Yes", exact=True).check()
    page.get_by_label("What happened? (optional)").fill("Kept in a house and made to tend plants.")
    _save_and_continue(page)

    _heading(page, "Exploitation situations")
    expect(page.get_by_role("main")).to_contain_text("Cannabis cultivation")
    _check(page, accessible)
    if accessible:
        # The page asking to confirm a removal; kept, not removed.
        page.get_by_role("link", name=re.compile(r"^Remove\s+situation 1\b")).click()
        _heading(page, "Are you sure you want to remove exploitation situation 1?")
        assert_accessible(page)
        page.get_by_role("link", name="No, keep it").click()
        _heading(page, "Exploitation situations")
    page.get_by_role("group", name="Do you need to add another exploitation situation?").get_by_label(
        "No", exact=True
    ).check()
    _save_and_continue(page)

    _heading(page, "What modern slavery indicators did you see?")
    _check(page, accessible)
    page.get_by_label("What modern slavery indicators did you see?").fill(
        "Found locked inside a cannabis farm\nNo identity documents"
    )
    _save_and_continue(page)

    _heading(page, "Have the police been involved?")
    _check(page, accessible)
    page.get_by_label("Police force (optional)").fill("Metropolitan Police Service")
    page.get_by_label("Crime reference (optional)").fill("6029384/26")
    _save_and_continue(page)

    _heading(page, "The potential victim's details")
    _check(page, accessible)
    page.get_by_label("Given names").fill("Thi Anh")
    page.get_by_label("Family name").fill("Nguyen")
    page.get_by_label("Other names or nicknames (optional)").fill("Annie")
    page.get_by_label("Name in its original script (optional)").fill(ORIGINAL_SCRIPT_NAME)
    if accessible:
        # An error state on the biggest page: a date of birth that is not a date.
        page.locator("#date_of_birth-day").fill("31")
        page.locator("#date_of_birth-month").fill("2")
        page.locator("#date_of_birth-year").fill("2010")
        page.get_by_label("The exact date is known", exact=True).check()
        _save_and_continue(page)
        expect(page.locator(".govuk-error-summary")).to_contain_text("Date of birth must be a real date")
        # What was typed is shown back, original script included.
        expect(page.get_by_label("Name in its original script (optional)")).to_have_value(ORIGINAL_SCRIPT_NAME)
        assert_accessible(page)
    _fill_date(page, "date_of_birth", dt.date(2010, 3, 1))
    page.get_by_label("The exact date is known", exact=True).check()
    page.get_by_role("group", name="Is their age disputed?").get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Sex").get_by_label("Female", exact=True).check()
    page.get_by_label("Nationality (optional)", exact=True).select_option("VNM")
    page.get_by_label("Languages they speak (optional)").fill("Vietnamese")
    page.get_by_role("group", name="Do they need an interpreter?").get_by_label("Yes", exact=True).check()
    page.get_by_label("Home Office reference (optional)").fill(home_office_reference)
    page.get_by_label("Current address (optional)").fill("Flat 1, 1 Example Road, Croydon")
    page.get_by_label("Phone number (optional)").fill("020 7946 0000")
    _save_and_continue(page)

    _heading(page, "Check your answers before sending the referral")
    main = page.get_by_role("main")
    expect(main).to_contain_text(ORIGINAL_SCRIPT_NAME)
    expect(main).to_contain_text(home_office_reference)
    expect(main).to_contain_text("Duty social worker")
    _check(page, accessible)


def send_and_confirm(page: Page, accessible: bool) -> tuple[str, str]:
    """Sends from check your answers; returns the reference and the referral's own page address."""
    page.get_by_role("button", name="Send referral").click()
    panel = page.locator(".govuk-panel")
    expect(panel).to_contain_text("Referral sent")
    reference = REFERENCE_PATTERN.search(panel.inner_text())
    assert reference, f"no NRM reference in the confirmation: {panel.inner_text()!r}"
    expect(panel.locator("strong")).to_have_text(REFERENCE_PATTERN)  # markup, not escaped text
    expect(page.get_by_role("main")).to_contain_text(
        re.compile(r"Reasonable Grounds decision\. It is due by \d{1,2} [A-Z][a-z]+ \d{4}")
    )
    _check(page, accessible)
    detail_url = page.get_by_role("link", name="View the referral").get_attribute("href")
    return reference[0], detail_url


def test_child_referral_saved_resumed_sent_and_hidden_from_immigration(page, new_page):
    first_responder_reference = f"CRO-{uuid.uuid4().hex[:10]}"
    home_office_reference = f"HO-{uuid.uuid4().hex[:10].upper()}"

    # First sitting: the opening pages, then sign out.
    sign_in(page, "fr.police")
    draft_path = start_child_referral(page, first_responder_reference, accessible=True)
    sign_out(page)
    page.goto(draft_path)
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))

    # Second sitting: the home page lists the unfinished referral, and resuming lands where it stopped.
    sign_in(page, "fr.police")
    draft_link = page.get_by_role("main").locator(f'a[href="{draft_path}"]')
    expect(draft_link).to_have_text(re.compile(r"\(child\)$"))
    assert_accessible(page)  # the home page with an unfinished referral on it
    draft_link.click()
    finish_child_referral(page, home_office_reference, accessible=True)
    reference, detail_url = send_and_confirm(page, accessible=True)

    # The referral itself, as its first responder sees it.
    page.goto(detail_url)
    _heading(page, reference)
    expect(page.get_by_role("main")).to_contain_text(ORIGINAL_SCRIPT_NAME)
    # The draft is gone from the home page.
    page.goto("/")
    expect(page.locator(f'a[href="{draft_path}"]')).to_have_count(0)

    # Immigration Enforcement: the referral does not exist for them; its status does, by Home Office reference.
    officer = new_page()
    sign_in(officer, "immigration.one")
    response = officer.goto(detail_url)
    assert response.status == 404
    expect(officer.locator("body")).not_to_contain_text(reference)

    officer.goto("/nrm-status")
    officer.get_by_label("Home Office reference").fill(home_office_reference)
    officer.get_by_role("button", name="Look up").click()
    main = officer.get_by_role("main")
    expect(officer.get_by_role("heading", level=2, name=reference)).to_be_visible()
    expect(main).to_contain_text("Awaiting Reasonable Grounds decision")
    for private in (
        "Thi Anh",
        "Nguyen",
        ORIGINAL_SCRIPT_NAME,
        "Annie",
        "Example Road",
        "020 7946 0000",
        "Cannabis",
        "Croydon",
        first_responder_reference,
    ):
        expect(officer.locator("body")).not_to_contain_text(private)
    assert_accessible(officer)

    # Looking the child up by name finds nothing.
    officer.get_by_label("Home Office reference").fill("Nguyen")
    officer.get_by_role("button", name="Look up").click()
    expect(officer.get_by_role("heading", name="No NRM record")).to_be_visible()


def test_child_referral_without_javascript(new_page):
    run = uuid.uuid4().hex[:8].upper()
    page = new_page(java_script_enabled=False)
    sign_in(page, "fr.police")
    # The GOV.UK template marks the page when its script runs; here it must not have.
    assert "js-enabled" not in (page.locator("body").get_attribute("class") or "")
    start_child_referral(page, f"NOJS-{run}", accessible=False)
    finish_child_referral(page, f"HO-NOJS-{run}", accessible=False)
    reference, _ = send_and_confirm(page, accessible=False)
    assert REFERENCE_PATTERN.fullmatch(reference)


def test_adult_without_consent_becomes_a_duty_to_notify(page):
    sign_in(page, "fr.police")
    page.goto("/referrals/new")
    page.get_by_role("button", name="Start now").click()
    _save_and_continue(page)  # no reference: it is optional
    page.get_by_label("England", exact=True).check()
    _save_and_continue(page)
    page.get_by_label("No", exact=True).check()
    _save_and_continue(page)

    _heading(page, "Does the potential victim consent to being referred?")
    assert_accessible(page)
    _save_and_continue(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select yes if the potential victim consents")
    assert_accessible(page)
    page.get_by_label("No", exact=True).check()
    _save_and_continue(page)

    _heading(page, "An adult who does not consent is not referred")
    assert_accessible(page)
    page.get_by_role("button", name="Continue to the Duty to Notify").click()

    _heading(page, "Exploitation situation 1")
    page.get_by_role("checkbox", name=re.compile(r"^Labour exploitation")).check()
    page.get_by_label("In the UK", exact=True).check()
    page.get_by_role("group", name="Is it still happening?").get_by_label("Not known", exact=True).check()
    _save_and_continue(page)
    page.get_by_role("group", name="Do you need to add another exploitation situation?").get_by_label(
        "No", exact=True
    ).check()
    _save_and_continue(page)
    _save_and_continue(page)  # indicators, optional
    _save_and_continue(page)  # police, optional

    _heading(page, "About the person")
    expect(page.get_by_label("Given names")).to_have_count(0)  # nothing that could identify them is asked
    assert_accessible(page)
    page.get_by_role("group", name="Sex").get_by_label("Male", exact=True).check()
    page.get_by_label("Nationality (optional)", exact=True).select_option("ALB")
    _save_and_continue(page)

    _heading(page, "Check your answers before sending the Duty to Notify")
    assert_accessible(page)
    page.get_by_role("button", name="Send Duty to Notify").click()
    panel = page.locator(".govuk-panel")
    expect(panel).to_contain_text("Duty to Notify sent")
    expect(panel.locator("strong")).to_have_text(re.compile(r"\S+-\d{4}-\d{6}"))
    assert_accessible(page)


def test_deleting_a_draft(page):
    sign_in(page, "fr.police")
    page.goto("/referrals/new")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("What is your reference for this referral?").fill(f"DELETE-{uuid.uuid4().hex[:8]}")
    _save_and_continue(page)
    draft_path = re.search(r"/referrals/drafts/[0-9a-f-]{36}", page.url)[0]

    page.get_by_role("link", name="delete this draft").click()
    _heading(page, "Are you sure you want to delete this draft referral?")
    assert_accessible(page)
    page.get_by_role("button", name="Yes, delete this draft").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The draft referral has been deleted")
    expect(page.locator(f'a[href="{draft_path}"]')).to_have_count(0)
    assert_accessible(page)
    assert page.goto(draft_path).status == 404
