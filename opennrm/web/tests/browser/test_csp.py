"""The served pages carry a strict Content-Security-Policy, and their own scripts run under it.

Every browser test also fails on any CSP report in the console (the `new_page` fixture); these tests
check the header itself, that the nonce'd scripts really ran, and that a violation would be caught.
"""

import re

from playwright.sync_api import expect

from opennrm.tests.csp import csp_directives, csp_problems

from .helpers import BROWSER_TESTS, is_csp_violation, sign_in

pytestmark = BROWSER_TESTS


def _assert_strict_policy(response) -> str:
    policy = response.headers.get("content-security-policy", "")
    assert csp_problems(policy) == [], policy
    nonces = [s for s in csp_directives(policy)["script-src"] if s.startswith("'nonce-")]
    assert nonces, f"our pages load their scripts with a nonce: {policy}"
    return nonces[0]


def test_every_page_sends_the_policy_and_its_scripts_run(page):
    response = page.goto("/sign-in")
    first_nonce = _assert_strict_policy(response)
    # The GOV.UK template's inline script (nonce) and our module script (nonce) both ran:
    # the body is marked, and the password input got its Show button from GOV.UK Frontend's JavaScript.
    expect(page.locator("body")).to_have_class(re.compile(r"\bjs-enabled\b.*\bgovuk-frontend-supported\b"))
    expect(page.get_by_role("button", name="Show password")).to_be_visible()

    sign_in(page, "fr.police")
    detail = page.locator("table tbody a").first.get_attribute("href")
    nonces = {first_nonce}
    for path in ("/", "/referrals", detail, "/referrals/new"):
        response = page.goto(path)
        assert response.status == 200, path
        nonces.add(_assert_strict_policy(response))
        expect(page.locator("body")).to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))
    page.get_by_role("button", name="Start now").click()
    expect(page).to_have_url(re.compile(r"/referrals/drafts/"))
    response = page.reload()
    nonces.add(_assert_strict_policy(response))
    assert len(nonces) == 6, "each response must carry a fresh nonce"

    sign_in(page, "immigration.one")
    response = page.goto("/nrm-status?home_office_reference=HO-NOBODY-HAS-THIS-0000")
    _assert_strict_policy(response)


def test_a_script_the_policy_does_not_allow_is_refused_and_reported(browser, opennrm_server):
    # Not through the `page` fixture, which fails any test that sees a CSP report.
    context = browser.new_context(base_url=opennrm_server.url)
    try:
        page = context.new_page()
        page.goto("/sign-in")
        with page.expect_console_message(lambda message: is_csp_violation(message.text), timeout=5_000) as report:
            page.evaluate("""() => {
                const script = document.createElement('script');
                script.textContent = 'window.injectedRan = true';
                document.body.appendChild(script);
            }""")
        assert "script-src" in report.value.text
        assert page.evaluate("window.injectedRan === undefined"), "an inline script without the nonce ran"
    finally:
        context.close()
