"""Who sees what through the API, generated from the OpenAPI document (ADR 0003, contract section 5).

Every GET operation in `/api/v1/openapi.json` is called with a bearer token of every role, its path
parameters filled from the canary records' ids and object ids, each query parameter tried, and the
canaries' Home Office references given as `home_office_reference`, `q` and `search`. No response may
hold a canary of a compartment the role may not see, none may be a server error, and every one is sent
with Cache-Control: no-store (contract section 2). An operation
added to the API tomorrow is covered the day it is added.
"""

import itertools
import urllib.parse
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from opennrm.policy import Compartment, Role
from opennrm.tests.caching import kept_by_browsers
from opennrm.tests.canaries import (
    CanaryWorld,
    appears,
    case_state,
    plant_canaries,
    random_uuid,
    response_text,
    value_pool,
)
from opennrm.workdays.calendar import forget_closure_days

API_PREFIX = "/api/v1"
STATUS_LOOKUP_PATH = "/api/v1/nrm-status"  # the immigration officer's one opening (contract section 5)
SEARCH_PARAMS = ("home_office_reference", "q", "search")
KNOWN_OPERATIONS = {
    "/api/v1/referrals",
    "/api/v1/referrals/{referral_id}",
    "/api/v1/referrals/{referral_id}/access-log",
    "/api/v1/nrm-status",
    "/api/v1/dashboard",
    "/api/v1/referrals/{referral_id}/safeguarding",
    "/api/v1/missing-now",
    "/api/v1/duplicates",
    "/api/v1/duplicates/{candidate_id}",
    "/api/v1/people/{person_id}",
}

# Roles with no power over a case: whatever they send, no case record changes (ADR 0003).
NO_CASE_WRITES = (Role.IMMIGRATION_OFFICER, Role.STATISTICIAN, Role.AUDITOR, Role.ADMIN)
# Bodies every writing operation is sent: empty, empty JSON, fields of the wrong type, not JSON at all.
PROBE_BODIES = (
    "",
    "{}",
    '{"reasons": 1, "outcome": [], "found_at": "probe", "risk": "probe", "care_status": "probe"}',
    "probe",
)


@pytest.fixture
def world(make_user, unthrottled_status_lookups):
    planted = plant_canaries(make_user)
    yield planted
    forget_closure_days()  # the world's closure day is rolled back; do not let the cache keep it


def openapi_document() -> dict:
    response = Client().get(f"{API_PREFIX}/openapi.json")
    assert response.status_code == 200
    return response.json()


def get_operations(document: dict) -> list[tuple[str, dict]]:
    return [(path, ops["get"]) for path, ops in document["paths"].items() if "get" in ops]


def schema_of(param: dict, document: dict) -> dict:
    schema = param.get("schema", {})
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:  # Optional[...]: the non-null member
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
    return schema


def query_values(param: dict, schema: dict, world: CanaryWorld) -> list[str]:
    if "enum" in schema:
        return [str(v) for v in schema["enum"]]
    if schema.get("type") == "integer":
        low = schema.get("minimum", 1)
        return [str(low), str(low + 1)]
    if schema.get("type") == "boolean":
        return ["true", "false"]
    return [world.home_office_reference("A"), world.home_office_reference("B"), "HO-NOBODY-0001"]


def path_values(schema: dict, pool: list[str]) -> list[str]:
    if schema.get("type") == "integer":
        return [v for v in pool if v.isdigit()]
    if schema.get("format") == "uuid":
        return [v for v in pool if len(v) == 36]
    return pool


def calls_for(path: str, operation: dict, document: dict, world: CanaryWorld, pool: list[str]) -> list[str]:
    """URLs for one GET operation: each path value, each query parameter alone, and the search parameters."""
    params = operation.get("parameters", [])
    in_path = [p for p in params if p["in"] == "path"]
    in_query = [p for p in params if p["in"] == "query"]
    path_options = [path_values(schema_of(p, document), pool) for p in in_path]
    urls = []
    for combo in itertools.product(*path_options) if len(in_path) < 2 else zip(*path_options):
        base = path
        for p, value in zip(in_path, combo):
            base = base.replace("{" + p["name"] + "}", urllib.parse.quote(value, safe=""))
        required = {p["name"]: query_values(p, schema_of(p, document), world) for p in in_query if p.get("required")}
        # Every required parameter at each of its values (with the others at their first).
        first = {name: values[0] for name, values in required.items()}
        queries = [first] + [{**first, name: v} for name, values in required.items() for v in values[1:]]
        for p in in_query:
            if not p.get("required"):
                queries += [{**first, p["name"]: v} for v in query_values(p, schema_of(p, document), world)]
        for record in ("A", "B"):
            queries.append({**first, **{name: world.home_office_reference(record) for name in SEARCH_PARAMS}})
        urls += [base + ("?" + urllib.parse.urlencode(q) if q else "") for q in queries]
    return list(dict.fromkeys(urls))


@dataclass
class Calls:
    operations: list[str]
    responses: list[tuple[str, int, str]] = field(default_factory=list)  # (url, status, text)
    server_errors: list[str] = field(default_factory=list)
    cacheable: list[str] = field(
        default_factory=list
    )  # answers a browser or proxy may keep (no Cache-Control: no-store)

    def check(self, sent: str, response) -> None:
        if response.status_code >= 500:
            self.server_errors.append(f"{sent}: {response.status_code}")
        if kept_by_browsers(response):
            self.cacheable.append(f"{sent}: {response.status_code}")


def call_every_get(world: CanaryWorld, api) -> Calls:
    document = openapi_document()
    pool = value_pool(world)
    calls = Calls([path for path, _ in get_operations(document)])
    for path, operation in get_operations(document):
        for url in calls_for(path, operation, document, world, pool):
            try:
                response = api.client.get(url, headers=api.headers)
            except Exception as exc:
                calls.server_errors.append(f"GET {url}: {type(exc).__name__}: {exc}")
                continue
            calls.check(f"GET {url}", response)
            calls.responses.append((url, response.status_code, response_text(response)))
            # Follow the API's own links (the list's "next"), once.
            if response.get("Content-Type", "").startswith("application/json"):
                next_url = response.json().get("next") if isinstance(response.json(), dict) else None
                if next_url:
                    followed = api.client.get(next_url, headers=api.headers)
                    calls.check(f"GET {next_url}", followed)
                    calls.responses.append((next_url, followed.status_code, response_text(followed)))
    return calls


def lookup_records(world: CanaryWorld, url: str) -> set[str]:
    parts = urllib.parse.urlsplit(url)
    if parts.path != STATUS_LOOKUP_PATH:
        return set()
    asked = urllib.parse.parse_qs(parts.query).get("home_office_reference", [])
    return {record for record in ("A", "B") if world.home_office_reference(record) in asked}


def seen_canaries(world: CanaryWorld, calls: Calls) -> list[tuple]:
    return [
        (c, url)
        for url, _, text in calls.responses
        for c in world.canaries
        if appears(c.value, text) and not appears(c.value, url)
    ]


@pytest.mark.parametrize("role", list(Role))
def test_no_api_response_shows_a_role_what_it_may_not_see(world, api_client, role):
    user = world.users[role]
    calls = call_every_get(world, api_client(user))

    assert calls.server_errors == []
    assert calls.cacheable == [], "every API answer to a token holder is sent with Cache-Control: no-store"
    assert set(calls.operations) >= KNOWN_OPERATIONS
    assert len(calls.responses) > len(calls.operations) > 0
    assert {status for _, status, _ in calls.responses} != {401}, "the bearer token was not accepted"

    leaks, seen = [], set()
    for canary, url in seen_canaries(world, calls):
        seen.add(canary)
        if canary not in world.allowed(user, status_lookup_of=lookup_records(world, url)):
            leaks.append(f"{canary} in GET {url}")
    assert leaks == [], f"{role} was shown what it may not see"

    # The firewall, independently of policy.py.
    if role == Role.IMMIGRATION_OFFICER:
        outside = [
            f"{c} in GET {url}"
            for c, url in seen_canaries(world, calls)
            if c.compartment != Compartment.STATUS or urllib.parse.urlsplit(url).path != STATUS_LOOKUP_PATH
        ]
        assert outside == [], "immigration enforcement sees the status compartment only, and only by NRM status lookup"
    if role in (Role.STATISTICIAN, Role.AUDITOR, Role.ADMIN, Role.IMMIGRATION_OFFICER):
        assert [
            f"{c} in GET {url}" for c, url in seen_canaries(world, calls) if c.compartment != Compartment.STATUS
        ] == []

    # What the role may see of the canary referrals must have been seen (a walk that sees nothing proves nothing).
    # Decision reasons are read in the decision letter, a page; the API gives decisions' stage, outcome and date.
    must_show = {
        c
        for c in world.allowed(user, status_lookup_of={"A", "B"})
        if c.record in ("A", "B") and not c.field.startswith("decision.")
    }
    assert must_show - seen == set(), f"{role} should have been given these by some GET"


def test_every_api_url_pattern_with_a_get_is_in_the_openapi_document(db):
    """The walk above is driven by the OpenAPI document; make sure the document lists every API route."""
    documented = {path for path, _ in get_operations(openapi_document())}

    def api_templates(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from api_templates(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and prefix.startswith(API_PREFIX.lstrip("/")):
                yield "/" + (prefix + str(p.pattern)).replace("<", "{").replace(">", "}")

    routes = set(api_templates(get_resolver().url_patterns))
    undocumented_gets = []
    for route in routes - documented:
        response = Client().get(route.replace("{", "").replace("}", ""))
        if response.status_code != 405 and not route.endswith(("/openapi.json", "/docs", API_PREFIX + "/")):
            undocumented_gets.append(route)
    assert undocumented_gets == []
    assert documented >= KNOWN_OPERATIONS


def test_a_first_responder_of_another_organisation_gets_404_not_403(world, api_client):
    police = api_client(world.users[Role.FIRST_RESPONDER])
    ngo = api_client(world.other_organisation_responder)
    for api, theirs, others in (
        (police, world.referral_a, world.referral_b),
        (ngo, world.referral_b, world.referral_a),
    ):
        assert api.get(f"{API_PREFIX}/referrals/{theirs.uuid}").status_code == 200
        outside = api.get(f"{API_PREFIX}/referrals/{others.uuid}")
        missing = api.get(f"{API_PREFIX}/referrals/{random_uuid()}")
        assert outside.status_code == missing.status_code == 404
        assert outside.json() == missing.json() == {"detail": "Not found"}
        # Nor does the list, filtered to the other organisation's reference, admit that it exists.
        listed = api.get(f"{API_PREFIX}/referrals", first_responder_reference=others.first_responder_reference).json()
        assert (listed["count"], listed["items"]) == (0, [])


@pytest.mark.parametrize("role", list(Role))
def test_a_referral_outside_scope_looks_the_same_as_one_that_does_not_exist(world, api_client, role):
    api = api_client(world.users[role])
    missing = api.get(f"{API_PREFIX}/referrals/{random_uuid()}")
    assert missing.status_code == 404
    for record, referral in world.referrals.items():
        response = api.get(f"{API_PREFIX}/referrals/{referral.uuid}")
        if world.in_scope(world.users[role], record):
            assert response.status_code == 200
        else:
            assert (response.status_code, response.json()) == (missing.status_code, missing.json())


def write_operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if method in ("post", "put", "patch", "delete")
    ]


def write_requests(document: dict, pool: list[str]):
    """(method, url, body) of every POST, PUT, PATCH and DELETE operation, at each id of `pool` for its path parameters,
    with each probe body."""
    for method, path, operation in write_operations(document):
        in_path = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        options = [path_values(schema_of(p, document), pool) for p in in_path]
        for combo in itertools.product(*options) if len(in_path) < 2 else zip(*options):
            url = path
            for p, value in zip(in_path, combo):
                url = url.replace("{" + p["name"] + "}", urllib.parse.quote(value, safe=""))
            for body in PROBE_BODIES:
                yield method, url, body


def call_every_write(world: CanaryWorld, api) -> Calls:
    """Every POST, PUT, PATCH and DELETE operation, at each canary id for its path parameters, with each probe body."""
    document = openapi_document()
    calls = Calls([f"{method} {path}" for method, path, _ in write_operations(document)])
    for method, url, body in write_requests(document, value_pool(world)):
        sent = f"{method} {url} {body}"
        try:
            response = api.client.generic(method, url, body, content_type="application/json", headers=api.headers)
        except Exception as exc:
            calls.server_errors.append(f"{sent}: {type(exc).__name__}: {exc}")
            continue
        calls.check(sent, response)
        calls.responses.append((sent, response.status_code, response_text(response)))
    return calls


@pytest.mark.parametrize("role", list(Role))
def test_no_write_operation_tells_a_role_what_it_may_not_see_nor_changes_what_it_may_not_change(
    world, api_client, role
):
    user = world.users[role]
    api = api_client(user)
    before = case_state()
    calls = call_every_write(world, api)

    assert calls.server_errors == []
    assert calls.cacheable == [], "every API answer to a write, refusals included, is sent with Cache-Control: no-store"
    assert len(calls.operations) > 0 and len(calls.responses) >= len(calls.operations) * len(PROBE_BODIES)
    assert {status for _, status, _ in calls.responses} != {401}, "the bearer token was not accepted"
    leaks = [f"{c} in {sent}" for c, sent in seen_canaries(world, calls) if c not in world.allowed(user)]
    assert leaks == [], f"{role} was told what it may not see by an error message or a refusal"
    if role in NO_CASE_WRITES:
        assert [
            f"{c} in {sent}" for c, sent in seen_canaries(world, calls) if c.compartment != Compartment.STATUS
        ] == []
        after = case_state()
        assert {label for label in before if before[label] != after.get(label)} == set(), f"{role} changed case records"
