"""The decision letter's pages: the letter as a page and as a PDF (decisions/letters.py holds its words and lays out
the PDF; decisions/selectors.py decision_letter_open finds it for the signed-in user, audited)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from opennrm.decisions.letters import Letter, letter_pdf, letter_rows
from opennrm.decisions.selectors import decision_letter_open


def _open(request, referral_id, decision_id) -> Letter:
    # NotFound, outside the user's scope as for no letter: the 404 page (web/errors.py).
    return decision_letter_open(actor=request.user, referral_id=referral_id, decision_id=decision_id)


@login_required
def letter_page(request, referral_id, decision_id):
    letter = _open(request, referral_id, decision_id)
    return render(
        request,
        "letters/decision.html",
        {"title": f"{letter.title} – {letter.referral.reference}", "letter": letter, "rows": letter_rows(letter)},
    )


@login_required
def letter_pdf_download(request, referral_id, decision_id):
    letter = _open(request, referral_id, decision_id)
    response = HttpResponse(letter_pdf(letter), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{letter.referral.reference}-decision-{letter.decision.uuid}.pdf"'
    )
    return response
