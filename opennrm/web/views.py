"""Pages other than the referral journey and signing in: home, referrals, the NRM status lookup."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from opennrm.cases.present import guardian_allocation_cut, missing_person_cut, nrm_status_no_match_message
from opennrm.cases.selectors import nrm_status_lookup, referral_page
from opennrm.core.errors import Throttled
from opennrm.decisions.models import Outcome, Stage
from opennrm.decisions.selectors import deadline_notices_of, referral_history
from opennrm.linkage.selectors import referral_linkage
from opennrm.policy import Capability, Compartment, View, compartments_for, has_capability
from opennrm.referrals.models import CompetentAuthority, Status
from opennrm.referrals.references import home_office_reference_problem
from opennrm.referrals.selectors import drafts_for, record_access_log, referral_open

from .assigning import assign_targets

PAGE_SIZE = 25
# The words for the codes of a status view (cases/present.py status_compartment).
STATUS_VIEW_LABELS = {
    "status": dict(Status.choices),
    "competent_authority": dict(CompetentAuthority.choices),
    "stage": dict(Stage.choices),
    "outcome": dict(Outcome.choices),
}


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, context, status=status)


def _page_number(request) -> int:
    try:
        return min(1_000_000, max(1, int(request.GET.get("page", "1"))))
    except ValueError:
        return 1


@login_required
def home(request):
    user = request.user
    context = {"title": "Home", "drafts": [], "recent": [], "recent_total": 0}
    if has_capability(user, Capability.CREATE_REFERRAL):
        context["drafts"] = list(drafts_for(actor=user)[:20])
    if has_capability(user, Capability.LIST_REFERRALS):
        context["recent"], context["recent_total"] = referral_page(actor=user, offset=0, limit=10)
    return _render(request, "home.html", context)


@login_required
def referral_list(request):
    user = request.user
    if not has_capability(user, Capability.LIST_REFERRALS):
        raise PermissionDenied("Your role cannot list referrals")
    status = request.GET.get("status") or None
    if status not in Status.values:
        status = None
    page = _page_number(request)
    items, total = referral_page(actor=user, status=status, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return _render(
        request,
        "referrals/list.html",
        {
            "title": "Referrals",
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "status": status,
            "statuses": Status.choices,
            "show_names": Compartment.REFERRAL in compartments_for(user),
        },
    )


@login_required
def referral_detail(request, referral_id):
    referral = referral_open(actor=request.user, uuid=referral_id)  # NotFound: the 404 page (web/errors.py)
    return referral_detail_response(request, referral)


def referral_detail_response(request, referral, *, errors=None, status: int = 200):
    """The referral's page, also shown again with the reason when an action on it was refused."""
    access = referral.access  # what the user sees of this referral and why (referral_open, ADR 0028)
    compartments = access.compartments
    decides = has_capability(request.user, Capability.MAKE_DECISION)
    return _render(
        request,
        "referrals/detail.html",
        {
            "title": f"Referral {referral.reference}",
            "referral": referral,
            "history": referral_history(actor=request.user, referral=referral),
            "show": {c.value: c in compartments for c in Compartment},
            "access": access,
            # A cut view's fields, the same the API answers with (cases/present.py).
            "cut": missing_person_cut(referral)
            if access.view == View.MISSING_PERSON
            else guardian_allocation_cut(referral)
            if access.view == View.GUARDIAN_ALLOCATION
            else None,
            "deadline_notices": deadline_notices_of(actor=request.user, referral=referral),
            "show_access_log": has_capability(request.user, Capability.READ_RECORD_ACCESS_LOG) and access.grant is None,
            "assign_targets": assign_targets(request.user) if decides and referral.next_deadline else [],
            "linkage": referral_linkage(actor=request.user, referral=referral),
            "errors": errors or [],
        },
        status=status,
    )


@login_required
def referral_access_log(request, referral_id):
    """Who has seen this record: its audit events, for the child's local authority, guardian and auditors."""
    page = _page_number(request)
    # NotFound (no such record, or one the user may not see the log of): the 404 page (web/errors.py).
    log = record_access_log(
        actor=request.user, referral_uuid=referral_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return _render(
        request,
        "referrals/access_log.html",
        {
            "title": "Who has seen this record",
            "log": log,
            "page": page,
            "pages": max(1, -(-log.total // PAGE_SIZE)),
            # Auditors see no case content, not even the reference: the record is named by its id.
            "show_reference": Compartment.STATUS in compartments_for(request.user),
        },
    )


@login_required
def nrm_status(request):
    """The status page: built from the same selector and status view as GET /api/v1/nrm-status."""
    if not has_capability(request.user, Capability.LOOKUP_NRM_STATUS):
        raise PermissionDenied("Your role cannot look up NRM status")
    reference = request.GET.get("home_office_reference", "").strip()
    context = {
        "title": "Look up NRM status",
        "reference": reference,
        "errors": [],
        "found": [],
        "searched": False,
        "no_match": None,
        "retry_at": None,
        "labels": STATUS_VIEW_LABELS,
    }
    status, retry_after = 200, None
    if "home_office_reference" in request.GET:
        if message := home_office_reference_problem(reference):
            context["errors"] = [{"text": message, "href": "#home_office_reference"}]
        else:
            try:
                context["found"] = nrm_status_lookup(actor=request.user, home_office_reference=reference)
                context["searched"] = True
                context["no_match"] = None if context["found"] else nrm_status_no_match_message(reference)
            except Throttled as refused:
                status, retry_after = 429, refused.retry_after_seconds()
                context["retry_at"] = refused.retry_at
                context["title"] = "Too many lookups"
    response = _render(request, "nrm_status.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response
