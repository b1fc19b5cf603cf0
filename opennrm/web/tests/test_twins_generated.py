"""Every page that has an API twin shows what the API answers, role by role and record by record (issue 22).

The pages and the API must answer from the same selectors (README, house rules): a page that showed more
than its API twin is how the NRM status page came to list proposed and sent-back decisions to immigration
enforcement while the API rightly did not. This test declares which page is which API endpoint's twin (TWINS)
and why the others have none (PAGES_WITHOUT_TWIN, API_WITHOUT_TWIN); it fails when a page or a GET endpoint is
added to neither. Then, for every role of the policy, over the canary records (tests/canaries.py) and records
in every state a decision leaves them (tests/record_states.py), it asks each page and its twin the same
question and compares the answers:

- the same kind of answer: found (200), refused (403) or not found (404), never a 404 on one side only;
- the same records (by their NRM reference);
- the same compartments of each record (by the canaries of each compartment: tests/canaries.py), exactly where
  page and API show the same record, and never more in a page than in its twin where the page is a summary;
- for a record's status (the referral page, the status lookup): the same status, and the same issued decisions
  (stage, outcome and date), and never a decision that is only proposed or was sent back unless the role decides.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from opennrm.api.api import api as ninja_api
from opennrm.conftest import ApiClient
from opennrm.policy import Capability, Role, has_capability
from opennrm.tests.canaries import appears, encodings, plant_canaries, response_text
from opennrm.tests.record_states import make_records_in_every_state
from opennrm.tests.status_pages import referral_page_status, status_lookup_items, visible_text
from opennrm.web.jinja import london_date
from opennrm.workdays.calendar import forget_closure_days

# --- The declared table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Twin:
    api: str  # the API endpoint's URL name
    asks: str  # "record": one referral by id; "lookup": by Home Office reference; "list": the role's list; "object": a
    #            duplicate-detection object by id; "aggregate": figures without records
    # Where a page is a summary of what its twin answers (a list of names and statuses beside full records),
    # the page may show fewer compartments than the API, never more.
    page_may_show_less: str = ""


TWINS: dict[str, Twin] = {
    "web:nrm-status": Twin("api:nrm_status", "lookup"),
    "web:referral-detail": Twin("api:get_referral", "record"),
    "web:referral-access-log": Twin(
        "api:referral_access_log", "record", page_may_show_less="the page names the record by its reference"
    ),
    "web:safeguarding": Twin(
        "api:get_safeguarding", "record", page_may_show_less="the page leaves out what the referral page already shows"
    ),
    "web:referral-list": Twin(
        "api:list_referrals", "list", page_may_show_less="a row per referral: its name and status, not the whole record"
    ),
    "web:work-queue": Twin("api:queue", "list", page_may_show_less="a row per case: its name, stage and deadline"),
    "web:missing-now": Twin("api:missing_now", "list", page_may_show_less="a row per child: name, since when, risk"),
    "web:duplicates": Twin(
        "api:duplicates_queue", "list", page_may_show_less="a row per possible match: the two references and the band"
    ),
    "web:duplicate": Twin("api:duplicate_get", "object"),
    "web:person": Twin("api:person_detail", "object"),
    "web:dashboard": Twin("api:dashboard", "aggregate"),
}

POST_FORM = "a form whose action is a POST; its API twin is the POST endpoint of the same action, not a GET"
PAGES_WITHOUT_TWIN: dict[str, str] = {
    "web:home": "the start page: links, the user's drafts, and the first rows of web:referral-list (the same selector, referral_page)",
    "web:sign-in": "signing in to the pages; the API's is POST /api/v1/auth/token",
    "web:second-factor": "signing in to the pages (the code); the API takes it in POST /api/v1/auth/token",
    "web:second-factor-set-up": "setting up an authenticator app, a page-only step of signing in",
    "web:sign-out": "ends the page session; an API token ends by expiring",
    "web:session-status": "the idle sign-out's timer, for the page's script",
    "web:session-keep-alive": "the idle sign-out's timer, for the page's script",
    "web:decision-letter": "the decision letter, a document for the person; the API gives its decision in the referral",
    "web:decision-letter-pdf": "the decision letter as PDF, a document for the person",
    "web:safeguarding-queue": "the user's own worklist of alerts to acknowledge and return interviews to hold; no API yet "
    "(the API gives each child's record, api:get_safeguarding, and api:missing_now)",
    "web:work-queue-assign": POST_FORM,
    "web:referral-assign": POST_FORM,
    "web:decision-new": POST_FORM,
    "web:decision-review": POST_FORM,
    "web:reconsideration-new": POST_FORM,
    "web:safeguarding-care": POST_FORM,
    "web:safeguarding-transfer": POST_FORM,
    "web:safeguarding-age": POST_FORM,
    "web:safeguarding-guardian": POST_FORM,
    "web:safeguarding-note": POST_FORM,
    "web:missing-report": POST_FORM,
    "web:missing-found": POST_FORM,
    "web:missing-acknowledge": POST_FORM,
    "web:missing-interview": POST_FORM,
    "web:person-unlink": POST_FORM,
    "web:referral-start": (
        "the referral journey, page by page, saved as a draft; "
        "the API takes the whole referral in POST /api/v1/referrals"
    ),
    "web:draft-resume": "the referral journey (drafts are a page-only aid)",
    "web:draft-situations": "the referral journey (drafts are a page-only aid)",
    "web:draft-situation": "the referral journey (drafts are a page-only aid)",
    "web:draft-situation-remove": "the referral journey (drafts are a page-only aid)",
    "web:draft-check": "the referral journey (drafts are a page-only aid)",
    "web:draft-delete": "the referral journey (drafts are a page-only aid)",
    "web:draft-page": "the referral journey (drafts are a page-only aid)",
    "web:password-reset": "setting a password from an emailed link, a page-only step of signing in",
    "web:password-change": "a user changing their own password, a page-only step of signing in; API tokens are issued with it",
    "web:referral-sent": "the confirmation after a referral is sent; the API's is the 201 answer to POST /api/v1/referrals",
    "web:duty-to-notify-sent": "the confirmation after a Duty to Notify; the API's is the 201 answer to POST /api/v1/duty-to-notify",
    "web:statistics": "the published official statistics, public with no sign-in: aggregate releases, no case record",
    "web:statistics-atom": "the Atom feed of the published releases, public: the feed is itself the machine-readable form",
    "web:statistics-calendar": "the pre-announced release calendar, public, computed from the quarters",
    "web:statistics-release": "a published release, public: its machine-readable form is its tidy CSVs (web:statistics-file)",
    "web:statistics-file": "a published release's files (.ods, tidy CSV, CSVW metadata): the downloads are the data",
    "web:statistics-prepare": "the statistician builds a release from the page; the command line's is `opennrm statistics`",
    "web:statistics-preview": "the statistician's preview of a prepared release: the release page, marked not published",
    "web:statistics-publish": POST_FORM,
}
API_WITHOUT_TWIN: dict[str, str] = {
    "api:ping": "checks a token; pages have no token",
    "api:guardian_requests": "a guardian service's waiting list; in the pages it is a section of web:work-queue, from the same "
    "selector (guardian_requests_waiting), while web:work-queue's twin is api:queue",
    "api:teams": "the people and teams to assign to: in the pages, the choices of the assignment forms",
}
# Django's admin (the administrator's pages: users, teams, calendars, routing rules; no case content, ADR 0003)
# has no API, by design: administration happens in one audited place.
NAMESPACES_WITHOUT_TWIN = {"admin": "Django's admin, the administrators' pages: no case content and no API by design"}


def web_route_names() -> set[str]:
    names = set()

    def walk(patterns, namespace: str):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and namespace not in ("api", *NAMESPACES_WITHOUT_TWIN):
                assert p.name, f"a page without a URL name cannot be declared: {p.pattern}"
                names.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns, "")
    return names


def api_get_names() -> set[str]:
    return {
        f"api:{op.view_func.__name__}"
        for _, router in ninja_api._routers
        for view in router.path_operations.values()
        for op in view.operations
        if "GET" in op.methods
    }


def test_every_page_and_get_endpoint_is_declared_a_twin_or_not():
    pages, endpoints = web_route_names(), api_get_names()
    undeclared_pages = pages - set(TWINS) - set(PAGES_WITHOUT_TWIN)
    undeclared_endpoints = endpoints - {t.api for t in TWINS.values()} - set(API_WITHOUT_TWIN)
    assert not undeclared_pages, (
        f"Pages neither in TWINS nor in PAGES_WITHOUT_TWIN (with the reason): {sorted(undeclared_pages)}"
    )
    assert not undeclared_endpoints, (
        f"GET endpoints neither a twin in TWINS nor in API_WITHOUT_TWIN (with the reason): {sorted(undeclared_endpoints)}"
    )
    # And nothing declared that no longer exists: a stale table would hide a new page of the same name.
    assert not (set(TWINS) | set(PAGES_WITHOUT_TWIN)) - pages
    assert not ({t.api for t in TWINS.values()} | set(API_WITHOUT_TWIN)) - endpoints
    assert all(reason.strip() for reason in [*PAGES_WITHOUT_TWIN.values(), *API_WITHOUT_TWIN.values()])


# --- The records and the users ----------------------------------------------------------------------


@pytest.fixture
def world(make_user, unthrottled_status_lookups):
    planted = plant_canaries(make_user)
    reviewer = make_user(
        Role.SCA_DECISION_MAKER,
        username="second.sca_decision_maker",
        organisation=planted.users[Role.SCA_DECISION_MAKER].organisation,
    )
    planted.states = make_records_in_every_state(
        referrer=planted.colleague, decider=planted.users[Role.SCA_DECISION_MAKER], reviewer=reviewer
    )
    planted.all_canaries = planted.canaries + [c for record in planted.states.values() for c in record.canaries]
    planted.all_referrals = {
        **planted.referrals,
        **{state: record.referral for state, record in planted.states.items()},
    }
    yield planted
    forget_closure_days()


# --- Reading an answer --------------------------------------------------------------------------------


def kind_of(response) -> str:
    return {200: "found", 403: "refused", 404: "not found"}.get(response.status_code, f"HTTP {response.status_code}")


def records_in(world, text: str) -> set[str]:
    return {name for name, referral in world.all_referrals.items() if referral.reference in text}


def compartments_in(world, text: str) -> set[tuple[str, str]]:
    return {
        (c.record, c.compartment)
        for c in world.all_canaries
        if c.record in world.all_referrals and appears(c.value, text)
    }


def flat(html: str) -> str:
    return " ".join(html.split())


def api_status(item: dict) -> dict:
    return {
        "status": item["status"],
        "decisions": {(d["stage"], d["outcome"], london_date(d["decided_on"])) for d in item["decisions"]},
    }


# --- Asking both ---------------------------------------------------------------------------------------

PAGE_PATHS: dict[str, Callable] = {
    "web:referral-detail": lambda r: f"/referrals/{r.uuid}",
    "web:referral-access-log": lambda r: f"/referrals/{r.uuid}/access-log",
    "web:safeguarding": lambda r: f"/referrals/{r.uuid}/safeguarding",
}
API_PATHS: dict[str, Callable] = {
    "api:get_referral": lambda r: f"/api/v1/referrals/{r.uuid}",
    "api:referral_access_log": lambda r: f"/api/v1/referrals/{r.uuid}/access-log",
    "api:get_safeguarding": lambda r: f"/api/v1/referrals/{r.uuid}/safeguarding",
}
LIST_PATHS = {
    "web:referral-list": ("/referrals", "/api/v1/referrals"),
    "web:work-queue": ("/queue", "/api/v1/queue"),
    "web:missing-now": ("/missing-now", "/api/v1/missing-now"),
    "web:duplicates": ("/duplicates", "/api/v1/duplicates"),
    "web:dashboard": ("/dashboard", "/api/v1/dashboard"),
}


@dataclass
class Pair:
    role: str
    twin: str
    about: str
    page: object
    api: object
    asked: tuple[str, ...] = ()  # what the user typed: the page shows it back in its form, which is no leak
    api_records: frozenset = frozenset()  # (record, compartment) the API's record endpoint gives this user


def compare(world, pair: Pair, twin: Twin) -> list[str]:
    """What differs between a page and its twin's answer to the same question."""
    where = f"{pair.role}, {pair.twin} / {twin.api}, {pair.about}"
    if kind_of(pair.page) != kind_of(pair.api):
        return [
            f"{where}: the page is {kind_of(pair.page)} ({pair.page.status_code}), the API {kind_of(pair.api)} ({pair.api.status_code})"
        ]
    if pair.page.status_code != 200:
        return []
    page_text, api_text = response_text(pair.page), response_text(pair.api)
    for typed in pair.asked:
        for form in encodings(typed):
            page_text, api_text = page_text.replace(form, ""), api_text.replace(form, "")
    problems = []
    if twin.asks != "record" and records_in(world, page_text) != records_in(world, api_text):
        problems.append(
            f"{where}: records in the page {sorted(records_in(world, page_text))}, in the API {sorted(records_in(world, api_text))}"
        )
    in_page, in_api = compartments_in(world, page_text), compartments_in(world, api_text)
    if twin.page_may_show_less:
        # A page may name a record it lists or shows (a heading, a row's name) with what the API gives of that record
        # (api:get_referral) to the same user: never with more.
        beyond = in_page - in_api - pair.api_records
        if beyond:
            problems.append(f"{where}: the page shows compartments the API gives this user nowhere: {sorted(beyond)}")
    elif in_page != in_api:
        problems.append(
            f"{where}: compartments differ: page only {sorted(in_page - in_api)}, API only {sorted(in_api - in_page)}"
        )
    return problems


def status_problems(world, role: str, user, record: str, page, api) -> list[str]:
    """The referral page's status and decisions against the API's, and against what was issued."""
    where = f"{role}, web:referral-detail / api:get_referral, record {record}"
    if "status" not in api.json():
        # A view without the status compartment (a guardian service's allocation view, ADR 0028): nor may the page show it.
        return (
            [f"{where}: the API gives this view no status, the page shows decisions"]
            if 'id="decisions"' in page.content.decode()
            else []
        )
    shown, answered = referral_page_status(page.content.decode()), api_status(api.json())
    problems = []
    if (shown["status"], shown["decisions"]) != (answered["status"], answered["decisions"]):
        problems.append(
            f"{where}: the page shows {shown['status']} {sorted(shown['decisions'])}, "
            f"the API {answered['status']} {sorted(answered['decisions'])}"
        )
    if shown["not_issued"] and not has_capability(user, Capability.MAKE_DECISION):
        problems.append(
            f"{where}: the page shows decisions not issued to a role that does not decide: {sorted(shown['not_issued'])}"
        )
    issued = world.states[record].issued if record in world.states else None
    if issued is not None and {(s, o) for s, o, _ in answered["decisions"]} != issued:
        problems.append(f"{where}: issued decisions {sorted(issued)}, the API answers {sorted(answered['decisions'])}")
    return problems


def records_as_the_api_gives_them(world, api_client) -> frozenset:
    """The compartments of each record that GET /api/v1/referrals/{id} answers this user."""
    given = set()
    for record, referral in world.all_referrals.items():
        answer = api_client.get(f"/api/v1/referrals/{referral.uuid}")
        if answer.status_code == 200:
            given |= {(r, c) for r, c in compartments_in(world, response_text(answer)) if r == record}
    return frozenset(given)


@dataclass
class Asker:
    """One user of a role, asking through a signed-in page client and an API client."""

    user: object
    page: Client
    api: ApiClient
    api_records: frozenset  # records_as_the_api_gives_them


def asker(world, role: str) -> Asker:
    user = world.users[role]
    page = Client()
    page.force_login(user)
    api = ApiClient(user)
    return Asker(user, page, api, records_as_the_api_gives_them(world, api))


ROLES = [role.value for role in Role]


@pytest.mark.parametrize("role", ROLES)
def test_each_record_page_answers_as_its_api_twin(world, role):
    who, problems = asker(world, role), []
    for record, referral in world.all_referrals.items():
        for page_name in ("web:referral-detail", "web:referral-access-log", "web:safeguarding"):
            twin = TWINS[page_name]
            pair = Pair(
                role,
                page_name,
                f"record {record}",
                who.page.get(PAGE_PATHS[page_name](referral)),
                who.api.get(API_PATHS[twin.api](referral)),
                api_records=who.api_records,
            )
            problems += compare(world, pair, twin)
            if page_name == "web:referral-detail" and pair.page.status_code == 200 and pair.api.status_code == 200:
                problems += status_problems(world, role, who.user, record, pair.page, pair.api)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_the_status_lookup_page_answers_as_its_api_twin(world, role):
    who, twin, problems = asker(world, role), TWINS["web:nrm-status"], []
    for record, referral in world.all_referrals.items():
        query = {"home_office_reference": referral.home_office_reference}
        pair = Pair(
            role,
            "web:nrm-status",
            f"record {record}",
            who.page.get("/nrm-status", query),
            who.api.get("/api/v1/nrm-status", **query),
            asked=(referral.home_office_reference,),
        )
        if pair.page.status_code == 200 and pair.api.status_code == 404:
            # No match: the page says so in a 200 page with the form; the API answers 404. Both must say so alike.
            if status_lookup_items(pair.page.content.decode()) or pair.api.json()["message"] not in visible_text(
                pair.page.content.decode()
            ):
                problems.append(
                    f"{role}, nrm-status, record {record}: the API found nothing, the page did not say so in the same words"
                )
            continue
        problems += compare(world, pair, twin)
        if pair.page.status_code == 200:
            page_items = status_lookup_items(pair.page.content.decode())
            api_items = [{"reference": i["reference"], **api_status(i)} for i in pair.api.json()["items"]]
            if page_items != api_items:
                problems.append(
                    f"{role}, nrm-status, record {record}: the page shows {page_items}, the API {api_items}"
                )
            if record in world.states and [{(s, o) for s, o, _ in i["decisions"]} for i in api_items] != [
                world.states[record].issued
            ]:
                problems.append(f"{role}, nrm-status, record {record}: not the issued decisions: {api_items}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_each_list_and_object_page_answers_as_its_api_twin(world, role):
    who, problems = asker(world, role), []
    for page_name, (page_path, api_path) in LIST_PATHS.items():
        problems += compare(
            world,
            Pair(
                role, page_name, "the list", who.page.get(page_path), who.api.get(api_path), api_records=who.api_records
            ),
            TWINS[page_name],
        )
    objects = {
        "web:duplicate": ("/duplicates/{}", "/api/v1/duplicates/{}", world.match.uuid),
        "web:person": ("/people/{}", "/api/v1/people/{}", world.person.uuid),
    }
    for page_name, (page_path, api_path, key) in objects.items():
        problems += compare(
            world,
            Pair(
                role,
                page_name,
                f"object {key}",
                who.page.get(page_path.format(key)),
                who.api.get(api_path.format(key)),
                api_records=who.api_records,
            ),
            TWINS[page_name],
        )
    assert not problems, "\n".join(problems)
