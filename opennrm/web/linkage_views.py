"""Duplicate detection pages (issue 5; ADR 0014): the review queue, a possible match side by side with the evidence,
confirming, rejecting or undoing it with a reason, and a person's referrals with an unlink action.

The actions are the linkage services', so the pages refuse exactly what the API refuses, with the same reason.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from opennrm.core.errors import Invalid, Refused
from opennrm.linkage.arrival import thresholds
from opennrm.linkage.models import CandidateStatus
from opennrm.linkage.selectors import candidate_get, identity_of, person_get, person_of_candidate, review_queue
from opennrm.linkage.services import (
    candidate_confirm,
    candidate_reject,
    candidate_undo,
    person_link_undo,
)
from opennrm.policy import Capability, has_capability
from opennrm.referrals.codes import local_authorities

from .errors import form_errors

PAGE_SIZE = 25
ACTIONS = {
    "confirm": ("Same child", "Linked: both referrals are now on one person"),
    "reject": ("Different children", "Recorded as different children: the match has left the queue"),
    "undo": ("Undo", "Undone: the possible match is back as it was before"),
}
# The rows of the side-by-side comparison: (label, identity key).
COMPARED = (
    ("Given names", "given_names"),
    ("Family name", "family_name"),
    ("Names in original script", "names_in_original_script"),
    ("Other names used", "aliases"),
    ("Date of birth", "date_of_birth"),
    ("Sex", "sex"),
    ("Nationality", "nationalities"),
    ("Local authority", "local_authority"),
    ("Home Office reference", "home_office_reference"),
    ("Received", "received_at"),
    ("Competent authority", "competent_authority"),
    ("Status", "status"),
)


def _refused(request):
    if not has_capability(request.user, Capability.LINK_RECORDS):
        raise PermissionDenied(f"Your role ({request.user.role_label}) does not review possible duplicates")
    return None


def shown(identity: dict, key: str) -> str:
    """An identity value as the comparison shows it."""
    value = identity.get(key)
    if key == "date_of_birth" and value:
        precision = identity.get("date_of_birth_precision") or "day"
        extra = [] if precision == "day" else [f"{precision}"]
        if identity.get("age_disputed"):
            extra.append("age disputed")
        return value + (f" ({', '.join(extra)})" if extra else "")
    if key == "local_authority" and value:
        return local_authorities().get(value, (value,))[0]
    if key == "received_at" and value:
        return value[:10]
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, str):
        return value.replace("_", " ") if key in ("status", "sex") else value
    return "Not given" if value in (None, "") else str(value)


@login_required
def duplicates_queue(request):
    if refused := _refused(request):
        return refused
    try:
        page = max(1, min(int(request.GET.get("page", "1")), 4000))
    except ValueError:
        page = 1
    items, total = review_queue(actor=request.user, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(
        request,
        "linkage/queue.html",
        {
            "title": "Possible duplicate referrals" + (f" (page {page})" if page > 1 else ""),
            "items": [(c, identity_of(c.referral), identity_of(c.earlier)) for c in items],
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "auto_linked": CandidateStatus.AUTO_LINKED,
        },
    )


def _candidate_page(request, candidate, *, errors=None, field_errors=None, reason: str = "", status: int = 200):
    new, earlier = identity_of(candidate.referral), identity_of(candidate.earlier)
    return render(
        request,
        "linkage/candidate.html",
        {
            "title": f"Possible match: {new['reference']} and {earlier['reference']}",
            "candidate": candidate,
            "rows": [
                (label, shown(new, key), shown(earlier, key), shown(new, key) == shown(earlier, key))
                for label, key in COMPARED
            ],
            "new": new,
            "earlier": earlier,
            "decisions": list(candidate.decisions.select_related("decided_by").order_by("decided_at", "pk")),
            "undecided": candidate.status in (CandidateStatus.OPEN, CandidateStatus.AUTO_LINKED),
            "auto_linked": candidate.status == CandidateStatus.AUTO_LINKED,
            "person": person_of_candidate(candidate=candidate),
            "thresholds": thresholds(),
            "reason": reason,
            "errors": errors or [],
            "field_errors": field_errors or {},
        },
        status=status,
    )


@login_required
def duplicate_candidate(request, candidate_id):
    if refused := _refused(request):
        return refused
    candidate = candidate_get(actor=request.user, uuid=candidate_id)  # NotFound: the 404 page (web/errors.py)
    if request.method != "POST":
        return _candidate_page(request, candidate)
    action, reason = request.POST.get("action", ""), request.POST.get("reason", "")
    service = {"confirm": candidate_confirm, "reject": candidate_reject, "undo": candidate_undo}.get(action)
    try:
        if service is None:
            raise Invalid.at("action", "Choose whether these are the same child or different children")
        service(actor=request.user, candidate=candidate, reason=reason)
    except (Invalid, Refused) as exc:
        if isinstance(exc, Refused):
            candidate.refresh_from_db()
        errors, field_errors, status = form_errors(exc)
        return _candidate_page(
            request, candidate, errors=errors, field_errors=field_errors, reason=reason, status=status
        )
    messages.success(request, ACTIONS[action][1])
    return redirect("web:duplicate", candidate.uuid)


def _person_page(request, view, *, errors=None, field_errors=None, status: int = 200, unlinking=None, reason: str = ""):
    return render(
        request,
        "linkage/person.html",
        {
            "title": "A person and their referrals",
            "view": view,
            "current": [(link, identity_of(link.referral)) for link in view.current],
            "history": [(link, identity_of(link.referral)) for link in view.history],
            "errors": errors or [],
            "field_errors": field_errors or {},
            "unlinking": unlinking,
            "reason": reason,
        },
        status=status,
    )


@login_required
def person_detail(request, person_id):
    if refused := _refused(request):
        return refused
    view = person_get(actor=request.user, uuid=person_id)  # NotFound: the 404 page (web/errors.py)
    return _person_page(request, view)


@login_required
@require_POST
def person_unlink(request, person_id, referral_id):
    """Take one referral off the person, with a reason; the page again with what to fix when refused."""
    if refused := _refused(request):
        return refused
    view = person_get(actor=request.user, uuid=person_id)  # NotFound: the 404 page (web/errors.py)
    link = next((link for link in view.current if link.referral.uuid == referral_id), None)
    if link is None:
        raise Http404
    reason = request.POST.get("reason", "")
    try:
        person_link_undo(actor=request.user, person=view.person, referral=link.referral, reason=reason)
    except Invalid as exc:
        field = f"reason-{link.referral.uuid}"
        return _person_page(
            request,
            view,
            errors=[{"text": exc.message, "href": f"#{field}"}],
            field_errors={field: exc.message},
            unlinking=link.referral.uuid,
            reason=reason,
            status=422,
        )
    except Refused as exc:
        return _person_page(request, view, errors=[{"text": str(exc)}], status=409)
    messages.success(request, f"Referral {link.referral.reference} unlinked from this person")
    return redirect("web:person", view.person.uuid)
