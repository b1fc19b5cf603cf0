"""Who sees what in the pages, generated from Django's URL list (ADR 0003, contract section 5).

Every URL pattern the resolver knows (the pages, the admin, the API's own URLs) is requested by a
user of every role, with its path parameters filled from the canary records' ids, a draft's, a
random one, object ids for the admin, and whatever values the pages' own links and redirects
use. Every page that has a GET form is submitted too, with the canaries' Home Office references. No
response may hold a canary of a compartment the role may not see, none may be a server error, and
every page carries a strict Content-Security-Policy. Every answer, letters and PDFs included, is sent with
Cache-Control: no-store, so that no browser or proxy keeps a copy of case data (contract section 2).
A route added tomorrow is covered by this test the day it is added.
"""

import html
import re
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from opennrm.policy import Compartment, Role
from opennrm.tests.caching import kept_by_browsers
from opennrm.tests.canaries import (
    OWN_DRAFT,
    CanaryWorld,
    appears,
    case_state,
    plant_canaries,
    random_uuid,
    response_text,
    value_pool,
)
from opennrm.tests.csp import csp_problems
from opennrm.workdays.calendar import forget_closure_days

# The immigration officer's one opening: NRM status by Home Office reference (contract section 5).
STATUS_LOOKUP_VIEWS = {"web:nrm-status", "api:nrm_status"}
# Where a route closed to the user sends them: such a route is tried with one set of parameters only.
SIGN_IN_VIEWS = {"web:sign-in", "admin:login"}
# Parameters a search or lookup form may take, tried on every page with a GET form.
SEARCH_PARAMS = ("home_office_reference", "q", "search")
# Roles with no power over a case: whatever they post, no case record changes (ADR 0003).
NO_CASE_WRITES = (Role.IMMIGRATION_OFFICER, Role.STATISTICIAN, Role.AUDITOR, Role.ADMIN)
SIGN_OUT_VIEWS = {"web:sign-out", "admin:logout"}  # posted, they would end the walk's session
POST_FILLINGS_PER_ROUTE = 4
# Routes that must be among those exercised: if one is missing, the walk itself is broken.
KNOWN_ROUTES = {
    "",
    "referrals",
    "referrals/<uuid:referral_id>",
    "referrals/<uuid:referral_id>/access-log",
    "sign-in/code",
    "sign-in/authenticator-app",
    "nrm-status",
    "dashboard",
    "admin/",
    "admin/accounts/user/<path:object_id>/change/",
    "api/v1/referrals/<referral_id>",
    "api/v1/openapi.json",
    "referrals/<uuid:referral_id>/safeguarding",
    "referrals/<uuid:referral_id>/missing/<uuid:episode_id>/found",
    "missing-now",
    "safeguarding",
    "duplicates",
    "duplicates/<uuid:candidate_id>",
    "people/<uuid:person_id>",
    "referrals/<uuid:referral_id>/decisions/<uuid:decision_id>/letter.pdf",
}
MAX_QUERY_VARIANTS_PER_ROUTE = 3  # links with query strings the pages offer (filters, pages), per route
MAX_ROUNDS = 4  # rounds of following newly found parameter values


@pytest.fixture
def world(make_user, unthrottled_status_lookups):
    planted = plant_canaries(make_user)
    yield planted
    forget_closure_days()  # the world's closure day is rolled back; do not let the cache keep it


# --- The URL list, as templates with parameters ---------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    regex: str


@dataclass(frozen=True)
class Route:
    template: str  # the route as Django shows it, such as "referrals/<uuid:referral_id>"
    parts: tuple  # literal strings and Params, in order

    @property
    def params(self) -> list[Param]:
        return [p for p in self.parts if isinstance(p, Param)]

    def build(self, values: dict[str, str]) -> str:
        return "/" + "".join(values[p.name] if isinstance(p, Param) else p for p in self.parts)


ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _route_parts(pattern: RoutePattern) -> list:
    route, parts, pos = str(pattern), [], 0
    for m in ROUTE_PARAM.finditer(route):
        parts += [route[pos : m.start()], Param(m["name"], pattern.converters[m["name"]].regex)]
        pos = m.end()
    return parts + [route[pos:]]


def _regex_parts(pattern: RegexPattern) -> list:
    """A regex pattern's literal text and named groups; anything else is not a fillable URL and fails the walk."""
    regex = str(pattern).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    parts, literal, i = [], "", 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            close = regex.index(">", i)
            depth, j = 1, close + 1
            while depth:
                if regex[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
            parts += [literal, Param(regex[i + 4 : close], regex[close + 1 : j - 1])]
            literal, i = "", j
        elif regex[i] == "\\":
            literal, i = literal + regex[i + 1], i + 2
        else:
            literal, i = literal + regex[i], i + 1
    return parts + [literal]


def _parts(pattern) -> list:
    if isinstance(pattern, RoutePattern):
        return _route_parts(pattern)
    if isinstance(pattern, RegexPattern):
        return _regex_parts(pattern)
    raise AssertionError(f"A URL pattern of a kind this test cannot fill: {pattern!r}; teach the test about it")


def all_routes() -> list[Route]:
    """Every URL pattern Django resolves, walked recursively through include()s and namespaces."""
    routes = []

    def walk(patterns, prefix_parts: list, prefix: str):
        for p in patterns:
            parts = prefix_parts + _parts(p.pattern)
            template = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, parts, template)
            else:
                assert isinstance(p, URLPattern)
                routes.append(Route(template, tuple(x for x in parts if x != "")))

    walk(get_resolver().url_patterns, [], "")
    static = django_settings.STATIC_URL.lstrip("/")
    return [r for r in routes if not r.template.startswith(static)]


# --- Filling the parameters ------------------------------------------------------------------------


def candidates(param: Param, pool: list[str], found: dict[str, set[str]]) -> list[str]:
    values = list(pool) + sorted(found.get(param.name, ()))
    if re.fullmatch(r"[\w|]+", param.regex):  # an alternation of names, such as the admin's app labels
        values = param.regex.split("|") + values
    return [v for v in dict.fromkeys(values) if re.fullmatch(param.regex, v)]


def fillings(route: Route, pool: list[str], found: dict[str, set[str]]) -> list[dict[str, str]]:
    """Each candidate of each parameter at least once, the others at their first candidate (not the full product)."""
    options = {p.name: candidates(p, pool, found) for p in route.params}
    if any(not values for values in options.values()):
        return []
    base = {name: values[0] for name, values in options.items()}
    out = [base]
    for name, values in options.items():
        out += [{**base, name: v} for v in values[1:]]
    return out


# --- What a page links to and asks for ------------------------------------------------------------

LINK = re.compile(r"""(?:href|action)\s*=\s*["']([^"']*)["']""", re.I)
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.I | re.S)
FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.I)
ATTR = re.compile(r"""([\w-]+)\s*=\s*["']([^"']*)["']""")


def local_links(text: str, location: str | None, base: str) -> set[str]:
    links = {html.unescape(h) for h in LINK.findall(text)} | ({location} if location else set())
    out = set()
    for link in links:
        url = urllib.parse.urljoin(base, link)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("", "http") and parts.netloc in ("", "testserver") and parts.path.startswith("/"):
            out.add(urllib.parse.urlunsplit(("", "", parts.path, parts.query, "")))
    return out


def get_form_submissions(text: str, base: str, search_value: str) -> list[str]:
    """URLs a GET form on the page would ask for, its text fields and the usual search names set to `search_value`."""
    urls = []
    for attrs, body in FORM.findall(text):
        form = dict(ATTR.findall(attrs))
        if form.get("method", "get").lower() != "get":
            continue
        params = {}
        for tag, field_attrs in FIELD.findall(body):
            a = dict(ATTR.findall(field_attrs))
            if "name" not in a:
                continue
            kind = a.get("type", "text").lower()
            if tag.lower() == "input" and kind in ("hidden", "checkbox", "radio"):
                if kind == "hidden" or "checked" in field_attrs:
                    params[a["name"]] = html.unescape(a.get("value", ""))
            elif tag.lower() == "select":
                continue  # leave at its default
            elif kind not in ("submit", "button", "reset", "image", "file", "password"):
                params[a["name"]] = search_value
        params.update(dict.fromkeys(SEARCH_PARAMS, search_value))
        action = urllib.parse.urljoin(base, html.unescape(form.get("action", "")) or base)
        urls.append(urllib.parse.urlsplit(action).path + "?" + urllib.parse.urlencode(params))
    return urls


# --- The walk ---------------------------------------------------------------------------------------


@dataclass
class Exercised:
    url: str
    view: str
    status: int
    text: str


@dataclass
class Walk:
    routes: list[Route]
    exercised: list[Exercised] = field(default_factory=list)
    routes_reached: set[str] = field(default_factory=set)
    server_errors: list[str] = field(default_factory=list)
    unfillable: list[str] = field(default_factory=list)
    weak_csp: list[str] = field(default_factory=list)  # pages whose Content-Security-Policy is not strict
    cacheable: list[str] = field(
        default_factory=list
    )  # answers a browser or proxy may keep (no Cache-Control: no-store)
    found: dict[str, set[str]] = field(default_factory=dict)  # parameter values seen in the app's own links


def view_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def is_sign_in_redirect(response) -> bool:
    location = response.headers.get("Location")
    return (
        response.status_code in (301, 302, 303, 307, 308)
        and bool(location)
        and view_name(urllib.parse.urlsplit(location).path) in SIGN_IN_VIEWS
    )


def walk_pages(world: CanaryWorld, client: Client) -> Walk:
    walk = Walk(all_routes())
    pool = value_pool(world)
    found: dict[str, set[str]] = defaultdict(set)  # parameter name -> values seen in the app's own links
    queries_per_route: dict[str, int] = defaultdict(int)
    done: set[str] = set()
    route_of_template = {r.template: r for r in walk.routes}

    def request(url: str, route_template: str | None):
        if route_template is not None:
            walk.routes_reached.add(route_template)
        if url in done:
            return None
        done.add(url)
        path = urllib.parse.urlsplit(url).path
        try:
            response = client.get(url)
        except Exception as exc:
            walk.server_errors.append(f"GET {url}: {type(exc).__name__}: {exc}")
            return None
        if response.status_code >= 500:
            walk.server_errors.append(f"GET {url}: {response.status_code}")
        if "html" in response.get("Content-Type", "") and (
            problems := csp_problems(response.get("Content-Security-Policy", ""))
        ):
            walk.weak_csp.append(f"GET {url}: {'; '.join(problems)}")
        if kept_by_browsers(response):
            walk.cacheable.append(f"GET {url}: {response.status_code} {response.get('Content-Type', '')}")
        text = response_text(response)
        walk.exercised.append(Exercised(url, view_name(path) or "", response.status_code, text))
        for link in local_links(text, response.headers.get("Location"), url):
            link_path, query = link.partition("?")[::2]
            try:
                match = resolve(link_path)
            except Resolver404:
                continue
            for name, value in match.kwargs.items():
                found[name].add(str(value))
            if query and link not in done and queries_per_route[match.route] < MAX_QUERY_VARIANTS_PER_ROUTE:
                queries_per_route[match.route] += 1
                pending.append((link, match.route if match.route in route_of_template else None))
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            for record in ("A", "B"):
                for submission in get_form_submissions(text, url, world.home_office_reference(record)):
                    pending.append((submission, None))
        return response

    pending: list[tuple[str, str | None]] = []
    closed: set[str] = set()
    for _ in range(MAX_ROUNDS):
        before = len(done)
        for route in walk.routes:
            if route.template in closed:
                continue
            for values in fillings(route, pool, found):
                url = route.build(values)
                try:
                    resolve(urllib.parse.urlsplit(url).path)
                except Resolver404:
                    continue
                response = request(url, route.template)
                if response is not None and is_sign_in_redirect(response):
                    # Closed to this user before the view reads its parameters: other values change nothing.
                    closed.add(route.template)
                    break
        while pending:
            request(*pending.pop(0))
        if len(done) == before:
            break
    walk.unfillable = [r.template for r in walk.routes if r.template not in walk.routes_reached]
    walk.found = found
    return walk


def seen_canaries(world: CanaryWorld, walk: Walk) -> list[tuple]:
    """(canary, url, view) for every canary found in a response to a request that did not itself carry it."""
    return [
        (c, e.url, e.view)
        for e in walk.exercised
        for c in world.canaries
        if appears(c.value, e.text) and not appears(c.value, e.url)
    ]


def lookup_records(world: CanaryWorld, url: str, view: str) -> set[str]:
    """The canary referrals an NRM status lookup in `url` asked about."""
    if view not in STATUS_LOOKUP_VIEWS:
        return set()
    asked = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("home_office_reference", [])
    return {record for record in ("A", "B") if world.home_office_reference(record) in asked}


# --- The tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_no_page_shows_a_role_what_it_may_not_see(world, role):
    user = world.users[role]
    client = Client()
    client.force_login(user)
    walk = walk_pages(world, client)

    assert walk.server_errors == []
    assert walk.weak_csp == []
    assert walk.cacheable == [], "every answer to a signed-in user is sent with Cache-Control: no-store"
    assert walk.unfillable == [], "routes the walk could not fill with any value: teach value_pool about them"
    assert walk.routes_reached == {r.template for r in walk.routes} != set()
    assert walk.routes_reached >= KNOWN_ROUTES
    assert len(walk.exercised) > len(walk.routes)

    leaks = []
    seen = set()
    for canary, url, view in seen_canaries(world, walk):
        seen.add(canary)
        if canary not in world.allowed(user, status_lookup_of=lookup_records(world, url, view)):
            leaks.append(f"{canary} shown at {url}")
    assert leaks == [], f"{role} was shown what it may not see"

    # The firewall, independently of policy.py: whatever the policy says, these must hold.
    if role == Role.IMMIGRATION_OFFICER:
        outside = [
            f"{c} at {url}"
            for c, url, view in seen_canaries(world, walk)
            if c.compartment != Compartment.STATUS or view not in STATUS_LOOKUP_VIEWS
        ]
        assert outside == [], "immigration enforcement sees the status compartment only, and only by NRM status lookup"
    if role in (Role.STATISTICIAN, Role.AUDITOR, Role.ADMIN, Role.IMMIGRATION_OFFICER):
        content = [
            f"{c} at {url}" for c, url, _ in seen_canaries(world, walk) if c.compartment not in (Compartment.STATUS,)
        ]
        assert content == [], f"{role} must see no case content"

    # And the walk must have been able to see something: what the role may see of the canary
    # referrals does appear (otherwise a page that shows nothing at all would pass).
    must_show = {c for c in world.allowed(user, status_lookup_of={"A", "B"}) if c.record in ("A", "B")}
    assert must_show - seen == set(), f"{role} should have been shown these somewhere"
    if user.pk == world.own_draft.owner_id:
        own_draft = {c for c in world.canaries if c.compartment == OWN_DRAFT}
        assert own_draft - seen == set(), "a draft's owner should see all of it in the journey's pages"


def test_the_walk_covers_every_pattern_in_the_resolver(db):
    routes = all_routes()
    templates = [r.template for r in routes]
    assert set(templates) >= KNOWN_ROUTES
    assert any(t.startswith("admin/") for t in templates) and any(t.startswith("api/v1/") for t in templates)
    assert not any(t.startswith(django_settings.STATIC_URL.lstrip("/")) for t in templates)


# What changes with every answer by design: the CSP nonce, the masked CSRF token and the timeout dialog's return path
# (the address asked for, which the user already knows).
PER_REQUEST_VALUES = re.compile(rb'(nonce="|name="csrfmiddlewaretoken" value="|name="next" value=")[^"]*"')


def same_for_every_request(content: bytes) -> bytes:
    """The page with its per-request values blanked, so that two answers can be compared byte for byte."""
    return PER_REQUEST_VALUES.sub(rb'\1"', content)


def test_a_first_responder_of_another_organisation_gets_404_not_403(world):
    # Referral B was made by an NGO; the role user is a first responder of the Metropolitan Police.
    police = Client()
    police.force_login(world.users[Role.FIRST_RESPONDER])
    ngo = Client()
    ngo.force_login(world.other_organisation_responder)
    for client, theirs, others in (
        (police, world.referral_a, world.referral_b),
        (ngo, world.referral_b, world.referral_a),
    ):
        assert client.get(f"/referrals/{theirs.uuid}").status_code == 200
        outside = client.get(f"/referrals/{others.uuid}")
        missing = client.get(f"/referrals/{random_uuid()}")
        assert outside.status_code == missing.status_code == 404
        # Nothing tells "exists, not yours" from "does not exist".
        assert same_for_every_request(outside.content) == same_for_every_request(missing.content)


@pytest.mark.parametrize("role", list(Role))
def test_a_referral_outside_scope_looks_the_same_as_one_that_does_not_exist(world, role):
    client = Client()
    client.force_login(world.users[role])
    missing = client.get(f"/referrals/{random_uuid()}")
    assert missing.status_code == 404
    for record, referral in world.referrals.items():
        response = client.get(f"/referrals/{referral.uuid}")
        if world.in_scope(world.users[role], record):
            assert response.status_code == 200
        else:
            assert (response.status_code, same_for_every_request(response.content)) == (
                missing.status_code,
                same_for_every_request(missing.content),
            )


def test_a_pdf_letter_is_read_as_text_so_its_canaries_are_checked(world):
    # The positive control for exports: without text extraction a PDF would pass the walk whatever it held.
    client = Client()
    client.force_login(world.users[Role.FIRST_RESPONDER])
    response = client.get(f"/referrals/{world.referral_a.uuid}/decisions/{world.decision.uuid}/letter.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert not kept_by_browsers(response), "a letter is case data: no browser may keep it"
    reasons = next(c for c in world.canaries if c.field == "decision.reasons")
    assert not appears(reasons.value, response.content.decode("latin-1"))  # compressed: invisible in the raw bytes
    assert appears(reasons.value, response_text(response))


# --- Posting: the error messages and refusals -------------------------------------------------------


def post_form_submissions(text: str, base: str) -> list[tuple[str, dict[str, str]]]:
    """Each POST form on the page as a browser would send it with every text field set to "probe": hidden
    fields as given, choices left as the page checked them (so most forms come back with their error messages)."""
    submissions = []
    for attrs, body in FORM.findall(text):
        form = dict(ATTR.findall(attrs))
        if form.get("method", "get").lower() != "post":
            continue
        data = {}
        for tag, field_attrs in FIELD.findall(body):
            a = dict(ATTR.findall(field_attrs))
            if "name" not in a or tag.lower() == "select":
                continue
            kind = a.get("type", "text").lower()
            if tag.lower() == "input" and kind in ("hidden", "checkbox", "radio"):
                if kind == "hidden" or "checked" in field_attrs:
                    data[a["name"]] = html.unescape(a.get("value", ""))
            elif kind not in ("submit", "button", "reset", "image", "file"):
                data[a["name"]] = "probe"
        action = urllib.parse.urljoin(base, html.unescape(form.get("action", "")) or base)
        parts = urllib.parse.urlsplit(action)
        submissions.append((parts.path + (f"?{parts.query}" if parts.query else ""), data))
    return submissions


def walk_posts(world: CanaryWorld, client: Client, user, pages: Walk) -> Walk:
    """POST to every route (empty, at a few fillings of its parameters) and every form the role's pages offered."""
    posts = Walk(pages.routes)
    pool = value_pool(world)
    targets = [
        (route.build(values), {})
        for route in pages.routes
        for values in fillings(route, pool, pages.found)[:POST_FILLINGS_PER_ROUTE]
    ]
    for page in pages.exercised:
        if page.status == 200:
            targets += post_form_submissions(page.text, page.url)
    done = set()
    for url, data in targets:
        key = (url, tuple(sorted(data.items())))
        view = view_name(urllib.parse.urlsplit(url).path)
        if key in done or view is None or view in SIGN_OUT_VIEWS:
            continue
        done.add(key)
        sent = f"POST {url} {urllib.parse.urlencode(data)}"
        try:
            response = client.post(url, data)
        except Exception as exc:
            posts.server_errors.append(f"{sent}: {type(exc).__name__}: {exc}")
            continue
        if response.status_code >= 500:
            posts.server_errors.append(f"{sent}: {response.status_code}")
        if kept_by_browsers(response):
            posts.cacheable.append(f"{sent}: {response.status_code}")
        posts.exercised.append(Exercised(sent, view, response.status_code, response_text(response)))
        if "_auth_user_id" not in client.session:  # a form that signs out (the admin's, say)
            client.force_login(user)
    return posts


@pytest.mark.parametrize("role", list(Role))
def test_no_post_tells_a_role_what_it_may_not_see_nor_changes_what_it_may_not_change(world, role):
    user = world.users[role]
    client = Client()
    client.force_login(user)
    pages = walk_pages(world, client)
    before = case_state()
    posts = walk_posts(world, client, user, pages)

    assert posts.server_errors == []
    assert posts.cacheable == [], "every answer to a POST, error pages included, is sent with Cache-Control: no-store"
    assert len(posts.exercised) >= len(pages.routes) - len(SIGN_OUT_VIEWS)
    leaks = [f"{c} in {sent}" for c, sent, _ in seen_canaries(world, posts) if c not in world.allowed(user)]
    assert leaks == [], f"{role} was told what it may not see by a POST's answer (an error message, a redirect)"
    if role in NO_CASE_WRITES:
        assert [
            f"{c} in {sent}" for c, sent, _ in seen_canaries(world, posts) if c.compartment != Compartment.STATUS
        ] == []
        after = case_state()
        assert {label for label in before if before[label] != after.get(label)} == set(), f"{role} changed case records"
