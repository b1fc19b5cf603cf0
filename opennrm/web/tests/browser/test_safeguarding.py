"""The safeguarding pages over the demo, in the real Chromium, pass axe's WCAG 2.2 A and AA rules."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from opennrm.web.jinja import london_datetime

from .helpers import BROWSER_TESTS, assert_accessible, sign_in

LONDON = ZoneInfo("Europe/London")

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


def _fill_when(page, name: str, when: dt.datetime) -> None:
    local = when.astimezone(LONDON)
    for part, value in (("day", local.day), ("month", local.month), ("year", local.year)):
        page.locator(f"#{name}-{part}").fill(str(value))
    page.locator(f"#{name}-time").fill(f"{local:%H:%M}")


def test_done_when_la_reports_the_guardians_child_missing_found_and_immigration_sees_none_of_it(
    opennrm_server, new_page
):
    """Issue 4's "done when", through the pages of the served demo, as a new user following the README would."""
    reference = re.search(
        r"la\.croydon can report (\S+), the child guardian\.one is allocated to, missing", opennrm_server.demo_output
    )[1]
    child_id, home_office_reference = (
        opennrm_server.opennrm(
            "shell",
            "--verbosity",
            "0",
            "-c",
            (
                "from opennrm.referrals.models import Referral\n"
                f"r = Referral.objects.get(reference={reference!r})\nprint(str(r.uuid) + '|' + r.home_office_reference)"
            ),
        )
        .strip()
        .split("|")
    )
    page = new_page()
    sign_in(page, "la.croydon")
    page.goto(f"/referrals/{child_id}/safeguarding")
    page.get_by_role("button", name="Report the child missing").click()  # a GOV.UK button link
    expect(page.get_by_role("heading", level=1)).to_have_text("Report the child missing")
    assert_accessible(page)
    now = dt.datetime.now(dt.UTC)
    _fill_when(page, "missing_since", now - dt.timedelta(hours=2))
    page.get_by_label("Where and when was the child last seen?").fill(
        "Left the foster home after tea; seen at West Croydon bus station"
    )
    page.get_by_label("Medium").check()
    page.get_by_role("button", name="Report missing").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("the others responsible have been told")
    expect(page.locator("main")).to_contain_text("(missing now)")

    # The guardian and the police force are told: in their work queues at once, by email when the worker has sent it.
    told = page.locator(".govuk-summary-list__row", has_text="Told").first
    expect(told).to_contain_text("Maya Collins")
    expect(told).to_contain_text("Metropolitan Police")
    for _ in range(40):
        if told.inner_text().count("emailed") >= 2:
            break
        page.wait_for_timeout(500)
        page.reload()
        told = page.locator(".govuk-summary-list__row", has_text="Told").first
    assert told.inner_text().count("emailed") >= 2, told.inner_text()
    assert_accessible(page)

    # Found: the return home interview is due 72 hours later.
    page.get_by_role("button", name="Record the child found").click()
    found_at = (now - dt.timedelta(minutes=10)).replace(second=0, microsecond=0)
    _fill_when(page, "found_at", found_at)
    page.get_by_role("button", name="Record found").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("a return home interview is due within 72 hours")
    expect(page.locator("main")).to_contain_text("Due by " + london_datetime(found_at + dt.timedelta(hours=72)))
    page.get_by_role("link", name="Safeguarding").first.click()
    expect(page.locator("main")).to_contain_text(reference)  # among the return interviews to hold

    # Immigration Enforcement: none of it, anywhere.
    officer = new_page()
    sign_in(officer, "immigration.one")
    for path in (f"/referrals/{child_id}/safeguarding", f"/referrals/{child_id}", "/missing-now", "/safeguarding"):
        response = officer.goto(path)
        assert response.status in (403, 404), (path, response.status)
        expect(officer.locator("body")).not_to_contain_text("Croydon")
    # The NRM status lookup answers a Home Office reference only: the child's NRM reference finds nothing.
    officer.goto("/nrm-status")
    officer.get_by_label("Home Office reference").fill(reference)
    officer.get_by_role("button", name="Look up").click()
    expect(officer.get_by_role("heading", name="No NRM record")).to_be_visible()
    if home_office_reference:  # and where the child has one, the status and nothing else
        officer.goto("/nrm-status")
        officer.get_by_label("Home Office reference").fill(home_office_reference)
        officer.get_by_role("button", name="Look up").click()
        expect(officer.get_by_role("heading", level=2, name=reference)).to_be_visible()
        for private in ("missing", "Missing", "West Croydon", "Maya Collins", "foster", "interview"):
            expect(officer.get_by_role("main")).not_to_contain_text(private)
