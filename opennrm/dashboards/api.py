"""`GET /api/v1/dashboard`: the managers' dashboard figures (ADR 0008), the same as the page's."""

from django.utils import timezone
from ninja import Router

from opennrm.api.http import invalid, problem
from opennrm.policy import Capability, has_capability
from opennrm.referrals.validation import FieldError

from .periods import Period, check_filters, check_period, last_twelve_months, parse_date
from .present import as_dict
from .selectors import LONDON, dashboard_figures

router = Router(tags=["dashboard"])
KNOWN = {"from", "to", "authority", "nation", "age_group"}


def _param(name: str, description: str, example: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": {"type": "string", "example": example}}


PARAMETERS = [
    _param("from", "First day of the period, YYYY-MM-DD (with `to`; both omitted: the last 12 months)", "2026-01-01"),
    _param("to", "Last day of the period, YYYY-MM-DD, today or earlier", "2026-06-30"),
    _param("authority", "SCA, IECA or LOCAL_PANEL (a decision maker's figures are always their own authority's)", "SCA"),
    _param("nation", "ENG, WLS, SCT or NIR", "ENG"),
    _param("age_group", "child, adult or unknown", "child"),
]


@router.get("/dashboard", response=dict, openapi_extra={"parameters": PARAMETERS},
            summary="Managers' dashboard: open cases by stage, days to decisions (median, 90th percentile), "
                    "Reasonable Grounds decisions within the deadline and missed deadlines, as counts only")
def dashboard(request):
    if not has_capability(request.user, Capability.VIEW_DECISION_DASHBOARD):
        raise problem(403, f"Your role ({request.user.role_label}) does not see the decisions dashboard")
    query = request.GET
    today = timezone.now().astimezone(LONDON).date()
    errors = [FieldError(k, "Unknown parameter: use from, to, authority, nation or age_group") for k in query if k not in KNOWN]
    start = end = None
    if query.get("from") or query.get("to"):
        start, message = parse_date(query.get("from"), "start date")
        if message:
            errors.append(FieldError("from", message))
        end, message = parse_date(query.get("to"), "end date")
        if message:
            errors.append(FieldError("to", message))
        if not any(e.field in ("from", "to") for e in errors):
            errors += [FieldError(k, v) for k, v in check_period(start, end, today).items()]
    filters, filter_errors = check_filters(query.get("authority"), query.get("nation"), query.get("age_group"))
    errors += [FieldError("authority" if k == "competent_authority" else k, v) for k, v in filter_errors.items()]
    if errors:
        raise invalid(errors)
    period = Period(start, end) if start else last_twelve_months(today)
    return as_dict(dashboard_figures(actor=request.user, period=period, filters=filters, today=today, via="api"))
