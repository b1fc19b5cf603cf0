"""The official statistics' pages (issue 24 points 4 and 5, contract section 7, ADR 0030).

Public, with no sign-in: the list of published releases (`/statistics`), each release's page and downloads, the
Atom feed of releases and the pre-announced release calendar. A prepared release is not found by anyone but a
statistician, who prepares (builds), previews and publishes it from the pages below `/statistics/prepare`.
"""

import mimetypes
import xml.etree.ElementTree as ET

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from markupsafe import Markup

from opennrm.core.errors import NotFound
from opennrm.dashboards.charts import Series, bar_chart
from opennrm.statistics.errors import PublicationError
from opennrm.statistics.extract import LONDON
from opennrm.statistics.models import Release
from opennrm.statistics.publication import configured_policy
from opennrm.statistics.selectors import (
    NATIONAL_SOURCE,
    headlines,
    national_children_referred_by_year,
    own_children_by_year,
    published_release,
    published_releases,
    release_calendar,
    release_for_statistician,
    release_versions,
    releases_for_statistician,
)
from opennrm.statistics.services import publication_build_for_pages, release_files, release_publish

PUBLICATION_TITLE = "Modern slavery: National Referral Mechanism statistics"
NATIONAL_SERIES = "UK, Home Office (published)"
OWN_SERIES = "This service (OpenNRM)"
ATOM = "http://www.w3.org/2005/Atom"
CONTENT_TYPES = {".ods": "application/vnd.oasis.opendocument.spreadsheet", ".csv": "text/csv; charset=utf-8"}


def release_title(release: Release) -> str:
    return f"{PUBLICATION_TITLE}, {release.period_label}"


def national_trend() -> dict:
    """The chart and table of children referred by year: the Home Office's series beside this service's own."""
    national = national_children_referred_by_year()
    own = own_children_by_year()
    years = list(range(min(national), max([*national, *own]) + 1))
    series = [
        Series(NATIONAL_SERIES, [national.get(y) for y in years], ["not in this series" for y in years]),
        Series(OWN_SERIES, [own.get(y) for y in years], ["no release" for y in years]),
    ]
    chart = bar_chart(
        chart_id="national-trend",
        title="Children referred to the NRM by year",
        table_id="national-trend-table",
        categories=[str(y) for y in years],
        series=series,
    )
    rows = [[str(y), f"{national[y]:,}" if y in national else "–", _own_cell(own, y)] for y in years]
    return {"chart": Markup(chart), "rows": rows, "source": NATIONAL_SOURCE, "own_years": sorted(own)}


def _own_cell(own: dict, year: int) -> str:
    if year not in own:
        return "–"
    value = own[year]
    return "[c]" if value is None else f"{value:,}"


def _summary(release: Release) -> str:
    return ". ".join(h.text for h in headlines(release)) + "."


def statistics_list(request):
    releases = list(published_releases().select_related("revises"))
    latest = {}
    for r in releases:  # newest published first: the first of each period is its current version
        latest.setdefault((r.year, r.quarter), r)
    items = [
        {"release": r, "title": release_title(r), "summary": _summary(r), "current": latest[(r.year, r.quarter)] == r}
        for r in releases
    ]
    return render(
        request,
        "statistics/list.html",
        {"title": PUBLICATION_TITLE, "items": items, "trend": national_trend()},
    )


def _release_context(release: Release, *, preview: bool) -> dict:
    policy = configured_policy()
    versions = release_versions(release)
    later = [v for v in versions if v.version > release.version]
    return {
        "title": release_title(release),
        "release": release,
        "preview": preview,
        "headlines": headlines(release),
        "trend": national_trend(),
        "files": list(release_files(release)),
        "policy": policy,
        "policy_version": release.extract.policy_version,
        "versions": versions,
        "later": later[-1] if later else None,
    }


def release_page(request, release_id):
    release = published_release(release_id)
    return render(request, "statistics/release.html", _release_context(release, preview=False))


def release_download(request, release_id, filename):
    release = published_release(release_id)
    files = release_files(release)
    if filename not in files:
        raise NotFound("This release has no file of that name")
    path = files[filename]
    content_type = CONTENT_TYPES.get(path.suffix) or (
        "application/csvm+json" if filename.endswith("-metadata.json") else mimetypes.guess_type(filename)[0]
    )
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=content_type)


def releases_atom(request):
    """An Atom 1.0 feed (RFC 4287) of the published releases, newest first."""
    releases = list(published_releases()[:50])
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent, tag, text=None, **attrs):
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    list_url = request.build_absolute_uri(reverse("web:statistics"))
    sub(feed, "id", list_url)
    sub(feed, "title", PUBLICATION_TITLE)
    sub(feed, "subtitle", "Official statistics on referrals to the National Referral Mechanism, as they are published")
    updated = releases[0].published_at if releases else timezone.now()
    sub(feed, "updated", updated.isoformat())
    sub(feed, "link", rel="self", href=request.build_absolute_uri(reverse("web:statistics-atom")))
    sub(feed, "link", rel="alternate", type="text/html", href=list_url)
    author = sub(feed, "author")
    sub(author, "name", "OpenNRM statistics")
    for release in releases:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:uuid:{release.uuid}")
        sub(entry, "title", f"{release_title(release)} (version {release.version})")
        assert release.published_at is not None  # published
        sub(entry, "updated", release.published_at.isoformat())
        sub(entry, "published", release.published_at.isoformat())
        page = request.build_absolute_uri(reverse("web:statistics-release", args=[release.uuid]))
        sub(entry, "link", rel="alternate", type="text/html", href=page)
        sub(entry, "summary", _summary(release))
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")


def release_calendar_page(request):
    today = timezone.now().astimezone(LONDON).date()
    return render(
        request,
        "statistics/calendar.html",
        {"title": "Release calendar: " + PUBLICATION_TITLE, "announcements": release_calendar(today)},
    )


# --- The statistician's pages ------------------------------------------------------------------------------------

PERIODS = {
    "0": "The calendar year",
    "1": "Q1 (January to March)",
    "2": "Q2 (April to June)",
    "3": "Q3 (July to September)",
    "4": "Q4 (October to December)",
}


@login_required
def prepare(request):
    releases = releases_for_statistician(actor=request.user)
    typed = {"year": "", "quarter": "0", "reason": "", "revise": False, "final": False}
    errors, field_errors, status = [], {}, 200
    if request.method == "POST":
        typed = {
            "year": request.POST.get("year", "").strip(),
            "quarter": request.POST.get("quarter", "0"),
            "reason": request.POST.get("reason", ""),
            "revise": request.POST.get("revise") == "yes",
            "final": request.POST.get("final") == "yes",
        }
        if not typed["year"].isdigit() or len(typed["year"]) != 4:
            field_errors["year"] = "Enter the year as 4 digits, for example 2025"
        if typed["quarter"] not in PERIODS:
            field_errors["quarter"] = "Choose the calendar year or a quarter"
        if field_errors:
            errors = [{"text": text, "href": f"#{field}"} for field, text in field_errors.items()]
            status = 422
        else:
            quarter = int(typed["quarter"])
            try:
                build = publication_build_for_pages(
                    actor=request.user,
                    year=int(typed["year"]),
                    quarter=quarter or None,
                    revise=typed["revise"],
                    reason=typed["reason"],
                    final=typed["final"],
                )
            except PublicationError as exc:
                errors, status = [{"text": str(exc), "href": "#year"}], 409
            else:
                return redirect("web:statistics-preview", release_id=build.release.uuid)
    return render(
        request,
        "statistics/prepare.html",
        {
            "title": "Prepare a release of the official statistics",
            "releases": releases,
            "typed": typed,
            "periods": PERIODS,
            "errors": errors,
            "field_errors": field_errors,
        },
        status=status,
    )


@login_required
def preview(request, release_id):
    release = release_for_statistician(actor=request.user, release_id=release_id)
    return render(request, "statistics/release.html", _release_context(release, preview=True))


@login_required
@require_POST
def publish(request, release_id):
    release = release_for_statistician(actor=request.user, release_id=release_id)
    if request.POST.get("confirm") != "yes":
        context = _release_context(release, preview=True)
        context["errors"] = [
            {"text": "Confirm that you have checked the release before publishing it", "href": "#confirm"}
        ]
        context["confirm_error"] = True
        return render(request, "statistics/release.html", context, status=422)
    try:
        release = release_publish(actor=request.user, release=release)
    except PublicationError as exc:
        context = _release_context(release, preview=True)
        context["errors"] = [{"text": str(exc), "href": "#confirm"}]
        return render(request, "statistics/release.html", context, status=409)
    return redirect("web:statistics-release", release_id=release.uuid)
