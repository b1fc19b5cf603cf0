"""Decision pages (issue 3 items 6 and 9): the work queue, deciding, reviewing a proposed negative, reconsideration.

Each action has its own page, reached from the referral's page; the action is the decision
services' (decisions/services.py), so the pages refuse exactly what the API refuses, with the
same reason, and leave the record as it was.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from opennrm.core.errors import Invalid, Refused
from opennrm.decisions.assignment import (
    BulkAssignmentRefused,
    case_assign,
    cases_assign,
)
from opennrm.decisions.models import DecisionState, Outcome, Stage
from opennrm.decisions.selectors import (
    COUNT_CAP,
    QUEUE_STATUSES,
    QueueView,
    actor_team_ids,
    decision_of,
    stage_due,
    work_queue_page,
)
from opennrm.decisions.services import (
    decision_confirm,
    decision_record,
    decision_send_back,
    reconsideration_request,
)
from opennrm.policy import Capability, Compartment, compartments_for, has_capability
from opennrm.referrals.codes import NATIONS, local_authorities
from opennrm.referrals.models import CompetentAuthority
from opennrm.referrals.selectors import referral_open

from .assigning import UNASSIGN, assign_targets
from .errors import form_errors
from .views import referral_detail_response

PAGE_SIZE = 25
AGE_GROUPS = {"child": "Child", "adult": "Adult", "unknown": "Not sure (treated as a child)"}
QUEUE_VIEWS = {
    QueueView.MINE: "My cases",
    QueueView.TEAM: "My team's cases",
    QueueView.UNASSIGNED: "Unassigned",
    QueueView.ALL: "All open cases",
}


def _choice(params, name: str, allowed) -> str | None:
    value = params.get(name) or None
    return value if value in allowed else None


def _authority_choices(user) -> list[tuple[str, str]]:
    """The page's authority filter: the child's local authority (a panel has only its own)."""
    organisation = user.organisation
    if organisation.competent_authority == CompetentAuthority.LOCAL_PANEL:
        codes = [organisation.local_authority] if organisation.local_authority else []
    else:
        codes = sorted(local_authorities(), key=lambda code: local_authorities()[code][0])
    return [(code, f"Children of {local_authorities()[code][0]}") for code in codes if code in local_authorities()]


def _queue_filters(user, params) -> tuple[str, dict, int]:
    view = _choice(params, "view", {v.value for v in QueueView}) or QueueView.ALL
    filters = {
        "status": _choice(params, "status", {s.value for s in QUEUE_STATUSES}),
        "nation": _choice(params, "nation", NATIONS),
        "authority": _choice(params, "authority", {code for code, _ in _authority_choices(user)}),
        "age_group": _choice(params, "age_group", AGE_GROUPS),
    }
    try:
        page = max(1, min(int(params.get("page", "1")), COUNT_CAP // PAGE_SIZE))
    except ValueError:
        page = 1
    return view, filters, page


def _queue_response(request, params, *, errors=None, selected=(), target="", status=200):
    user = request.user
    view, filters, page = _queue_filters(user, params)
    result = work_queue_page(actor=user, view=view, **filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    query = {"view": view, **{k: v for k, v in filters.items() if v}}
    return render(
        request,
        "decisions/queue.html",
        {
            "title": "Work queue"
            + ("" if view == QueueView.ALL else f": {QUEUE_VIEWS[view].lower()}")
            + (f" (page {page})" if page > 1 else ""),
            "view": view,
            "views": [(v, label, "?" + urlencode({"view": v})) for v, label in QUEUE_VIEWS.items()],
            "has_team": bool(actor_team_ids(user)),
            "items": result.items,
            "total": result.total,
            "total_capped": result.total_capped,
            "page": page,
            "pages": max(1, -(-result.total // PAGE_SIZE)),
            "filters": filters,
            "filter_query": "&" + urlencode(query),
            "this_page": request.path + "?" + urlencode({**query, "page": page}),
            "statuses": [(s.value, s.label) for s in QUEUE_STATUSES],
            "nations": NATIONS,
            "authorities": _authority_choices(user),
            "age_groups": AGE_GROUPS,
            "targets": assign_targets(user),
            "target": target,
            "selected": set(selected),
            "errors": errors or [],
            "show_names": Compartment.REFERRAL in compartments_for(user),
        },
        status=status,
    )


@login_required
def work_queue(request):
    if not has_capability(request.user, Capability.MAKE_DECISION):
        raise PermissionDenied("Your role does not decide cases")
    return _queue_response(request, request.GET)


@login_required
@require_POST
def work_queue_assign(request):
    """Assign the cases ticked on a queue page, all or nothing; back to the same page either way."""
    user = request.user
    if not has_capability(user, Capability.MAKE_DECISION):
        raise PermissionDenied("Your role does not decide cases")
    back = request.POST.get("back", "")
    params = _back_params(back)
    selected = request.POST.getlist("referrals")
    target = request.POST.get("assign_to", "")
    chosen = _assign_target(target)
    if chosen is None:
        errors = [{"text": "Choose who to assign the selected cases to", "href": "#assign_to"}]
        return _queue_response(request, params, errors=errors, selected=selected, status=422)
    try:
        done = cases_assign(actor=user, referrals=selected, **chosen)
    except Invalid as exc:
        href = "#assign_to" if exc.field in ("assigned_to", "team") else "#queue-cases"
        return _queue_response(
            request, params, errors=[{"text": exc.message, "href": href}], selected=selected, target=target, status=422
        )
    except BulkAssignmentRefused as exc:
        errors = [
            {"text": f"Case {r.index + 1} of those selected: {r.message}", "href": f"#select-{r.referral_id}"}
            for r in exc.refusals
        ]
        errors.insert(0, {"text": "Nothing was assigned: " + str(exc).split(";")[0]})
        return _queue_response(request, params, errors=errors, selected=selected, target=target, status=409)
    who = dict(assign_targets(user)).get(target, "nobody")
    messages.success(request, f"{len(done)} case{'' if len(done) == 1 else 's'} assigned to {who}")
    return redirect(request.path.removesuffix("/assign") + "?" + urlencode(params))


def _assign_target(value: str) -> dict | None:
    """The service's arguments for an "Assign to" choice; None when nothing was chosen."""
    if value.startswith("user:"):
        return {"assigned_to": value.removeprefix("user:")}
    if value.startswith("team:"):
        return {"team": value.removeprefix("team:")}
    return {} if value == UNASSIGN else None


@login_required
@require_POST
def referral_assign(request, referral_id):
    """Assign one case from its own page."""
    referral, refused = _open(request, referral_id, Capability.MAKE_DECISION, "assign")
    if refused:
        return refused
    chosen = request.POST.get("assign_to", "")
    target = _assign_target(chosen)
    try:
        if target is None:
            raise Invalid.at("assign_to", "Choose who to assign the case to")
        case_assign(actor=request.user, referral=referral, **target)
    except (Invalid, Refused) as exc:
        errors, _, status = form_errors(exc)
        errors = [{"text": e["text"], "href": "#assign_to"} for e in errors]
        return referral_detail_response(request, referral, errors=errors, status=status)
    messages.success(request, f"Case assigned to {dict(assign_targets(request.user)).get(chosen, 'nobody')}")
    return redirect("web:referral-detail", referral.uuid)


def _back_params(back: str) -> dict:
    """The queue page the form was on (view, filters, page), from its query string only: never an outside URL."""
    return dict(parse_qsl(urlsplit(back).query))


def _open(request, referral_id, capability: Capability, purpose: str):
    """The referral for an action page; refused with 403 for the role (the one refusal page), 404 outside scope."""
    if not has_capability(request.user, capability):
        raise PermissionDenied(f"Your role ({request.user.role_label}) cannot do this")
    return referral_open(actor=request.user, uuid=referral_id, purpose=purpose), None  # NotFound: 404 (web/errors.py)


def _act(request, referral, action, success: str, form_page, context: dict):
    """Run a service call; on success redirect to the referral with a banner, otherwise show the form page with the reason."""
    try:
        action()
    except (Invalid, Refused) as exc:  # NotAllowed and NotFound: the 403 and 404 pages (web/errors.py)
        errors, field_errors, status = form_errors(exc)
        return render(request, form_page, {**context, "errors": errors, "field_errors": field_errors}, status=status)
    messages.success(request, success)
    return redirect("web:referral-detail", referral.uuid)


@login_required
def decision_new(request, referral_id):
    referral, refused = _open(request, referral_id, Capability.MAKE_DECISION, "decide")
    if refused:
        return refused
    form = {"stage": stage_due(referral), "outcome": None, "reasons": ""}
    context = {
        "title": f"Make a decision on {referral.reference}",
        "referral": referral,
        "form": form,
        "field_errors": {},
        "stages": Stage.choices,
        "outcomes": Outcome.choices,
    }
    if request.method != "POST":
        return render(request, "decisions/decide.html", context)
    form.update({name: request.POST.get(name, "") for name in form})
    outcome = form["outcome"]
    success = (
        "Negative decision proposed: it takes effect when a second decision maker confirms it"
        if outcome == Outcome.NEGATIVE
        else "Decision recorded"
    )
    return _act(
        request,
        referral,
        lambda: decision_record(
            actor=request.user, referral=referral, stage=form["stage"], outcome=outcome, reasons=form["reasons"]
        ),
        success,
        "decisions/decide.html",
        context,
    )


@login_required
def decision_review(request, referral_id, decision_id):
    referral, refused = _open(request, referral_id, Capability.MAKE_DECISION, "review_decision")
    if refused:
        return refused
    decision = decision_of(referral=referral, uuid=decision_id)
    if decision is None:
        raise Http404
    context = {
        "title": f"Review the proposed decision on {referral.reference}",
        "referral": referral,
        "decision": decision,
        "comment": "",
        "field_errors": {},
        "proposer": decision.decided_by_id == request.user.pk,
        "pending": decision.state == DecisionState.PROPOSED,
    }
    if request.method != "POST":
        return render(request, "decisions/review.html", context)
    if request.POST.get("action") == "send_back":
        context["comment"] = request.POST.get("comment", "")
        return _act(
            request,
            referral,
            lambda: decision_send_back(
                actor=request.user, referral=referral, decision=decision, comment=context["comment"]
            ),
            "Decision sent back for a fresh decision",
            "decisions/review.html",
            context,
        )
    return _act(
        request,
        referral,
        lambda: decision_confirm(actor=request.user, referral=referral, decision=decision),
        "Decision confirmed: it has taken effect",
        "decisions/review.html",
        context,
    )


@login_required
def reconsideration_new(request, referral_id):
    referral, refused = _open(request, referral_id, Capability.REQUEST_RECONSIDERATION, "request_reconsideration")
    if refused:
        return refused
    context = {
        "title": f"Request reconsideration of {referral.reference}",
        "referral": referral,
        "grounds": "",
        "field_errors": {},
    }
    if request.method != "POST":
        return render(request, "decisions/reconsideration.html", context)
    context["grounds"] = request.POST.get("grounds", "")
    return _act(
        request,
        referral,
        lambda: reconsideration_request(actor=request.user, referral=referral, grounds=context["grounds"]),
        "Reconsideration requested: the case returns to the competent authority for a fresh decision",
        "decisions/reconsideration.html",
        context,
    )
