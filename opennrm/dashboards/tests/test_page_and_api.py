"""The dashboard page and API: who sees them, the period's validation, charts with tables of the same figures, no record shown."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from opennrm.audit.models import AuditEvent
from opennrm.dashboards.selectors import LONDON

from .test_figures import case, cases, decide, people  # noqa: F401  (fixtures)


def today():
    return timezone.now().astimezone(LONDON).date()


@pytest.fixture
def recent(people):
    """A case decided last month and one open past its deadline, so that the default period has figures."""
    last_month = today().replace(day=1) - dt.timedelta(days=20)
    received = last_month - dt.timedelta(days=3)
    a = case(
        people,
        "R1",
        received=received.isoformat(),
        rg_due=(received + dt.timedelta(days=7)).isoformat(),
        status="recovery_period",
        cg_due=(today() + dt.timedelta(days=20)).isoformat(),
    )
    decide(people, a, "reasonable_grounds", last_month.isoformat())
    case(
        people,
        "R2",
        received=received.isoformat(),
        rg_due=(received + dt.timedelta(days=7)).isoformat(),
        status="awaiting_reasonable_grounds",
    )


def test_the_page_shows_each_section_as_a_chart_and_a_table(people, recent, web_client):
    response = web_client(people["sca"]).get("/dashboard")
    assert response.status_code == 200
    page = response.content.decode()
    for section in ("open", "time-to-rg", "time-to-cg", "within", "breaches"):
        assert f'id="{section}-chart-title"' in page, section
        assert f'id="{section}-table"' in page, section
        # The chart's text alternative points to the table with the same figures.
        assert f'href="#{section}-table"' in page, section
    assert page.count("<svg") == 5 and 'role="img"' in page
    # The numbers: 1 case awaiting RG and 1 in recovery; one RG decision 3 days after receipt; one deadline missed.
    # Exact for a decision maker, each tagged as counting fewer than 5 cases (issue 22 point 8).
    small = r' <strong class="govuk-tag[^"]*">fewer than 5</strong></td>'
    open_table = re.search(r'id="open-table".*?</table>', page, re.S).group(0)
    assert re.search(r"Awaiting Reasonable Grounds decision</th>\s*<td[^>]*>1" + small, open_table)
    assert re.search(r"All open cases</th>\s*<td[^>]*>2" + small, open_table)
    rg_table = re.search(r'id="time-to-rg-table".*?</table>', page, re.S).group(0)
    assert re.search(
        r"Whole period</th>\s*<td[^>]*>1" + small + r"\s*<td[^>]*>3.0" + small + r"\s*<td[^>]*>3.0" + small, rg_table
    )
    # Aggregates only: no name, no reference.
    assert "Surname" not in page and "NRM-T-" not in page
    # The strict CSP: no inline style or script without the nonce.
    assert 'style="' not in page
    assert "Dashboard</a>" in page  # in the navigation


def test_the_default_period_is_the_last_twelve_months_shown_in_the_form(people, web_client):
    page = web_client(people["sca"]).get("/dashboard").content.decode()
    start = today().replace(day=1)
    for _ in range(11):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    assert f'name="from-year" type="text" value="{start.year}"' in page or re.search(
        rf'name="from-year"[^>]*value="{start.year}"', page
    )
    assert re.search(rf'name="from-month"[^>]*value="{start.month}"', page)
    assert re.search(rf'name="to-day"[^>]*value="{today().day}"', page)


@pytest.mark.parametrize(
    "query, field, message",
    [
        (
            {
                "from-day": "31",
                "from-month": "2",
                "from-year": "2026",
                "to-day": "1",
                "to-month": "3",
                "to-year": "2026",
            },
            "from",
            "The start date must be a real date",
        ),
        (
            {"from-day": "1", "from-month": "", "from-year": "2026", "to-day": "1", "to-month": "3", "to-year": "2026"},
            "from",
            "The start date must include a month",
        ),
        ({"from-day": "1", "from-month": "3", "from-year": "2026"}, "to", "Enter the end date"),
        (
            {
                "from-day": "1",
                "from-month": "3",
                "from-year": "2026",
                "to-day": "1",
                "to-month": "2",
                "to-year": "2026",
            },
            "to",
            "The end date must be the same as or after the start date",
        ),
        (
            {
                "from-day": "1",
                "from-month": "1",
                "from-year": "2015",
                "to-day": "1",
                "to-month": "2",
                "to-year": "2026",
            },
            "to",
            "5 years or shorter",
        ),
        ({"nation": "XXX"}, "nation", "Choose ENG, WLS, SCT or NIR"),
    ],
)
def test_a_bad_period_or_filter_is_named_in_the_error_summary_and_nothing_is_computed(
    people, web_client, query, field, message
):
    before = AuditEvent.objects.filter(action="dashboard.view").count()
    response = web_client(people["sca"]).get("/dashboard", query)
    assert response.status_code == 200
    page = response.content.decode()
    summary = re.search(r'class="govuk-error-summary".*?</div>\s*</div>', page, re.S).group(0)
    assert message in summary
    anchor = f"#{field}-day" if field in ("from", "to") else f"#{field}"
    assert f'href="{anchor}"' in summary
    assert "<title>Error: " in page
    assert "<svg" not in page  # no figures for a period that is not valid
    assert AuditEvent.objects.filter(action="dashboard.view").count() == before


def test_a_future_end_date_is_refused(people, web_client):
    tomorrow = today() + dt.timedelta(days=1)
    response = web_client(people["sca"]).get(
        "/dashboard",
        {
            "from-day": "1",
            "from-month": "1",
            "from-year": str(tomorrow.year - 1),
            "to-day": str(tomorrow.day),
            "to-month": str(tomorrow.month),
            "to-year": str(tomorrow.year),
        },
    )
    assert "The end date must be today or in the past" in response.content.decode()


def test_the_authority_filter_is_offered_to_a_statistician_only(people, web_client):
    assert 'name="authority"' in web_client(people["stats"]).get("/dashboard").content.decode()
    assert 'name="authority"' not in web_client(people["sca"]).get("/dashboard").content.decode()


@pytest.mark.parametrize("role", ["auditor", "admin", "referrer", "la", "immigration"])
def test_roles_without_the_capability_get_403_and_no_link(people, web_client, role):
    client = web_client(people[role])
    assert client.get("/dashboard").status_code == 403
    assert 'href="/dashboard"' not in client.get("/").content.decode()


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and response.url.startswith("/sign-in")


# --- API ------------------------------------------------------------------------------------------


def test_the_api_gives_the_same_figures_as_the_selector(people, cases, api_client):
    response = api_client(people["sca"]).get("/api/v1/dashboard", **{"from": "2026-01-01", "to": "2026-06-14"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"from": "2026-01-01", "to": "2026-06-14"}
    assert [m["month"] for m in body["time_to_reasonable_grounds"]["months"]] == [f"2026-{m:02d}" for m in range(1, 7)]
    jan = body["time_to_reasonable_grounds"]["months"][0]
    assert (jan["decisions"], jan["median_days"], jan["p90_days"]) == (4, 5, pytest.approx(8.8))
    # Exact for a decision maker; each figure's marks beside it (issue 22 point 8).
    unmarked = {"obs_status": {"decisions": "", "median_days": "", "p90_days": ""}}
    assert body["time_to_conclusive_grounds"]["period"] == {
        "decisions": 2,
        "median_days": 71,
        "p90_days": pytest.approx(87.8),
        **unmarked,
        "below_threshold": {"decisions": True, "median_days": True, "p90_days": True},
    }
    within = body["reasonable_grounds_within_deadline"]["period"]
    assert (within["decisions"], within["within_deadline"], within["percent"]) == (5, 3, 60.0)
    assert within["below_threshold"] == {"decisions": False, "within_deadline": True, "percent": False}
    [row] = body["missed_deadlines"]["rows"]
    assert {
        k: row[k]
        for k in (
            "competent_authority",
            "nation",
            "reasonable_grounds_due",
            "reasonable_grounds_missed",
            "conclusive_grounds_due",
            "conclusive_grounds_missed",
        )
    } == {
        "competent_authority": "SCA",
        "nation": "ENG",
        "reasonable_grounds_due": 6,
        "reasonable_grounds_missed": 3,
        "conclusive_grounds_due": 3,
        "conclusive_grounds_missed": 2,
    }
    assert row["below_threshold"] == {
        "reasonable_grounds_due": False,
        "reasonable_grounds_missed": True,
        "conclusive_grounds_due": True,
        "conclusive_grounds_missed": True,
    }
    assert body["disclosure"]["method"] == "exact"
    assert {s["status"]: s["count"] for s in body["open_by_stage"]}["awaiting_reasonable_grounds"] == 2  # F and G
    assert "Surname" not in response.content.decode()
    event = AuditEvent.objects.filter(action="dashboard.view").order_by("-id").first()
    assert event.details["via"] == "api"


@pytest.mark.parametrize(
    "params, fields",
    [
        ({"from": "2026-02-30", "to": "2026-03-01"}, ["from"]),
        ({"from": "2026-03-01"}, ["to"]),
        ({"from": "2026-03-01", "to": "2026-02-01"}, ["to"]),
        ({"authority": "HOME_OFFICE", "age_group": "elderly"}, ["authority", "age_group"]),
        ({"period": "last_year"}, ["period"]),
    ],
)
def test_the_api_refuses_bad_parameters_with_every_error_named(people, api_client, params, fields):
    response = api_client(people["stats"]).get("/api/v1/dashboard", **params)
    assert response.status_code == 422, response.content
    assert sorted(e["field"] for e in response.json()["errors"]) == sorted(fields)


@pytest.mark.parametrize(
    "role, status",
    [("auditor", 403), ("admin", 403), ("referrer", 403), ("immigration", 403), ("stats", 200), ("panel", 200)],
)
def test_the_api_answers_by_role(people, api_client, role, status):
    assert api_client(people[role]).get("/api/v1/dashboard").status_code == status


def test_the_api_needs_a_token(api_client):
    assert api_client(None).get("/api/v1/dashboard").status_code == 401


def test_the_api_is_documented(api_client, people):
    spec = api_client(people["stats"]).get("/api/v1/openapi.json").json()
    parameters = {p["name"] for p in spec["paths"]["/api/v1/dashboard"]["get"]["parameters"]}
    assert parameters == {"from", "to", "authority", "nation", "age_group"}


def test_the_chosen_filters_are_named_above_the_figures(people, web_client):
    page = (
        web_client(people["stats"])
        .get("/dashboard", {"authority": "IECA", "nation": "SCT", "age_group": "child"})
        .content.decode()
    )
    assert re.search(r"to \d+ \w+ \d{4}, Immigration Enforcement Competent Authority, Scotland, Child", page)


# --- Small counts (issue 22 point 8) ---------------------------------------------------------------------------------


@pytest.fixture
def one_panel_week(people):
    """This week a local panel got one referral still awaiting its RG decision, and decided one other: 4 days after receipt."""
    from opennrm.dashboards.services import case_figures_refresh

    day = today()
    case(
        people,
        "P1",
        authority="LOCAL_PANEL",
        local_authority="E09000019",
        received=(day - dt.timedelta(days=3)).isoformat(),
        rg_due=(day + dt.timedelta(days=20)).isoformat(),
        status="awaiting_reasonable_grounds",
    )
    decided = case(
        people,
        "P2",
        authority="LOCAL_PANEL",
        local_authority="E09000019",
        received=(day - dt.timedelta(days=6)).isoformat(),
        rg_due=(day + dt.timedelta(days=20)).isoformat(),
        cg_due=(day + dt.timedelta(days=40)).isoformat(),
        status="recovery_period",
    )
    decide(people, decided, "reasonable_grounds", (day - dt.timedelta(days=2)).isoformat())
    case_figures_refresh(full=True)
    start = day - dt.timedelta(days=6)
    return {
        "api": {"from": start.isoformat(), "to": day.isoformat(), "authority": "LOCAL_PANEL"},
        "page": {
            "from-day": start.day,
            "from-month": start.month,
            "from-year": start.year,
            "to-day": day.day,
            "to-month": day.month,
            "to-year": day.year,
            "authority": "LOCAL_PANEL",
        },
    }


COUNT_FIELDS = {
    "count",
    "open_total",
    "decisions",
    "within_deadline",
    "reasonable_grounds_due",
    "reasonable_grounds_missed",
    "conclusive_grounds_due",
    "conclusive_grounds_missed",
}


def published_figures(body, path=""):
    """Every (path, name, value) of a figure in the API's answer."""
    if isinstance(body, dict):
        for name, value in body.items():
            if name in COUNT_FIELDS | {"median_days", "p90_days", "percent"}:
                yield path, name, value
            elif name not in ("disclosure", "obs_status", "below_threshold"):
                yield from published_figures(value, f"{path}.{name}")
    elif isinstance(body, list):
        for i, item in enumerate(body):
            yield from published_figures(item, f"{path}.{i}")


def test_a_statistician_sees_no_count_of_1_and_no_median_of_one_case_in_a_week_of_one_panel(
    people, one_panel_week, api_client, web_client
):
    body = api_client(people["stats"]).get("/api/v1/dashboard", **one_panel_week["api"]).json()
    assert body["disclosure"]["method"] == "controlled"
    stages = {s["status"]: s for s in body["open_by_stage"]}
    assert stages["awaiting_reasonable_grounds"]["count"] is None
    assert stages["awaiting_reasonable_grounds"]["obs_status"] == {"count": "c"}
    assert (body["open_total"], body["open_total_obs_status"]) == (None, "c")
    rg = body["time_to_reasonable_grounds"]["period"]
    assert (rg["decisions"], rg["median_days"], rg["p90_days"]) == (None, None, None)
    assert rg["obs_status"] == {"decisions": "c", "median_days": "c", "p90_days": "c"}
    for path, name, value in published_figures(body):
        if name in COUNT_FIELDS:
            assert value is None or value % 5 == 0, (path, name, value)
        elif name != "percent":
            assert value is None, (path, name, value)  # no median or 90th percentile of fewer than 5 decisions

    # The page, from the same selector: [c] in the same cells, no 1 in any table, and no chart says what a table hides.
    page = web_client(people["stats"]).get("/dashboard", one_panel_week["page"]).content.decode()
    assert 'id="disclosure-note"' in page
    open_table = re.search(r'id="open-table".*?</table>', page, re.S).group(0)
    assert re.search(r"Awaiting Reasonable Grounds decision</th>\s*<td[^>]*>\[c\]", open_table)
    assert re.search(r"All open cases</th>\s*<td[^>]*>\[c\]", open_table)
    rg_table = re.search(r'id="time-to-rg-table".*?</table>', page, re.S).group(0)
    assert re.search(r"Whole period</th>\s*(<td[^>]*>\[c\]<span[^>]*>[^<]*</span></td>\s*){3}", rg_table)
    for table in re.findall(r"<table.*?</table>", page, re.S):
        assert not re.search(r"<td[^>]*>\s*[1-4](\.\d)?\s*<", table)
    for chart in re.findall(r"<svg.*?</svg>", page, re.S):
        assert not re.search(r">\s*[1-4](\.\d)?( days)?\s*<", chart)
    open_chart = re.search(r'id="open-chart-title".*?</svg>', page, re.S).group(0)
    assert "[c] withheld" in open_chart and "<rect" not in open_chart.split("</defs>")[1]  # no bar for a withheld count


def test_a_decision_maker_sees_the_same_week_exact_with_its_small_figures_marked(
    people, one_panel_week, api_client, web_client
):
    params = {k: v for k, v in one_panel_week["api"].items() if k != "authority"}
    body = api_client(people["panel"]).get("/api/v1/dashboard", **params).json()
    assert body["disclosure"]["method"] == "exact"
    stages = {s["status"]: s for s in body["open_by_stage"]}
    assert stages["awaiting_reasonable_grounds"]["count"] == 1
    assert stages["awaiting_reasonable_grounds"]["below_threshold"] == {"count": True}
    assert stages["awaiting_reasonable_grounds"]["obs_status"] == {"count": ""}
    assert stages["reconsideration"]["below_threshold"] == {"count": False}  # 0: nothing to mark
    rg = body["time_to_reasonable_grounds"]["period"]
    assert (rg["decisions"], rg["median_days"]) == (1, 4)
    assert rg["below_threshold"] == {"decisions": True, "median_days": True, "p90_days": True}

    page_params = {k: v for k, v in one_panel_week["page"].items() if k != "authority"}
    page = web_client(people["panel"]).get("/dashboard", page_params).content.decode()
    assert "take care before sharing them" in page
    open_table = re.search(r'id="open-table".*?</table>', page, re.S).group(0)
    assert re.search(
        r'Awaiting Reasonable Grounds decision</th>\s*<td[^>]*>1 <strong class="govuk-tag[^"]*">fewer than 5</strong>',
        open_table,
    )
    assert "(fewer than 5)" in re.search(r'id="open-chart-title".*?</svg>', page, re.S).group(0)


def test_the_openapi_document_describes_the_disclosure_marks(api_client, people):
    spec = api_client(people["stats"]).get("/api/v1/openapi.json").json()
    description = spec["paths"]["/api/v1/dashboard"]["get"]["description"]
    assert "obs_status" in description and "below_threshold" in description and '"c"' in description
