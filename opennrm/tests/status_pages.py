"""Reading what a page shows of a referral's status compartment, from its visible words: the NRM status lookup
(web/templates/nrm_status.html) and the referral page (web/templates/referrals/detail.html).

Read from the words a user sees, not from markup made for tests, so that a page showing a decision it should
not is caught whatever its markup.
"""

import re

from opennrm.decisions.models import Outcome, Stage
from opennrm.referrals.models import Status

LABEL_TO_STAGE = {label: code for code, label in Stage.choices}
LABEL_TO_OUTCOME = {label: code for code, label in Outcome.choices}
LABEL_TO_STATUS = {label: code for code, label in Status.choices}
CELL = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.S)
DECISION_WORDS = re.compile(rf"({'|'.join(LABEL_TO_STAGE)}): ({'|'.join(LABEL_TO_OUTCOME)}) \(([^)]+)\)")


def visible_text(html: str) -> str:
    """The page's words, tags stripped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _summary_value(html: str, key: str) -> str | None:
    found = re.search(
        rf'<dt class="govuk-summary-list__key">\s*{re.escape(key)}\s*</dt>\s*<dd class="govuk-summary-list__value">(.*?)</dd>',
        html,
        re.S,
    )
    return visible_text(found[1]) if found else None


def status_lookup_items(html: str) -> list[dict]:
    """Each referral the status lookup page shows: its NRM reference, status and decisions (stage, outcome, date as shown)."""
    items = []
    parts = re.split(r'<h2 class="govuk-heading-m"[^>]*>\s*(NRM-\d{4}-\d+)\s*</h2>', html)
    for reference, block in zip(parts[1::2], parts[2::2]):
        decisions = _summary_value(block, "Decisions") or ""
        items.append(
            {
                "reference": reference,
                "status": LABEL_TO_STATUS[_summary_value(block, "Status")],
                "decisions": {
                    (LABEL_TO_STAGE[s], LABEL_TO_OUTCOME[o], on) for s, o, on in DECISION_WORDS.findall(decisions)
                },
            }
        )
    return items


def referral_page_status(html: str) -> dict:
    """The status, and the decisions issued and not issued, that the referral page shows."""
    status = _summary_value(html, "Status")
    section = html[html.index('id="decisions"') :]
    section = section[: section.find("<h2", 5)] if "<h2" in section[5:] else section
    body = section[section.find("<tbody") : section.find("</tbody>")] if "<tbody" in section else ""
    issued, not_issued = set(), set()
    for row in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', body, re.S):
        cells = [visible_text(c) for c in CELL.findall(row)]
        date, stage, outcome = cells[:3]
        # Decision makers see a State column; a letter's column starts with "Letter".
        state = cells[3] if len(cells) > 3 and not cells[3].startswith("Letter") else "Issued"
        (issued if state == "Issued" else not_issued).add((LABEL_TO_STAGE[stage], LABEL_TO_OUTCOME[outcome], date))
    return {"status": LABEL_TO_STATUS[status], "decisions": issued, "not_issued": not_issued}
