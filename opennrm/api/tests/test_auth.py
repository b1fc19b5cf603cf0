"""Signing in to the API, token expiry, and 401/403 on every route (contract section 1)."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from opennrm.api.api import api
from opennrm.conftest import PASSWORD
from opennrm.policy import Role

from .support import error_fields, nothing_stored

TOKEN_URL = "/api/v1/auth/token"
# Fixed, so that test ids are the same in every process (pytest-xdist compares them).
SOME_ID = "3f1c2b7e-8d4a-4c61-9b0e-5a2f6d7c8e91"


def _post_token(body, raw: str | None = None):
    return Client().post(TOKEN_URL, raw if raw is not None else body, content_type="application/json")


def _signed_routes() -> list[tuple[str, str]]:
    """Every (method, path) the OpenAPI document says needs a token, with path parameters filled in."""
    routes = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                routes.append((method, path.replace("{referral_id}", SOME_ID)))
    return routes


SIGNED_ROUTES = _signed_routes()


def test_every_contract_route_needs_a_token():
    paths = {path.split("/api/v1")[1].split("/", 2)[1] for _, path in SIGNED_ROUTES}
    assert {"referrals", "duty-to-notify", "nrm-status"} <= paths


def test_good_credentials_give_a_token_that_works(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    before = dt.datetime.now(dt.UTC)
    response = _post_token({"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    expires_at = dt.datetime.fromisoformat(body["expires_at"])
    assert expires_at.tzinfo is not None
    lifetime = dt.timedelta(seconds=settings.API_TOKEN_LIFETIME_SECONDS)
    assert before + lifetime - dt.timedelta(seconds=5) <= expires_at <= before + lifetime + dt.timedelta(seconds=60)
    signed = Client().get("/api/v1/referrals", headers={"Authorization": f"Bearer {body['token']}"})
    assert signed.status_code == 200


@pytest.mark.parametrize("password", ["wrong-password-123", "", PASSWORD.upper()])
def test_bad_password_is_401(make_user, password):
    user = make_user(Role.FIRST_RESPONDER)
    response = _post_token({"username": user.username, "password": password})
    if password == "":
        # An empty password is a missing answer, not a wrong one.
        assert error_fields(response) == ["password"]
    else:
        assert response.status_code == 401
        assert "token" not in response.json()


def test_unknown_user_is_401_with_the_same_answer_as_a_wrong_password(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    unknown = _post_token({"username": "nobody.at.all", "password": PASSWORD})
    wrong = _post_token({"username": user.username, "password": "not-the-password"})
    assert unknown.status_code == wrong.status_code == 401
    # Never reveal which usernames exist.
    assert unknown.json() == wrong.json()


def test_inactive_user_gets_no_token(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    user.is_active = False
    user.save()
    assert _post_token({"username": user.username, "password": PASSWORD}).status_code == 401


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, {"username", "password"}),
        ({"username": "someone"}, {"password"}),
        ({"password": "something"}, {"username"}),
        ({"username": 12, "password": ["x"]}, {"username", "password"}),
        ({"username": "someone", "password": "something", "totp": "123456"}, {"totp"}),
        ({"username": "someone", "password": "something", "otp": 123456}, {"otp"}),
    ],
)
def test_missing_wrong_type_or_unknown_token_fields_are_422(db, body, fields):
    with nothing_stored():
        response = _post_token(body)
    assert set(error_fields(response)) == fields


@pytest.mark.parametrize("raw", ["", "not json", "[]", '"text"', '{"username": '])
def test_token_request_that_is_not_a_json_object_is_422(db, raw):
    assert error_fields(_post_token(None, raw=raw)) == ["body"]


def test_expired_token_is_refused(make_user, api_client):
    client = api_client(make_user(Role.FIRST_RESPONDER))
    assert client.get("/api/v1/referrals").status_code == 200
    lifetime = settings.API_TOKEN_LIFETIME_SECONDS
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime - 60), tick=False):
        assert client.get("/api/v1/referrals").status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime + 1), tick=False):
        assert client.get("/api/v1/referrals").status_code == 401


def test_token_of_a_deactivated_user_stops_working(make_user, api_client):
    user = make_user(Role.FIRST_RESPONDER)
    client = api_client(user)
    user.is_active = False
    user.save()
    assert client.get("/api/v1/referrals").status_code == 401


@pytest.mark.parametrize("method, path", SIGNED_ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer not-a-real-token", "Basic dXNlcjpwYXNz", "Token abc", "bearer"],
)
def test_every_signed_route_is_401_without_a_good_token(db, method, path, authorization, child_referral_body):
    headers = {"Authorization": authorization} if authorization is not None else {}
    client = Client()
    with nothing_stored():
        if method == "post":
            response = client.post(path, child_referral_body, content_type="application/json", headers=headers)
        else:
            response = client.get(path, {"home_office_reference": "HO-1"}, headers=headers)
    assert response.status_code == 401, (method, path, response.content)
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "role",
    [
        Role.SCA_DECISION_MAKER,
        Role.IECA_DECISION_MAKER,
        Role.IMMIGRATION_OFFICER,
        Role.STATISTICIAN,
        Role.AUDITOR,
        Role.ADMIN,
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/referrals", "/api/v1/duty-to-notify"])
def test_roles_that_may_not_refer_get_403(make_user, api_client, role, path, child_referral_body):
    client = api_client(make_user(role))
    with nothing_stored():
        response = client.post(path, child_referral_body)
    assert response.status_code == 403
    assert response.json()["detail"]


def test_403_comes_before_body_checks(make_user, api_client):
    """A role that may not refer is told so, not invited to fix a body it could never send."""
    client = api_client(make_user(Role.STATISTICIAN))
    assert client.post("/api/v1/referrals", raw="not json").status_code == 403


@pytest.mark.parametrize("role", [r for r in Role if r != Role.IMMIGRATION_OFFICER])
def test_only_immigration_officers_may_look_up_nrm_status(make_user, api_client, role):
    response = api_client(make_user(role)).get("/api/v1/nrm-status", home_office_reference="HO-1234")
    assert response.status_code == 403


@pytest.mark.parametrize("raw_username", [r"\ud800", r"fr\u0000police", r"fr\u0007"])
def test_control_characters_in_credentials_are_422_not_500(db, raw_username):
    response = _post_token(None, raw=f'{{"username": "{raw_username}", "password": "x"}}')
    assert error_fields(response) == ["username"]
