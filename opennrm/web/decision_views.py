"""Decision pages (issue 3 items 6 and 9): the work queue, deciding, reviewing a proposed negative, reconsideration.

Each action has its own page, reached from the referral's page; the action is the decision
services' (decisions/services.py), so the pages refuse exactly what the API refuses, with the
same reason, and leave the record as it was.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render

from opennrm.decisions.models import DecisionState, Outcome, Stage
from opennrm.decisions.selectors import QUEUE_STATUSES, decision_of, stage_due, work_queue_page
from opennrm.decisions.services import (
    InvalidDecision, TransitionRefused, decision_confirm, decision_record, decision_send_back, reconsideration_request,
)
from opennrm.policy import Capability, Compartment, compartments_for, has_capability
from opennrm.referrals.codes import NATIONS
from opennrm.referrals.selectors import NotFound, referral_open
from opennrm.referrals.services import NotAllowed

PAGE_SIZE = 25
AGE_GROUPS = {"child": "Child", "adult": "Adult", "unknown": "Not sure (treated as a child)"}


def _choice(request, name: str, allowed) -> str | None:
    value = request.GET.get(name) or None
    return value if value in allowed else None


@login_required
def work_queue(request):
    user = request.user
    if not has_capability(user, Capability.MAKE_DECISION):
        return HttpResponseForbidden("Your role does not decide cases")
    filters = {
        "status": _choice(request, "status", {s.value for s in QUEUE_STATUSES}),
        "nation": _choice(request, "nation", NATIONS),
        "age_group": _choice(request, "age_group", AGE_GROUPS),
    }
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    items, total = work_queue_page(actor=user, **filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(request, "decisions/queue.html", {
        "title": "Work queue" + (f" (page {page})" if page > 1 else ""),
        "items": items,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": filters,
        "filter_query": "".join(f"&{k}={v}" for k, v in filters.items() if v),
        "statuses": [(s.value, s.label) for s in QUEUE_STATUSES],
        "nations": NATIONS,
        "age_groups": AGE_GROUPS,
        "show_names": Compartment.REFERRAL in compartments_for(user),
    })


def _open(request, referral_id, capability: Capability, purpose: str):
    """The referral for an action page, or the response that refuses it (403 for the role, 404 outside scope)."""
    if not has_capability(request.user, capability):
        return None, HttpResponseForbidden(f"Your role ({request.user.role_label}) cannot do this")
    try:
        return referral_open(actor=request.user, uuid=referral_id, purpose=purpose), None
    except NotFound:
        raise Http404


def _refusal(exc) -> tuple[list[dict], dict, int]:
    """(error summary, field errors, status) for what a service refused."""
    if isinstance(exc, InvalidDecision):
        return [{"text": exc.message, "href": f"#{exc.field}"}], {exc.field: exc.message}, 422
    return [{"text": str(exc)}], {}, 409


def _act(request, referral, action, success: str, form_page, context: dict):
    """Run a service call; on success redirect to the referral with a banner, otherwise show the form page with the reason."""
    try:
        action()
    except NotAllowed as exc:
        return HttpResponseForbidden(str(exc))
    except NotFound:
        raise Http404
    except (InvalidDecision, TransitionRefused) as exc:
        errors, field_errors, status = _refusal(exc)
        return render(request, form_page, {**context, "errors": errors, "field_errors": field_errors}, status=status)
    messages.success(request, success)
    return redirect("web:referral-detail", referral.uuid)


@login_required
def decision_new(request, referral_id):
    referral, refused = _open(request, referral_id, Capability.MAKE_DECISION, "decide")
    if refused:
        return refused
    form = {"stage": stage_due(referral), "outcome": None, "reasons": ""}
    context = {"title": f"Make a decision on {referral.reference}", "referral": referral, "form": form, "field_errors": {},
               "stages": Stage.choices, "outcomes": Outcome.choices}
    if request.method != "POST":
        return render(request, "decisions/decide.html", context)
    form.update({name: request.POST.get(name, "") for name in form})
    outcome = form["outcome"]
    success = ("Negative decision proposed: it takes effect when a second decision maker confirms it"
               if outcome == Outcome.NEGATIVE else "Decision recorded")
    return _act(request, referral, lambda: decision_record(actor=request.user, referral=referral, stage=form["stage"], outcome=outcome,
                                                          reasons=form["reasons"]), success, "decisions/decide.html", context)


@login_required
def decision_review(request, referral_id, decision_id):
    referral, refused = _open(request, referral_id, Capability.MAKE_DECISION, "review_decision")
    if refused:
        return refused
    decision = decision_of(referral=referral, uuid=decision_id)
    if decision is None:
        raise Http404
    context = {"title": f"Review the proposed decision on {referral.reference}", "referral": referral, "decision": decision,
               "comment": "", "field_errors": {}, "proposer": decision.decided_by_id == request.user.pk,
               "pending": decision.state == DecisionState.PROPOSED}
    if request.method != "POST":
        return render(request, "decisions/review.html", context)
    if request.POST.get("action") == "send_back":
        context["comment"] = request.POST.get("comment", "")
        return _act(request, referral, lambda: decision_send_back(actor=request.user, referral=referral, decision=decision, comment=context["comment"]),
                    "Decision sent back for a fresh decision", "decisions/review.html", context)
    return _act(request, referral, lambda: decision_confirm(actor=request.user, referral=referral, decision=decision),
                "Decision confirmed: it has taken effect", "decisions/review.html", context)


@login_required
def reconsideration_new(request, referral_id):
    referral, refused = _open(request, referral_id, Capability.REQUEST_RECONSIDERATION, "request_reconsideration")
    if refused:
        return refused
    context = {"title": f"Request reconsideration of {referral.reference}", "referral": referral, "grounds": "", "field_errors": {}}
    if request.method != "POST":
        return render(request, "decisions/reconsideration.html", context)
    context["grounds"] = request.POST.get("grounds", "")
    return _act(request, referral, lambda: reconsideration_request(actor=request.user, referral=referral, grounds=context["grounds"]),
                "Reconsideration requested: the case returns to the competent authority for a fresh decision",
                "decisions/reconsideration.html", context)
