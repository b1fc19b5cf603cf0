"""The managers' dashboard page, `/dashboard` (issue 3 item 8; ADR 0008): a GET form that works without JavaScript."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import render
from django.utils import timezone

from opennrm.dashboards.periods import (
    AGE_GROUPS,
    Period,
    check_filters,
    check_period,
    date_from_parts,
    last_twelve_months,
)
from opennrm.dashboards.present import page_sections
from opennrm.dashboards.selectors import LONDON, dashboard_figures
from opennrm.policy import Capability, Role, has_capability
from opennrm.referrals.codes import NATIONS
from opennrm.referrals.models import CompetentAuthority

DATE_FIELDS = {"from": "start date", "to": "end date"}


def _period_from_form(query, today) -> tuple[Period | None, dict[str, str], dict[str, dict]]:
    """(period, errors by field, what was typed) from the form's date boxes; no boxes at all means the last 12 months."""
    typed = {name: {part: query.get(f"{name}-{part}", "") for part in ("day", "month", "year")} for name in DATE_FIELDS}
    if not any(v.strip() for parts in typed.values() for v in parts.values()):
        period = last_twelve_months(today)
        return period, {}, {name: _parts(day) for name, day in (("from", period.start), ("to", period.end))}
    dates, errors = {}, {}
    for name, what in DATE_FIELDS.items():
        dates[name], message = date_from_parts(typed[name]["day"], typed[name]["month"], typed[name]["year"], what)
        if message:
            errors[name] = message
    errors = errors or check_period(dates["from"], dates["to"], today)
    return (None if errors else Period(dates["from"], dates["to"])), errors, typed


def _parts(day) -> dict:
    return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}


@login_required
def dashboard(request):
    user = request.user
    if not has_capability(user, Capability.VIEW_DECISION_DASHBOARD):
        return HttpResponseForbidden("Your role does not see the decisions dashboard")
    today = timezone.now().astimezone(LONDON).date()
    period, errors, typed = _period_from_form(request.GET, today)
    filters, filter_errors = check_filters(
        request.GET.get("authority"), request.GET.get("nation"), request.GET.get("age_group")
    )
    errors.update({("authority" if k == "competent_authority" else k): v for k, v in filter_errors.items()})
    context = {
        "title": "Decisions dashboard",
        "typed": typed,
        "filters": filters,
        "field_errors": errors,
        "errors": [
            {"text": text, "href": f"#{field}-day" if field in DATE_FIELDS else f"#{field}"}
            for field, text in errors.items()
        ],
        "all_authorities": user.role == Role.STATISTICIAN,
        "authorities": CompetentAuthority.choices,
        "nations": NATIONS,
        "age_groups": AGE_GROUPS,
        "figures": None,
    }
    if not errors:
        figures = dashboard_figures(actor=user, period=period, filters=filters, today=today, via="page")
        context.update(figures=figures, sections=page_sections(figures))
    return render(request, "dashboards/dashboard.html", context)
