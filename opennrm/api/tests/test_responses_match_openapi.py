"""Every API answer matches the OpenAPI document that publishes it (issue 23 point 4).

The document must describe each operation's answers, its successes and its refusals, truthfully: a client written
from it, and schemathesis (issue 27), take it at its word. So:

- every operation declares a JSON schema for every status code it lists, a success among them, and the refusals
  its kind of request can meet (401 signed out, 404 for a record in its path, 422 for a body or query, 413 for any
  request whose body is over the limit);
- the answers of every operation, called as every role (whole compartments, a view's cut, status only, aggregates
  only, linkage identities, nothing) and as no one, validate against the schema of their status
  code (api/tests/openapi_answers.py: jsonschema, JSON Schema 2020-12, `$ref`s resolved in the document);
- every writing operation, driven through to success, answers what its success schema says.

Every other API test checks its answers the same way, through ApiClient (opennrm/conftest.py).
"""

import datetime as dt

from django.test import Client
from django.utils import timezone

from opennrm.policy import Role
from opennrm.tests.canaries import duty_to_notify_body, referral_body, value_pool

from .openapi_answers import answer_problems, operation_for, published_document
from .test_access_generated import calls_for, get_operations, world, write_operations, write_requests  # noqa: F401

# Operations still answering without a declared schema: none. Were one added untyped, it would have to be named here,
# and this list may only shrink (issue 23 point 4).
UNTYPED_OPERATIONS: set[str] = set()

# Every role: each sees a referral differently, or not at all (ADR 0003, 0028), and is refused differently.
WALKED_ROLES = tuple(Role)


def operations(document: dict):
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            yield method.upper(), path, operation


def _name(method: str, path: str) -> str:
    return f"{method} {path}"


def test_every_operation_declares_a_schema_for_each_of_its_answers():
    untyped, missing_refusals = [], []
    for method, path, operation in operations(published_document()):
        responses = operation.get("responses", {})
        without_schema = [
            code for code, r in responses.items() if "schema" not in r.get("content", {}).get("application/json", {})
        ]
        if without_schema or not any(code.startswith("2") for code in responses):
            untyped.append(_name(method, path))
        params = operation.get("parameters", [])
        expected = {"401"} if operation.get("security") else set()
        expected |= {"404"} if any(p["in"] == "path" for p in params) else set()
        expected |= {"422"} if operation.get("requestBody") or any(p["in"] == "query" for p in params) else set()
        expected |= {"413"}  # any request with a body over the limit, whatever its method (core/middleware.py)
        if expected - set(responses):
            missing_refusals.append(f"{_name(method, path)}: {sorted(expected - set(responses))}")
    assert sorted(untyped) == sorted(UNTYPED_OPERATIONS), "each operation declares the schema of each answer"
    assert missing_refusals == [], "each operation declares the refusals its kind of request can meet"


def test_the_check_finds_an_answer_the_document_does_not_describe(db):
    """The checker itself: an undeclared key, a wrong type and an undeclared status code are each a problem."""

    class Answer:
        def __init__(self, status_code: int, content: bytes):
            self.status_code, self.content = status_code, content

        def get(self, name, default=None):
            return "application/json" if name == "Content-Type" else default

    assert answer_problems("GET", "/api/v1/ping", Answer(200, b'{"ok": true}')) == []
    assert answer_problems("GET", "/api/v1/ping", Answer(200, b'{"ok": true, "extra": 1}'))
    assert answer_problems("GET", "/api/v1/referrals", Answer(200, b'{"items": [], "count": "none", "next": null}'))
    assert answer_problems("GET", "/api/v1/ping", Answer(418, b'{"detail": "teapot"}'))
    assert (
        operation_for("GET", "/api/v1/referrals/0b7d7a49-3c34-4a4b-8f1e-2f8e3b0f6e7a/access-log")[0]
        == "/api/v1/referrals/{referral_id}/access-log"
    )


class Answers:
    """Every answer seen, by operation and status code, and every problem with one."""

    def __init__(self):
        self.seen: dict[str, set[int]] = {}
        self.problems: list[str] = []

    def add(self, method: str, url: str, response) -> None:
        found = operation_for(method, url)
        if found is not None:
            self.seen.setdefault(_name(method, found[0]), set()).add(response.status_code)
        self.problems += [f"{p} (to {url})" for p in answer_problems(method, url, response)]


def _walk(client: Client, headers: dict, world, answers: Answers) -> None:
    """Every GET at every canary id and query value, and every write with each probe body (test_access_generated's walks)."""
    document = published_document()
    pool = value_pool(world)
    for path, operation in get_operations(document):
        for url in calls_for(path, operation, document, world, pool):
            answers.add("GET", url, client.get(url, headers=headers))
    for method, url, body in write_requests(document, pool):
        answers.add(method, url, client.generic(method, url, body, content_type="application/json", headers=headers))


def test_every_answer_to_every_role_matches_the_document(world, api_client):
    answers = Answers()
    _walk(Client(), {}, world, answers)  # signed out: 401 everywhere but the sign-in
    for role in WALKED_ROLES:
        api = api_client(world.users[role])
        _walk(api.client, api.headers, world, answers)

    assert answers.problems == []
    # A walk that met no success proves little: every GET answered 200 to some role.
    gets = {_name("GET", path) for path, _ in get_operations(published_document())}
    assert {name for name in gets if 200 not in answers.seen.get(name, set())} == set()
    # The probe bodies are refused before any state is looked at: 409s are met in the writes' test below.
    assert {status for codes in answers.seen.values() for status in codes} >= {200, 401, 403, 404, 422}


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


class Caller:
    """An ApiClient of one user (which checks each answer against the document) that also notes what it was answered."""

    def __init__(self, api, answers: Answers):
        self.api, self.answers = api, answers

    def post(self, url: str, body: dict, expect: int) -> dict:
        response = self.api.post(url, body)
        self.answers.add("POST", url, response)
        assert response.status_code == expect, (url, response.status_code, response.content[:1000])
        return response.json()


def test_every_write_driven_to_success_answers_its_success_schema(world, api_client, make_user):
    """Each writing operation, as the role whose work it is, until it succeeds: its answer is its success schema's."""
    answers = Answers()
    users = world.users
    first_responder = Caller(api_client(users[Role.FIRST_RESPONDER]), answers)
    decision_maker = Caller(api_client(users[Role.SCA_DECISION_MAKER]), answers)
    second_decision_maker = Caller(api_client(make_user(Role.SCA_DECISION_MAKER)), answers)
    social_worker = Caller(api_client(users[Role.LA_SOCIAL_WORKER]), answers)
    guardian = Caller(api_client(users[Role.GUARDIAN]), answers)
    linker = Caller(api_client(users[Role.DATA_QUALITY_OFFICER]), answers)
    now = timezone.now()

    # Referrals and a Duty to Notify (contract sections 2 and 3).
    child = first_responder.post(
        "/api/v1/referrals", referral_body("C", contacted_at=now - dt.timedelta(hours=1))[0], 201
    )["id"]
    second_child = first_responder.post(
        "/api/v1/referrals", referral_body("D", contacted_at=now - dt.timedelta(hours=1))[0], 201
    )["id"]
    adult_body = referral_body("E", contacted_at=now - dt.timedelta(hours=1))[0]
    adult_body["potential_victim"].update(age_group="adult", date_of_birth=None, date_of_birth_precision=None)
    adult_body.update(
        local_authority_contact=None, consent={"given": True, "recorded_at": _iso(now - dt.timedelta(hours=2))}
    )
    adult = first_responder.post("/api/v1/referrals", adult_body, 201)["id"]
    first_responder.post("/api/v1/duty-to-notify", duty_to_notify_body("dtn-C")[0], 201)

    # Decisions: a negative proposed and confirmed, then reconsideration asked; another sent back and re-routed; an adult withdrawn.
    proposed = decision_maker.post(
        f"/api/v1/referrals/{child}/decisions",
        {"stage": "reasonable_grounds", "outcome": "negative", "reasons": "Synthetic reasons"},
        201,
    )["id"]
    second_decision_maker.post(f"/api/v1/referrals/{child}/decisions/{proposed}/confirm", {}, 200)
    first_responder.post(
        f"/api/v1/referrals/{child}/reconsideration-requests", {"grounds": "Synthetic new evidence"}, 201
    )
    sent_back = decision_maker.post(
        f"/api/v1/referrals/{second_child}/decisions",
        {"stage": "reasonable_grounds", "outcome": "negative", "reasons": "Synthetic reasons"},
        201,
    )["id"]
    second_decision_maker.post(
        f"/api/v1/referrals/{second_child}/decisions/{sent_back}/send-back", {"comment": "Synthetic: look again"}, 200
    )
    decision_maker.post(f"/api/v1/referrals/{adult}/withdraw", {"reason": "Synthetic: the adult withdrew"}, 200)
    decision_maker.post(
        f"/api/v1/referrals/{child}/withdraw", {"reason": "Synthetic"}, 409
    )  # children may not generally withdraw
    decision_maker.post(
        f"/api/v1/referrals/{second_child}/reroute",
        {"competent_authority": "IECA", "reason": "Synthetic: detained"},
        200,
    )

    # Work queues: one case assigned, then several at once.
    me = users[Role.SCA_DECISION_MAKER].username
    decision_maker.post(f"/api/v1/referrals/{child}/assignment", {"assigned_to": me}, 200)
    decision_maker.post(
        "/api/v1/assignments",
        {"referrals": [child, str(world.referral_a.uuid)], "assigned_to": None, "team": None},
        200,
    )

    # A child's safeguarding (contract section 4; ADR 0009).
    episodes = f"/api/v1/referrals/{child}/missing-episodes"
    episode = social_worker.post(
        episodes,
        {"missing_since": _iso(now - dt.timedelta(hours=3)), "last_seen": "Synthetic: the station", "risk": "high"},
        201,
    )["id"]
    first_responder.post(f"{episodes}/{episode}/acknowledge", {}, 200)  # the referring police force
    found = social_worker.post(f"{episodes}/{episode}/found", {"found_at": _iso(now - dt.timedelta(hours=2))}, 200)
    assert found["return_interview_due"]
    social_worker.post(
        f"{episodes}/{episode}/return-interview",
        {"completed_at": _iso(now - dt.timedelta(hours=1)), "summary": "Synthetic"},
        201,
    )
    social_worker.post(
        f"/api/v1/referrals/{child}/care-records",
        {
            "care_status": "looked_after",
            "placement_type": "foster_care",
            "placement_address": "Synthetic address",
            "social_worker": users[Role.LA_SOCIAL_WORKER].username,
        },
        201,
    )
    social_worker.post(
        f"/api/v1/referrals/{child}/age-assessments",
        {
            "outcome": "child",
            "assessed_on": (now.date() - dt.timedelta(days=1)).isoformat(),
            "assessor": "local_authority",
        },
        201,
    )
    guardian.post(
        f"/api/v1/referrals/{child}/guardian-allocation",
        {"guardian": users[Role.GUARDIAN].username, "support_model": "direct"},
        200,
    )
    guardian.post(f"/api/v1/referrals/{child}/case-notes", {"text": "Synthetic note"}, 201)
    social_worker.post(
        f"/api/v1/referrals/{child}/transfers",
        {
            "to_local_authority": "E08000025",
            "moved_on": now.date().isoformat(),
            "reason": "Synthetic: moved to Birmingham",
        },
        201,
    )

    # Duplicate detection (ADR 0014): the canaries' confirmed match undone, rejected, undone again and confirmed; then unlinked.
    match = f"/api/v1/duplicates/{world.match.uuid}"
    linker.post(f"{match}/undo", {"reason": "Synthetic: checking again"}, 200)
    linker.post(f"{match}/reject", {"reason": "Synthetic: different children"}, 200)
    linker.post(f"{match}/undo", {"reason": "Synthetic: that was wrong"}, 200)
    person = linker.post(f"{match}/confirm", {"reason": "Synthetic: the same child"}, 200)["person"]
    linker.post(
        f"/api/v1/people/{person}/unlink",
        {"referral": str(world.referral_b.uuid), "reason": "Synthetic: not them after all"},
        200,
    )

    assert answers.problems == []
    assert any(409 in codes for codes in answers.seen.values())
    writes = {_name(method, path) for method, path, _ in write_operations(published_document())} - {
        "POST /api/v1/auth/token"
    }
    succeeded = {name for name, codes in answers.seen.items() if any(200 <= code < 300 for code in codes)}
    assert writes - succeeded == set(), "every writing operation was driven to success"
