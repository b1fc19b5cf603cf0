"""The pages for "no" (web/error_views.py) pass axe at a desktop and a phone's width, with no CSP report."""

import pytest
from playwright.sync_api import expect

from .helpers import BROWSER_TESTS, assert_accessible, sign_in

pytestmark = BROWSER_TESTS

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_the_not_found_and_refused_pages_are_accessible_with_a_way_back_and_whom_to_contact(page, viewport):
    page.set_viewport_size(viewport)
    sign_in(page, "immigration.one")  # an immigration officer may look up NRM status and nothing else

    for path, heading in (("/no-such-page", "Page not found"), ("/referrals", "You cannot do this")):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
        expect(page.locator("main")).to_contain_text("If you need help, contact")
        assert_accessible(page)
