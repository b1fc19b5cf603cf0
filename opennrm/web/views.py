"""Pages other than the referral journey: signing in and out, home, referrals, the NRM status lookup."""

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from opennrm.accounts.services import user_signed_in, user_signed_out
from opennrm.decisions.selectors import referral_history
from opennrm.policy import Capability, Compartment, compartments_for, has_capability
from opennrm.referrals.models import Status
from opennrm.referrals.selectors import NotFound, drafts_for, nrm_status_lookup, referral_open, referral_page

PAGE_SIZE = 25


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, context, status=status)


def sign_in(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    context = {"title": "Sign in", "username": "", "next": next_url, "field_errors": {}, "errors": []}
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        context["username"] = username
        field_errors = {}
        if not username:
            field_errors["username"] = "Enter your username"
        if not password:
            field_errors["password"] = "Enter your password"
        user = authenticate(request, username=username, password=password) if not field_errors else None
        if not field_errors and user is None:
            user_signed_in(user=None, success=False, username=username)
            field_errors["username"] = "The username or password is not right"
        if field_errors:
            context["field_errors"] = field_errors
            context["errors"] = [{"text": text, "href": f"#{field}"} for field, text in field_errors.items()]
            return _render(request, "sign_in.html", context, status=200)
        login(request, user)
        user_signed_in(user=user, success=True)
        return redirect(next_url or "web:home")
    return _render(request, "sign_in.html", context)


@require_POST
def sign_out(request):
    if request.user.is_authenticated:
        user_signed_out(user=request.user)
    logout(request)
    return redirect("web:sign-in")


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
        return HttpResponseForbidden("Your role cannot list referrals")
    status = request.GET.get("status") or None
    if status not in Status.values:
        status = None
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    items, total = referral_page(actor=user, status=status, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return _render(request, "referrals/list.html", {
        "title": "Referrals",
        "items": items,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "status": status,
        "statuses": Status.choices,
        "show_names": Compartment.REFERRAL in compartments_for(user),
    })


@login_required
def referral_detail(request, referral_id):
    try:
        referral = referral_open(actor=request.user, uuid=referral_id)
    except NotFound:
        raise Http404
    return referral_detail_response(request, referral)


def referral_detail_response(request, referral, *, errors=None, status: int = 200):
    """The referral's page, also shown again with the reason when an action on it was refused."""
    from .decision_views import assign_targets

    compartments = compartments_for(request.user)
    decides = has_capability(request.user, Capability.MAKE_DECISION)
    return _render(request, "referrals/detail.html", {
        "title": f"Referral {referral.reference}",
        "referral": referral,
        "history": referral_history(actor=request.user, referral=referral),
        "show": {c.value: c in compartments for c in Compartment},
        "assign_targets": assign_targets(request.user) if decides and referral.next_deadline else [],
        "errors": errors or [],
    }, status=status)


@login_required
def nrm_status(request):
    if not has_capability(request.user, Capability.LOOKUP_NRM_STATUS):
        return HttpResponseForbidden("Your role cannot look up NRM status")
    reference = request.GET.get("home_office_reference", "").strip()
    errors, found, searched = [], [], False
    if "home_office_reference" in request.GET:
        searched = True
        if not reference:
            errors = [{"text": "Enter a Home Office reference", "href": "#home_office_reference"}]
        elif len(reference) > 40:
            errors = [{"text": "A Home Office reference is 40 characters or fewer", "href": "#home_office_reference"}]
        else:
            found = nrm_status_lookup(actor=request.user, home_office_reference=reference)
    return _render(request, "nrm_status.html", {
        "title": "Look up NRM status",
        "reference": reference,
        "errors": errors,
        "found": found,
        "searched": searched and not errors,
    })
