"""What the browser tests share: signing in through the real form, the axe check, the CSP watch."""

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

CHROMIUM = Path("/usr/bin/chromium")
# The Playwright browser download cannot work here; Debian's Chromium is driven instead.
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DEMO_PASSWORD = "synthetic-demo-password-for-browser-tests"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Every test module of the browser suite starts with `pytestmark = BROWSER_TESTS`.
BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

_axe = Axe()


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Signs in through the real sign-in form and waits for the home page."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def sign_out(page: Page) -> None:
    page.get_by_role("button", name=re.compile(r"^Sign out")).click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))


def _known_govuk_exception(rule: str, node: dict) -> bool:
    """GOV.UK Frontend's script puts aria-expanded on a radio that reveals a conditional question.

    ARIA does not list it for radios, but GOV.UK keeps it on purpose because screen readers announce it
    (a documented known issue: alphagov/govuk-frontend#979). Only exactly that is let through.
    """
    html = node.get("html", "")
    return (
        rule == "aria-allowed-attr"
        and html.startswith("<input")
        and 'class="govuk-radios__input"' in html
        and 'aria-controls="conditional-' in html
        and re.fullmatch(
            r"(?s).*ARIA attribute is not allowed: aria-expanded=\"(true|false)\"\s*", node.get("failureSummary", "")
        )
        is not None
    )


def axe_violations(page: Page) -> list[dict]:
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    violations = []
    for violation in results.response["violations"]:
        nodes = [n for n in violation["nodes"] if not _known_govuk_exception(violation["id"], n)]
        if nodes:
            violations.append({**violation, "nodes": nodes})
    return violations


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']}")
        for node in v["nodes"]:
            why = " ".join(node.get("failureSummary", "").split("\n")[1:]).strip()
            lines.append(f"    at {' >> '.join(map(str, node['target']))}: {why}")
            lines.append(f"       {node.get('html', '')[:200]}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fails with each WCAG 2.0–2.2 A/AA violation axe finds on the page as it is now.

    Needs JavaScript on: with it off, axe's promise never settles and the call never returns.
    """
    violations = axe_violations(page)
    assert not violations, (
        f"{len(violations)} accessibility violation(s) on {page.url}:\n{describe_violations(violations)}"
    )


def is_csp_violation(text: str) -> bool:
    return "Content Security Policy" in text or "Content-Security-Policy" in text
