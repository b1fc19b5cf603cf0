"""`GET /api/v1/dashboard`: the managers' dashboard figures (ADR 0008), the same as the page's."""

from django.utils import timezone
from ninja import Router

from opennrm.dashboards.periods import Period, check_filters, check_period, last_twelve_months, parse_date
from opennrm.dashboards.present import as_dict
from opennrm.dashboards.selectors import LONDON, dashboard_figures
from opennrm.policy import Capability, has_capability
from opennrm.referrals.validation import FieldError

from .http import invalid, problem
from .schemas import ROLE_CHECKED, SIGNED_IN, WITH_QUERY, DashboardOut, responses

router = Router(tags=["dashboard"])
KNOWN = {"from", "to", "authority", "nation", "age_group"}


def _param(name: str, description: str, example: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "example": example},
    }


PARAMETERS = [
    _param("from", "First day of the period, YYYY-MM-DD (with `to`; both omitted: the last 12 months)", "2026-01-01"),
    _param("to", "Last day of the period, YYYY-MM-DD, today or earlier", "2026-06-30"),
    _param(
        "authority", "SCA, IECA or LOCAL_PANEL (a decision maker's figures are always their own authority's)", "SCA"
    ),
    _param("nation", "ENG, WLS, SCT or NIR", "ENG"),
    _param("age_group", "child, adult or unknown", "child"),
]


DESCRIPTION = """The same figures as the page `/dashboard` (ADR 0008), from the same selector.

**Disclosure control** (contract section 7; `disclosure` in the answer names the policy and its version).
Every figure-bearing object carries, beside its figures, `obs_status` (each figure's GSS shorthand code:
`""` when it is published, `"c"` when it is withheld to protect confidentiality, its value then `null`) and
`below_threshold` (each figure: `true` when it is exact but counts fewer than `disclosure.threshold` cases);
`open_total` has `open_total_obs_status` and `open_total_below_threshold`.

- A **decision maker** (`disclosure.method` `"exact"`) sees exact figures, as before; those counting fewer
  than 5 cases are marked `below_threshold`: take care before sharing them.
- A **statistician** (`"controlled"`), who sees no record, gets under the default policy every count rounded to the nearest 5 (0 stays
  0), a count of 1 to 4 withheld (`"c"`), and other counts withheld where the totals would otherwise let a
  withheld one be worked out (secondary suppression); totals are rounded from the true totals, so parts need
  not add up. Medians and 90th percentiles are withheld for fewer than 5 decisions or a withheld count;
  shares within the deadline for fewer than 50 decisions, or where the part or the rest is 1 to 4, and are
  shown to whole percent.
"""


# by_alias: the period's `from` (a Python keyword) is `from_` in DashboardOut.
@router.get(
    "/dashboard",
    response=responses({200: DashboardOut}, SIGNED_IN, ROLE_CHECKED, WITH_QUERY),
    by_alias=True,
    openapi_extra={"parameters": PARAMETERS},
    description=DESCRIPTION,
    summary="Managers' dashboard: open cases by stage, days to decisions (median, 90th percentile), "
    "Reasonable Grounds decisions within the deadline and missed deadlines, as counts only",
)
def dashboard(request):
    if not has_capability(request.user, Capability.VIEW_DECISION_DASHBOARD):
        raise problem(403, f"Your role ({request.user.role_label}) does not see the decisions dashboard")
    query = request.GET
    today = timezone.now().astimezone(LONDON).date()
    errors = [
        FieldError(k, "Unknown parameter: use from, to, authority, nation or age_group")
        for k in query
        if k not in KNOWN
    ]
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
