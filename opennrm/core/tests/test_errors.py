"""The application's one family of errors (core/errors.py; issue 23 point 1): each kind, raised by a real service
behind a real route, gets its documented answer from the API (api/http.py problem_of) and from the pages
(web/errors.py); and no module outside core defines an exception class of its own outside the family."""

import ast
import builtins
import datetime as dt
import importlib
import uuid
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone

from opennrm.cases.services import referral_create
from opennrm.core.errors import Invalid, NotAllowed, NotFound, OpenNRMError, Refused, Throttled
from opennrm.policy import Role
from opennrm.referrals.validation import validate_referral
from opennrm.tests.status_pages import visible_text

pytestmark = pytest.mark.django_db

PACKAGE = Path(__file__).resolve().parents[2]  # opennrm/
HOME_OFFICE_REFERENCE = "H7654321/26"


@pytest.fixture
def people(make_user):
    # The routing rules migration 0003 seeds, present even after a transactional test emptied the table.
    import_module("opennrm.decisions.migrations.0003_seed_routing_rules").seed_default_rules(apps, None)
    return {
        "referrer": make_user(Role.FIRST_RESPONDER),
        "other_referrer": make_user(Role.FIRST_RESPONDER, name="Another police force"),
        "sca": make_user(Role.SCA_DECISION_MAKER),
        "officer": make_user(Role.IMMIGRATION_OFFICER),
    }


@pytest.fixture
def referral(people, child_referral_body):
    child_referral_body["potential_victim"]["home_office_reference"] = HOME_OFFICE_REFERENCE
    data, errors = validate_referral(child_referral_body, now=timezone.now())
    assert not errors, errors
    return referral_create(actor=people["referrer"], data=data, received_at=timezone.now() - dt.timedelta(days=2))


def page_text(response) -> str:
    return visible_text(response.content.decode())


# --- The API: http.problem_of, one handler for the family (api.py) ---------------------------------


def test_api_not_found_is_404_for_a_record_outside_the_callers_scope_as_for_none(people, referral, api_client):
    # The referral exists, but not for a first responder of another organisation: the same 404 as no record at all.
    stranger = api_client(people["other_referrer"])
    outside = stranger.get(f"/api/v1/referrals/{referral.uuid}")
    missing = stranger.get(f"/api/v1/referrals/{uuid.uuid4()}")
    assert (outside.status_code, outside.json()) == (404, {"detail": "Not found"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found"})


def test_api_not_allowed_is_403_saying_why(people, api_client):
    response = api_client(people["officer"]).get(f"/api/v1/referrals/{uuid.uuid4()}/safeguarding")
    assert response.status_code == 403
    assert response.json() == {
        "detail": f"Your role ({people['officer'].role_label}) does not see children's safeguarding records"
    }


def test_api_invalid_is_422_naming_each_field(people, referral, api_client):
    response = api_client(people["sca"]).post(
        f"/api/v1/referrals/{referral.uuid}/assignment", {"assigned_to": "nobody.at.all"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "errors": [{"field": "assigned_to", "message": "Choose an active decision maker of your own authority"}]
    }


def test_api_refused_is_409_saying_why_and_changes_nothing(people, referral, api_client):
    response = api_client(people["sca"]).post(
        f"/api/v1/referrals/{referral.uuid}/decisions",
        {"stage": "conclusive_grounds", "outcome": "positive", "reasons": "Consistent account"},
    )
    assert response.status_code == 409
    assert "Reasonable Grounds decision first" in response.json()["detail"]
    assert referral.decisions.count() == 0


def test_api_throttled_is_429_with_retry_after(people, referral, api_client, settings):
    settings.NRM_STATUS_LOOKUPS_PER_MINUTE, settings.NRM_STATUS_LOOKUPS_PER_HOUR = 1, 60
    officer = api_client(people["officer"])
    assert officer.get("/api/v1/nrm-status", home_office_reference=HOME_OFFICE_REFERENCE).status_code == 200
    refused = officer.get("/api/v1/nrm-status", home_office_reference=HOME_OFFICE_REFERENCE)
    assert refused.status_code == 429
    seconds = int(refused["Retry-After"])
    assert 1 <= seconds <= 60
    assert refused.json() == {
        "detail": f"Too many NRM status lookups in a short time: try again in {seconds} seconds",
        "retry_after_seconds": seconds,
    }


# --- The pages: web/errors.py -----------------------------------------------------------------------


def test_page_not_found_for_a_record_outside_the_users_scope_as_for_none(people, referral, web_client):
    client = web_client(people["other_referrer"])
    for path in (f"/referrals/{referral.uuid}", f"/referrals/{uuid.uuid4()}"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Page not found" in page_text(response)


def test_page_not_allowed_is_the_refusal_page_saying_why(people, web_client):
    response = web_client(people["sca"]).get("/missing-now")
    assert response.status_code == 403
    text = page_text(response)
    assert "You cannot do this" in text
    assert "The missing-now list is for a local authority" in text  # the service's own words


def test_page_invalid_and_refused_are_the_form_again_with_its_error_summary(people, referral, web_client):
    client = web_client(people["sca"])
    path = f"/referrals/{referral.uuid}/decision"
    invalid = client.post(path, {"stage": "", "outcome": "positive", "reasons": "Consistent account"})
    assert invalid.status_code == 422
    assert 'href="#stage"' in invalid.content.decode()
    assert "Choose reasonable_grounds or conclusive_grounds" in page_text(invalid)
    refused = client.post(path, {"stage": "conclusive_grounds", "outcome": "positive", "reasons": "Consistent"})
    assert refused.status_code == 409
    assert "Reasonable Grounds decision first" in page_text(refused)
    assert referral.decisions.count() == 0


def test_page_throttled_says_when_to_try_again_with_retry_after(people, referral, web_client, settings):
    settings.NRM_STATUS_LOOKUPS_PER_MINUTE, settings.NRM_STATUS_LOOKUPS_PER_HOUR = 1, 60
    client = web_client(people["officer"])
    assert client.get("/nrm-status", {"home_office_reference": HOME_OFFICE_REFERENCE}).status_code == 200
    refused = client.get("/nrm-status", {"home_office_reference": HOME_OFFICE_REFERENCE})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60


# --- The family itself -------------------------------------------------------------------------------


def test_each_kind_keeps_what_its_callers_read():
    one = Invalid.at("reason", "Give a reason")
    assert (one.field, one.message, str(one)) == ("reason", "Give a reason", "Give a reason")
    assert [e.as_dict() for e in one.errors] == [{"field": "reason", "message": "Give a reason"}]
    many = Invalid([one.errors[0], *Invalid.at("team", "Choose a team").errors])
    assert str(many) == "reason: Give a reason; team: Choose a team"
    assert (Invalid([]).field, Invalid([]).message) == (None, None)
    at = timezone.now() + dt.timedelta(seconds=30)
    throttled = Throttled(at, "Too many lookups in a short time")
    assert throttled.retry_at == at and throttled.what == "Too many lookups in a short time"
    assert throttled.retry_after_seconds(now=at - dt.timedelta(seconds=29.5)) == 30
    assert throttled.retry_after_seconds(now=at + dt.timedelta(seconds=5)) == 1  # never 0: "try again in 0 seconds"
    for kind in (NotAllowed, NotFound, Invalid, Refused, Throttled):
        assert issubclass(kind, OpenNRMError)


def test_the_family_imports_no_domain():
    tree = ast.parse((PACKAGE / "core" / "errors.py").read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name and name.startswith("opennrm")}, imported


# --- No exception class outside the family ----------------------------------------------------------

# Exception classes that are not application errors, and why; every other one derives from OpenNRMError.
NOT_OF_THE_FAMILY = {
    "opennrm.api.http.ApiProblem": "the API's own answer (a status, a body, headers): problem_of makes it from the "
    "family, and the API's parsing raises it directly",
    "opennrm.linkage.csvio._UndecodableLine": "private to the CSV reader: a line it could not decode, reported as a "
    "LineError of the import, never raised out of csvio",
    "opennrm.linkage.normalise.BadDate": "internal parsing of a date during normalisation, a ValueError for the "
    "parser's callers, never raised to a user",
}
BUILTIN_EXCEPTIONS = {
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
}


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _application_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if "tests" in parts or "migrations" in parts or parts[0] == "core" or path.name == "conftest.py":
            continue
        yield "opennrm." + ".".join(parts).removesuffix(".py").removesuffix(".__init__"), path


def _exception_classes() -> list[tuple[str, str, ast.ClassDef, bool]]:
    """(module, class name, definition, at the module's top level) for every class outside core whose bases make it an
    exception: a builtin exception, a name ending in Error or Exception, or another class found so (to a fixed point)."""
    classes = []
    for module, path in _application_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        top = {id(node) for node in tree.body}
        classes += [(module, n.name, n, id(n) in top) for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    exceptions = set(BUILTIN_EXCEPTIONS) | {"OpenNRMError", "NotAllowed", "NotFound", "Invalid", "Refused", "Throttled"}
    found: dict[str, tuple] = {}
    while True:
        more = {
            f"{module}.{name}": (module, name, node, top)
            for module, name, node, top in classes
            if f"{module}.{name}" not in found
            and any(
                (base := _base_name(b)) and (base in exceptions or base.endswith(("Error", "Exception")))
                for b in node.bases
            )
        }
        if not more:
            return list(found.values())
        found.update(more)
        exceptions |= {name for _, name, _, _ in more.values()}


def test_every_exception_class_outside_core_derives_from_the_family():
    found = _exception_classes()
    assert {f"{m}.{n}" for m, n, _, _ in found} >= set(NOT_OF_THE_FAMILY), "an allowed class has gone: update the list"
    strays = []
    for module, name, _node, top in found:
        qualified = f"{module}.{name}"
        if qualified in NOT_OF_THE_FAMILY:
            continue
        cls = getattr(importlib.import_module(module), name, None) if top else None
        if not (isinstance(cls, type) and issubclass(cls, OpenNRMError)):
            strays.append(qualified)
    assert not strays, (
        f"exception classes outside the family (core/errors.py): {strays}; raise a kind of OpenNRMError (or a "
        "subclass, where a caller must tell it apart), or add the class to NOT_OF_THE_FAMILY with the reason"
    )
