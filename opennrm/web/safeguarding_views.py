"""A child's safeguarding pages (issue 4; ADR 0009): the record off the referral's page, one form per
action, "missing now" for a local authority or police force, and the safeguarding work queue.

The actions are the safeguarding services', so the pages refuse exactly what the API refuses, with
the same message, and a refused form keeps what was typed and changes nothing.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from opennrm.core.errors import Invalid, NotAllowed, Refused
from opennrm.policy import Capability, Role, has_capability
from opennrm.referrals.codes import local_authorities
from opennrm.safeguarding import services
from opennrm.safeguarding.models import AgeOutcome, Assessor, CareStatus, PlacementType, Risk, SupportModel
from opennrm.safeguarding.selectors import (
    MISSING_NOW_COUNT_LIMIT,
    alerts_for,
    guardian_requests_waiting,
    guardians_of,
    missing_now_page,
    return_interviews_due,
    safeguarding_open,
    safeguarding_queue_available,
)

from .errors import form_errors

LONDON = ZoneInfo("Europe/London")
PAGE_SIZE = 50


def _open(request, referral_id, purpose: str):
    try:
        return safeguarding_open(actor=request.user, uuid=referral_id, purpose=purpose)
    except NotAllowed:  # NotFound: the 404 page (web/errors.py)
        return None


@login_required
def safeguarding_page(request, referral_id):
    record = _open(request, referral_id, "safeguarding")
    if record is None:
        raise PermissionDenied("Your role does not see children's safeguarding records")
    return render(
        request,
        "safeguarding/record.html",
        {
            "title": f"Safeguarding: {record.referral.reference}",
            "record": record,
            "r": record.referral,
            "now": dt.datetime.now(dt.UTC),
        },
    )


# --- Reading what a form sent -------------------------------------------------------------------------


def _date(post, name: str, label: str, *, required: bool = True) -> dt.date | services.Unreadable | None:
    """A date from its day, month and year boxes; what could not be read goes to the service to report."""
    parts = [post.get(f"{name}-{p}", "").strip() for p in ("day", "month", "year")]
    if not any(parts):
        return services.Unreadable(f"Enter {label}") if required else None
    try:
        day, month, year = (int(p) for p in parts)
        return dt.date(year, month, day)
    except ValueError:
        return services.Unreadable(f"{label[0].upper()}{label[1:]} must be a real date, such as 27 11 2026")


def _when(post, name: str, label: str) -> dt.datetime | services.Unreadable:
    """A date (day, month, year) and a 24-hour time, read as London time."""
    day = _date(post, name, label)
    if isinstance(day, services.Unreadable):
        return day
    text = post.get(f"{name}-time", "").strip()
    try:
        time = dt.time.fromisoformat(text.zfill(5)) if text else None
    except ValueError:
        time = None
    if time is None:
        return services.Unreadable(f"Enter the time of {label} as hours and minutes, such as 21:30")
    return dt.datetime.combine(day, time, tzinfo=LONDON)


def _date_value(post, name: str) -> dict:
    return {p: post.get(f"{name}-{p}", "") for p in ("day", "month", "year", "time")}


def _form(
    request,
    referral_id,
    *,
    capability: Capability,
    purpose: str,
    title: str,
    fields: list[dict],
    read,
    action,
    success: str,
    button: str,
    episode_id=None,
):
    """Show a form of `fields`; on POST read it (`read(post) -> kwargs`), run `action(record, **kwargs)`, redirect with a banner."""
    if not has_capability(request.user, capability):
        raise PermissionDenied(f"Your role ({request.user.role_label}) cannot do this")
    record = _open(request, referral_id, purpose)
    if record is None:
        raise PermissionDenied("Your role does not see children's safeguarding records")
    episode = None
    if episode_id is not None:
        episode = next((e for e in record.episodes if str(e.uuid) == str(episode_id)), None)
        if episode is None:
            raise Http404
    post = request.POST if request.method == "POST" else {}
    context = {
        "title": title,
        "record": record,
        "r": record.referral,
        "fields": fields,
        "post": post,
        "button": button,
        "field_errors": {},
        "errors": [],
        "episode": episode,
    }
    if request.method != "POST":
        return render(request, "safeguarding/form.html", context)
    try:
        # The service checks everything, what the form could not read included, and refuses before writing.
        action(record.referral, episode, **read(post))
    except (Invalid, Refused) as exc:  # NotAllowed and NotFound: the 403 and 404 pages (web/errors.py)
        anchors = {f["name"]: f"{f['name']}-day" if f["kind"] in ("date", "datetime") else f["name"] for f in fields}
        context["errors"], context["field_errors"], status = form_errors(
            exc, href=lambda field: "#" + anchors.get(field, field)
        )
        return render(request, "safeguarding/form.html", context, status=status)
    messages.success(request, success)
    return redirect("web:safeguarding", record.referral.uuid)


def _items(choices) -> list[dict]:
    return [{"value": value, "text": label} for value, label in choices]


@login_required
def report_missing(request, referral_id):
    fields = [
        {
            "kind": "datetime",
            "name": "missing_since",
            "label": "When did the child go missing?",
            "hint": "The date, then the time in 24 hours, such as 21:30",
        },
        {
            "kind": "textarea",
            "name": "last_seen",
            "label": "Where and when was the child last seen?",
            "hint": "Where, with whom, wearing what",
        },
        {
            "kind": "radios",
            "name": "risk",
            "label": "Risk",
            "items": _items(Risk.choices),
            "hint": "A high-risk episode is escalated if nobody else acknowledges it within an hour",
        },
    ]

    def read(post):
        return {
            "missing_since": _when(post, "missing_since", "when the child went missing"),
            "last_seen": post.get("last_seen", ""),
            "risk": post.get("risk", ""),
        }

    return _form(
        request,
        referral_id,
        capability=Capability.REPORT_MISSING,
        purpose="report_missing",
        title="Report the child missing",
        fields=fields,
        read=read,
        button="Report missing",
        action=lambda referral, episode, **kw: services.missing_episode_report(
            actor=request.user, referral=referral, **kw
        ),
        success="Missing episode reported: the others responsible have been told",
    )


@login_required
def record_found(request, referral_id, episode_id):
    fields = [
        {
            "kind": "datetime",
            "name": "found_at",
            "label": "When was the child found?",
            "hint": "The date, then the time in 24 hours, such as 08:15",
        }
    ]

    def read(post):
        return {"found_at": _when(post, "found_at", "when the child was found")}

    return _form(
        request,
        referral_id,
        capability=Capability.REPORT_MISSING,
        purpose="record_found",
        title="Record the child found",
        fields=fields,
        read=read,
        button="Record found",
        episode_id=episode_id,
        action=lambda referral, episode, **kw: services.missing_episode_found(
            actor=request.user, referral=referral, episode=episode, **kw
        ),
        success="Recorded found: a return home interview is due within 72 hours",
    )


@login_required
def record_return_interview(request, referral_id, episode_id):
    fields = [
        {
            "kind": "datetime",
            "name": "completed_at",
            "label": "When was the return interview held?",
            "hint": "The date, then the time in 24 hours",
        },
        {
            "kind": "textarea",
            "name": "summary",
            "label": "Summary",
            "hint": "What the child said about where they were and with whom",
        },
    ]

    def read(post):
        return {
            "completed_at": _when(post, "completed_at", "the interview"),
            "summary": post.get("summary", ""),
        }

    return _form(
        request,
        referral_id,
        capability=Capability.RECORD_CARE,
        purpose="return_interview",
        title="Record the return interview",
        fields=fields,
        read=read,
        button="Record interview",
        episode_id=episode_id,
        action=lambda referral, episode, **kw: services.return_interview_record(
            actor=request.user, referral=referral, episode=episode, **kw
        ),
        success="Return interview recorded",
    )


@login_required
@require_POST
def acknowledge_missing(request, referral_id, episode_id):
    if not has_capability(request.user, Capability.REPORT_MISSING):
        raise PermissionDenied(f"Your role ({request.user.role_label}) cannot do this")
    try:
        services.missing_episode_acknowledge(actor=request.user, referral=referral_id, episode=episode_id)
    except Refused as exc:  # NotAllowed and NotFound: the 403 and 404 pages (web/errors.py)
        messages.error(request, str(exc))
        return redirect("web:safeguarding", referral_id)
    messages.success(request, "Missing episode acknowledged")
    return redirect("web:safeguarding", referral_id)


@login_required
def record_care(request, referral_id):
    fields = [
        {"kind": "radios", "name": "care_status", "label": "Care status", "items": _items(CareStatus.choices)},
        {"kind": "radios", "name": "placement_type", "label": "Placement", "items": _items(PlacementType.choices)},
        {
            "kind": "textarea",
            "name": "placement_address",
            "label": "Placement address",
            "hint": "Leave blank if there is no placement",
        },
        {
            "kind": "text",
            "name": "social_worker",
            "label": "Allocated social worker (optional)",
            "hint": "Their OpenNRM username",
        },
    ]

    def read(post):
        return {
            name: post.get(name, "") for name in ("care_status", "placement_type", "placement_address", "social_worker")
        }

    return _form(
        request,
        referral_id,
        capability=Capability.RECORD_CARE,
        purpose="record_care",
        title="Record care status and placement",
        fields=fields,
        read=read,
        button="Save",
        action=lambda referral, episode, **kw: services.care_record_save(actor=request.user, referral=referral, **kw),
        success="Care status and placement recorded",
    )


@login_required
def transfer(request, referral_id):
    fields = [
        {
            "kind": "text",
            "name": "to_local_authority",
            "label": "Local authority now responsible",
            "hint": "Its GSS code, such as W06000015 for Cardiff",
        },
        {"kind": "date", "name": "moved_on", "label": "When did the child move?"},
        {"kind": "textarea", "name": "reason", "label": "Why responsibility moves"},
    ]

    def read(post):
        code = post.get("to_local_authority", "").strip().upper()
        by_name = {name.lower(): c for c, (name, _) in local_authorities().items()}
        return {
            "to_local_authority": by_name.get(code.lower(), code),
            "moved_on": _date(post, "moved_on", "the date the child moved"),
            "reason": post.get("reason", ""),
        }

    return _form(
        request,
        referral_id,
        capability=Capability.RECORD_CARE,
        purpose="transfer",
        title="Transfer to another local authority",
        fields=fields,
        read=read,
        button="Transfer",
        action=lambda referral, episode, **kw: services.local_authority_transfer(
            actor=request.user, referral=referral, **kw
        ),
        success="Responsibility transferred",
    )


@login_required
def record_age_assessment(request, referral_id):
    fields = [
        {"kind": "radios", "name": "outcome", "label": "Outcome", "items": _items(AgeOutcome.choices)},
        {"kind": "date", "name": "assessed_on", "label": "Date of the assessment"},
        {"kind": "radios", "name": "assessor", "label": "Who assessed the age", "items": _items(Assessor.choices)},
        {"kind": "date", "name": "claimed_date_of_birth", "label": "Claimed date of birth (optional)"},
        {"kind": "date", "name": "assessed_date_of_birth", "label": "Assessed date of birth (optional)"},
        {"kind": "textarea", "name": "notes", "label": "Notes (optional)"},
    ]

    def read(post):
        return {
            "outcome": post.get("outcome", ""),
            "assessed_on": _date(post, "assessed_on", "the date of the assessment"),
            "assessor": post.get("assessor", ""),
            "notes": post.get("notes", ""),
            "claimed_date_of_birth": _date(post, "claimed_date_of_birth", "the claimed date of birth", required=False),
            "assessed_date_of_birth": _date(
                post, "assessed_date_of_birth", "the assessed date of birth", required=False
            ),
        }

    return _form(
        request,
        referral_id,
        capability=Capability.RECORD_CARE,
        purpose="age_assessment",
        title="Record an age assessment",
        fields=fields,
        read=read,
        button="Record assessment",
        action=lambda referral, episode, **kw: services.age_assessment_record(
            actor=request.user, referral=referral, **kw
        ),
        success="Age assessment recorded; earlier assessments stay on the record",
    )


@login_required
def allocate_guardian(request, referral_id):
    fields = [
        {
            "kind": "radios",
            "name": "guardian",
            "label": "Guardian",
            "items": [
                {"value": g.username, "text": g.get_full_name() or g.username} for g in guardians_of(actor=request.user)
            ],
        },
        {"kind": "radios", "name": "support_model", "label": "Support model", "items": _items(SupportModel.choices)},
    ]

    def read(post):
        return {"guardian": post.get("guardian", ""), "support_model": post.get("support_model", "")}

    return _form(
        request,
        referral_id,
        capability=Capability.ALLOCATE_GUARDIAN,
        purpose="allocate_guardian",
        title="Allocate a guardian",
        fields=fields,
        read=read,
        button="Allocate",
        action=lambda referral, episode, **kw: services.guardian_allocate(actor=request.user, referral=referral, **kw),
        success="Guardian allocated",
    )


@login_required
def add_case_note(request, referral_id):
    fields = [{"kind": "textarea", "name": "text", "label": "Note"}]
    return _form(
        request,
        referral_id,
        capability=Capability.WRITE_CASE_NOTE,
        purpose="case_note",
        title="Add a note",
        fields=fields,
        read=lambda post: {"text": post.get("text", "")},
        button="Add note",
        action=lambda referral, episode, **kw: services.case_note_add(actor=request.user, referral=referral, **kw),
        success="Note added",
    )


@login_required
def missing_now(request):
    try:
        page = max(1, min(int(request.GET.get("page", "1")), 1_000_000))
    except ValueError:
        page = 1
    # NotAllowed for a role the list is not for: the 403 page (web/errors.py).
    items, total = missing_now_page(actor=request.user, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(
        request,
        "safeguarding/missing_now.html",
        {
            "title": "Missing now",
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "limit": MISSING_NOW_COUNT_LIMIT,
            "is_local_authority": request.user.role == Role.LA_SOCIAL_WORKER,
            "now": dt.datetime.now(dt.UTC),
        },
    )


@login_required
def safeguarding_queue(request):
    if not safeguarding_queue_available(request.user):
        raise PermissionDenied("Your role does not act on children's safeguarding")
    return render(
        request,
        "safeguarding/queue.html",
        {
            "title": "Safeguarding work queue",
            "alerts": alerts_for(actor=request.user),
            "waiting": guardian_requests_waiting(actor=request.user),
            "due": return_interviews_due(actor=request.user),
            "now": dt.datetime.now(dt.UTC),
        },
    )
