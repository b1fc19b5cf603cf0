"""The decision letter: what an issued decision says to the first responder, as a page and as a PDF.

One `Letter` holds the words; the page (templates/letters/decision.html) and the PDF lay out the same
words, so they cannot drift apart. Only issued decisions have letters: a proposed negative has not been
decided yet, and one sent back never will be.

The PDF is drawn by fpdf2 (pure Python) with DejaVu Sans from Debian's fonts-dejavu-core, which covers
Latin with every diacritic Vietnamese needs, Greek and Cyrillic. Arabic letters are in the font too,
but fpdf2 joins and orders right-to-left text only with text shaping (the uharfbuzz package), which
is not installed: an Arabic name comes out as separate letters, left to right. Ge'ez (Ethiopic) is not
in DejaVu at all: fpdf2 warns and leaves those characters out. The HTML letter shows every script the
reader's browser can; it is the letter of record, the PDF its printable copy.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from fpdf import FPDF

from opennrm.core.errors import NotFound
from opennrm.policy import Compartment
from opennrm.referrals.models import CompetentAuthority, Referral
from opennrm.referrals.selectors import referral_open

from .models import Decision, DecisionState, Outcome, Stage
from .routing import received_on

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

# What happens next, for the first responder, by stage and outcome.
NEXT_STEPS = {
    (Stage.REASONABLE_GROUNDS, Outcome.POSITIVE): [
        "The recovery period has started. It ends on {recovery_end}. No Conclusive Grounds decision will be made before then.",
        "For an adult in England or Wales, support through the Modern Slavery Victim Care Contract can continue during the "
        "recovery period if they need it. For a child, the local authority stays responsible for their care and safety.",
        "Send any further information about the case to the competent authority so it can be considered for the Conclusive Grounds decision.",
    ],
    (Stage.REASONABLE_GROUNDS, Outcome.NEGATIVE): [
        "The person is not in the National Referral Mechanism and support through it will end.",
        "You, or for a child their local authority or independent child trafficking guardian, can ask for the decision "
        "to be reconsidered: sign in to OpenNRM, open the referral and request a reconsideration, giving the grounds and any new information.",
        "A child's safeguarding continues through their local authority whatever the decision.",
    ],
    (Stage.CONCLUSIVE_GROUNDS, Outcome.POSITIVE): [
        "The person is recognised as a victim of modern slavery.",
        "An adult's support after this decision depends on their needs; the support provider will explain what continues and for how long.",
        "A person without immigration status may be considered for temporary permission to stay as a confirmed victim.",
    ],
    (Stage.CONCLUSIVE_GROUNDS, Outcome.NEGATIVE): [
        "The person is not recognised as a victim of modern slavery, and support through the National Referral Mechanism will end after a move-on period.",
        "You, or for a child their local authority or independent child trafficking guardian, can ask for the decision "
        "to be reconsidered: sign in to OpenNRM, open the referral and request a reconsideration, giving the grounds and any new information.",
        "A child's safeguarding continues through their local authority whatever the decision.",
    ],
}

# For the person the decision is about: short sentences, no jargon. The first responder passes it on,
# through an interpreter where one is needed.
PLAIN_LANGUAGE = {
    (Stage.REASONABLE_GROUNDS, Outcome.POSITIVE): (
        "We have looked at what we were told about you. We think you may have been trafficked or forced to work or do things "
        "against your will. This means you can get help and support while we look more closely. We will make a final decision "
        "after at least {recovery_days} days."
    ),
    (Stage.REASONABLE_GROUNDS, Outcome.NEGATIVE): (
        "We have looked at what we were told about you. We do not think there is enough to show you were trafficked or forced to "
        "work or do things against your will. If you think this is wrong, or there is more to tell us, the person who helped you "
        "can ask us to look again."
    ),
    (Stage.CONCLUSIVE_GROUNDS, Outcome.POSITIVE): (
        "We have looked closely at everything we were told about you. We have decided that you were trafficked or forced to work "
        "or do things against your will. This is not your fault. The people supporting you will explain what help you can have now."
    ),
    (Stage.CONCLUSIVE_GROUNDS, Outcome.NEGATIVE): (
        "We have looked closely at everything we were told about you. We have decided there is not enough to show you were "
        "trafficked or forced to work or do things against your will. If you think this is wrong, or there is more to tell us, "
        "the person who helped you can ask us to look again."
    ),
}
PLAIN_LANGUAGE_CHILD = "You will keep getting help from the council that looks after you, whatever this decision says."


@dataclass(frozen=True)
class Letter:
    referral: Referral
    decision: Decision
    issued_on: dt.date
    person_name: str
    next_steps: list[str]
    plain_language: list[str]

    @property
    def title(self) -> str:
        return f"{Stage(self.decision.stage).label} decision: {Outcome(self.decision.outcome).label.lower()}"


def _letter(referral: Referral, decision: Decision) -> Letter:
    key = (decision.stage, decision.outcome)
    recovery_end = referral.recovery_period_ends_on
    decided_on = received_on(decision.decided_at)
    # A negative decision takes effect when the second decision maker confirms it.
    issued_on = received_on(decision.reviewed_at) if decision.reviewed_at else decided_on
    recovery_days = (recovery_end - issued_on).days if recovery_end else None
    fill = {
        "recovery_end": f"{recovery_end.day} {recovery_end:%B %Y}" if recovery_end else "",
        "recovery_days": recovery_days,
    }
    plain = [PLAIN_LANGUAGE[key].format(**fill)]
    if referral.is_child:
        plain.append(PLAIN_LANGUAGE_CHILD)
    return Letter(
        referral=referral,
        decision=decision,
        issued_on=issued_on,
        person_name=referral.display_name,
        next_steps=[step.format(**fill) for step in NEXT_STEPS[key]],
        plain_language=plain,
    )


def decision_letter_open(*, actor, referral_id, decision_id) -> Letter:
    """The letter of one issued decision on a referral the actor may see; the read is audited (refusals too)."""
    referral = referral_open(actor=actor, uuid=referral_id, purpose=f"decision_letter:{str(decision_id)[:40]}")
    decision = referral.decisions.filter(uuid=decision_id, state=DecisionState.ISSUED).first()
    # The reasons restate the account and the letter names the person: the referral compartment's content.
    if decision is None or Compartment.REFERRAL not in referral.access.compartments:
        raise NotFound
    return _letter(referral, decision)


def letter_rows(letter: Letter) -> list[tuple[str, str]]:
    """The letter's facts, in the order both the page and the PDF show them."""
    r, d = letter.referral, letter.decision
    rows = [("NRM reference", r.reference or ""), ("About", letter.person_name)]
    if r.first_responder_reference:
        rows.append(("Your reference", r.first_responder_reference))
    rows += [
        ("Decision", Outcome(d.outcome).label),
        ("Stage", Stage(d.stage).label),
        ("Date of decision", f"{letter.issued_on.day} {letter.issued_on:%B %Y}"),
        ("Competent authority", CompetentAuthority(d.competent_authority).label),
        ("Made under", f"policy {d.policy_version}, guidance {d.guidance_version}"),
    ]
    return rows


def letter_pdf(letter: Letter) -> bytes:
    """The letter as an A4 PDF."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"{letter.title} – {letter.referral.reference}")
    pdf.add_font("DejaVuSans", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVuSans", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    width = pdf.epw

    def heading(text: str, size: int) -> None:
        pdf.set_font("DejaVuSans", "B", size)
        pdf.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def paragraph(text: str) -> None:
        pdf.set_font("DejaVuSans", "", 11)
        pdf.multi_cell(width, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    heading("National Referral Mechanism", 12)
    heading(letter.title, 18)
    for label, value in letter_rows(letter):
        pdf.set_font("DejaVuSans", "B", 11)
        pdf.cell(50, 6, label)
        pdf.set_font("DejaVuSans", "", 11)
        pdf.multi_cell(width - 50, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    heading("Reasons", 14)
    paragraph(letter.decision.reasons)
    heading("What happens next", 14)
    for step in letter.next_steps:
        paragraph(f"• {step}")
    heading("What this means for the person (in plain English)", 14)
    for text in letter.plain_language:
        paragraph(text)
    return bytes(pdf.output())


def _open_or_404(request, referral_id, decision_id) -> Letter:
    try:
        return decision_letter_open(actor=request.user, referral_id=referral_id, decision_id=decision_id)
    except NotFound:
        raise Http404


@login_required
def letter_page(request, referral_id, decision_id):
    letter = _open_or_404(request, referral_id, decision_id)
    return render(
        request,
        "letters/decision.html",
        {"title": f"{letter.title} – {letter.referral.reference}", "letter": letter, "rows": letter_rows(letter)},
    )


@login_required
def letter_pdf_download(request, referral_id, decision_id):
    letter = _open_or_404(request, referral_id, decision_id)
    response = HttpResponse(letter_pdf(letter), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{letter.referral.reference}-decision-{letter.decision.uuid}.pdf"'
    )
    return response
