"""No browser or proxy keeps a copy of an answer (contract section 2), while static assets keep their caching.

The generated walks (web/tests/test_access_generated.py, api/tests/test_access_generated.py) check every page and
API answer for every role; these check what they do not reach: answers before signing in and the static assets.
"""

from django.test import Client

from opennrm.conftest import PASSWORD
from opennrm.policy import Role
from opennrm.tests.caching import kept_by_browsers


def test_answers_before_signing_in_are_not_kept(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    client = Client()
    token = client.post(
        "/api/v1/auth/token", {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert token.status_code == 200
    answers = [
        client.get("/sign-in"),
        client.post("/sign-in", {"username": user.username, "password": "not-the-password"}),
        token,  # the bearer token itself
        client.get("/api/v1/referrals"),  # 401
        client.get("/no-such-page"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 401, 404]
    assert [a for a in answers if kept_by_browsers(a)] == []


def test_static_assets_keep_their_caching(db):
    response = Client().get("/static/govuk/govuk-frontend.min.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
