"""The second factor: setting up an authenticator app, and signing in with its codes (pages and API)."""

import base64
import datetime as dt

import pytest
import time_machine
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from opennrm.accounts.models import AccessRequest
from opennrm.accounts.services import (
    FourEyesRefused,
    access_request_approve,
    second_factor_enrol,
    second_factor_reset_request,
)
from opennrm.audit.models import AuditEvent
from opennrm.conftest import PASSWORD
from opennrm.core.errors import NotAllowed
from opennrm.policy import Role

from .support import TOTP_STEP, error_summary_text, shown_secret, sign_in, totp_for_key, totp_for_secret_text


@pytest.fixture
def required(settings):
    settings.REQUIRE_SECOND_FACTOR = True


def _actions(user) -> list[str]:
    return list(AuditEvent.objects.filter(actor_id=user.pk).order_by("id").values_list("action", flat=True))


def test_a_user_who_must_have_a_second_factor_sets_one_up_before_anything_else(required, make_user):
    user = make_user(Role.LA_SOCIAL_WORKER)
    client = Client()
    response = sign_in(client, user.username, next_url="/referrals")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/authenticator-app?next=%2Freferrals"
    # Every other page sends them back to setting it up; the navigation is not offered yet.
    for path in ("/", "/referrals", "/admin/", f"/referrals/{'0' * 8}-0000-0000-0000-{'0' * 12}"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked["Location"].startswith("/sign-in/authenticator-app?next="), path

    page = client.get("/sign-in/authenticator-app?next=/referrals")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in text
    svg = base64.b64decode(text.split('src="data:image/svg+xml;base64,')[1].split('"')[0]).decode()
    assert svg.startswith("<?xml") and "<svg" in svg and "<path" in svg
    assert 'aria-label="Menu"' not in text
    authenticator = totp_for_secret_text(shown_secret(page))

    wrong = client.post(
        "/sign-in/authenticator-app",
        {"code": f"{(int(authenticator.now()) + 1) % 1_000_000:06d}", "next": "/referrals"},
    )
    assert wrong.status_code == 200
    assert "The code is not right" in error_summary_text(wrong)
    assert not TOTPDevice.objects.filter(user=user).exists()
    # The key stays the same while they try again: their app already holds it.
    assert shown_secret(wrong) == shown_secret(page)

    done = client.post("/sign-in/authenticator-app", {"code": authenticator.now(), "next": "/referrals"})
    assert done.status_code == 302 and done["Location"] == "/referrals"
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get("/referrals").status_code == 200
    assert _actions(user)[:2] == ["user.sign_in", "user.second_factor_enrolled"]


def test_signing_in_asks_for_the_code_after_the_password_and_refuses_a_wrong_one(required, make_user):
    user = make_user(Role.GUARDIAN)
    key = default_key()
    second_factor_enrol(actor=user, key=key)
    authenticator = totp_for_key(key)

    with time_machine.travel(dt.datetime.now(dt.UTC) + TOTP_STEP, tick=True):
        client = Client()
        response = sign_in(client, user.username, next_url="/referrals")
        assert response["Location"] == "/sign-in/code?next=%2Freferrals"
        assert client.get("/").status_code == 302
        code_page = client.get(response["Location"])
        assert code_page.status_code == 200 and 'autocomplete="one-time-code"' in code_page.content.decode()

        # Three wrong tries (five would lock the username: test_lockout).
        for wrong in ("000000" if authenticator.now() != "000000" else "111111", "12345", "abcdef"):
            refused = client.post("/sign-in/code", {"code": wrong, "next": "/referrals"})
            assert refused.status_code == 200, wrong
            assert "The code is not right" in error_summary_text(refused)
            assert client.get("/referrals").status_code == 302

        accepted = client.post("/sign-in/code", {"code": authenticator.now(), "next": "/referrals"})
        assert accepted.status_code == 302 and accepted["Location"] == "/referrals"
        assert client.get("/referrals").status_code == 200
        assert "user.second_factor_verified" in _actions(user)

        # The same code a second time (another browser) is refused: each code is used once.
        other = Client()
        sign_in(other, user.username)
        assert other.post("/sign-in/code", {"code": authenticator.now()}).status_code == 200
        assert other.get("/").status_code == 302


def test_without_the_requirement_only_users_who_set_up_an_app_are_asked(settings, make_user):
    settings.REQUIRE_SECOND_FACTOR = False
    plain, careful = make_user(Role.FIRST_RESPONDER), make_user(Role.FIRST_RESPONDER)
    second_factor_enrol(actor=careful, key=default_key())
    client = Client()
    assert sign_in(client, plain.username)["Location"] == "/"
    assert client.get("/").status_code == 200
    assert sign_in(Client(), careful.username)["Location"] == "/sign-in/code"


def test_replacing_the_app_needs_the_current_one(required, make_user):
    user = make_user(Role.FIRST_RESPONDER)
    second_factor_enrol(actor=user, key=default_key())
    client = Client()
    sign_in(client, user.username)
    response = client.get("/sign-in/authenticator-app")
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/code")


def test_two_administrators_reset_a_lost_second_factor_and_it_is_audited(required, make_user):
    user = make_user(Role.FIRST_RESPONDER)
    admin, second_admin = make_user(Role.ADMIN), make_user(Role.ADMIN)
    second_factor_enrol(actor=user, key=default_key())
    with pytest.raises(NotAllowed):
        second_factor_reset_request(actor=make_user(Role.AUDITOR), user=user)
    request = second_factor_reset_request(actor=admin, user=user)
    with pytest.raises(FourEyesRefused):  # one administrator alone cannot replace a user's second factor
        access_request_approve(actor=admin, access_request=request)
    assert TOTPDevice.objects.filter(user=user).exists()
    access_request_approve(actor=second_admin, access_request=request)
    assert not TOTPDevice.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="user.second_factor_reset")
    assert (event.actor_id, event.object_id, event.details["requested_by"]) == (
        second_admin.pk,
        str(user.pk),
        admin.username,
    )
    # At their next sign-in they set up a new one.
    assert sign_in(Client(), user.username)["Location"] == "/sign-in/authenticator-app"


def test_the_django_admin_resets_through_an_action_that_a_second_administrator_approves(make_user, web_client):
    user = make_user(Role.FIRST_RESPONDER)
    second_factor_enrol(actor=user, key=default_key())
    admin, second_admin = make_user(Role.ADMIN), make_user(Role.ADMIN)
    for staff in (admin, second_admin):
        staff.is_staff = True
        staff.save()
    response = web_client(admin).post(
        "/admin/accounts/user/", {"action": "request_second_factor_reset", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=user).exists()  # asked for, not yet done
    [request] = AccessRequest.objects.filter(user=user, status=AccessRequest.Status.PENDING)
    web_client(admin).post("/admin/accounts/accessrequest/", {"action": "approve", "_selected_action": [request.pk]})
    assert TOTPDevice.objects.filter(user=user).exists()  # the requester's own approval is refused
    web_client(second_admin).post(
        "/admin/accounts/accessrequest/", {"action": "approve", "_selected_action": [request.pk]}
    )
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="user.second_factor_reset", actor_id=second_admin.pk).count() == 1


def test_the_admin_site_signs_in_through_the_service_sign_in(db):
    response = Client().get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in?next=%2Fadmin%2Faccounts%2Fuser%2F"


# --- The API -------------------------------------------------------------------------------------------


def _token(body: dict):
    return Client().post("/api/v1/auth/token", body, content_type="application/json")


def test_an_api_token_needs_the_code_where_a_second_factor_is_required(required, make_user):
    user = make_user(Role.FIRST_RESPONDER)
    key = default_key()
    second_factor_enrol(actor=user, key=key)
    authenticator = totp_for_key(key)
    with time_machine.travel(dt.datetime.now(dt.UTC) + TOTP_STEP, tick=True):
        no_code = _token({"username": user.username, "password": PASSWORD})
        wrong_code = _token(
            {
                "username": user.username,
                "password": PASSWORD,
                "otp": "000000" if authenticator.now() != "000000" else "111111",
            }
        )
        wrong_password = _token({"username": user.username, "password": "not-it", "otp": authenticator.now()})
        assert no_code.status_code == wrong_code.status_code == wrong_password.status_code == 401
        # None of the three can be told apart from the others.
        assert no_code.json() == wrong_code.json() == wrong_password.json()
        # One code, sent twice: the clock ticks, and a new 30-second step would make a new, valid code.
        code = authenticator.now()
        good = _token({"username": user.username, "password": PASSWORD, "otp": code})
        assert good.status_code == 200, good.content
        assert (
            Client().get("/api/v1/referrals", headers={"Authorization": f"Bearer {good.json()['token']}"}).status_code
            == 200
        )
        # Used once.
        assert _token({"username": user.username, "password": PASSWORD, "otp": code}).status_code == 401


def test_an_api_token_for_a_user_who_has_not_set_up_a_second_factor_is_refused(required, make_user):
    user = make_user(Role.FIRST_RESPONDER)
    response = _token({"username": user.username, "password": PASSWORD, "otp": "123456"})
    assert response.status_code == 403
    assert "Set up a second factor" in response.json()["detail"]
    # Told only to someone with the right password.
    assert _token({"username": user.username, "password": "not-it"}).status_code == 401


def test_without_the_requirement_an_api_token_needs_no_code(settings, make_user):
    settings.REQUIRE_SECOND_FACTOR = False
    user = make_user(Role.FIRST_RESPONDER)
    assert _token({"username": user.username, "password": PASSWORD}).status_code == 200


def test_the_requirement_is_on_outside_the_embedded_demo():
    import subprocess
    import sys

    def required_with(env: dict) -> str:
        code = (
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'opennrm.settings'); django.setup(); "
            "from django.conf import settings; print(settings.REQUIRE_SECOND_FACTOR)"
        )
        import os

        clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENNRM_")}
        return subprocess.run(
            [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=True
        ).stdout.strip()

    assert required_with({}) == "False"  # the embedded demo: its built-in key
    assert required_with({"OPENNRM_SECRET_KEY": "x" * 60}) == "True"
    assert required_with({"OPENNRM_SECRET_KEY": "x" * 60, "OPENNRM_REQUIRE_SECOND_FACTOR": "0"}) == "False"
    assert required_with({"OPENNRM_REQUIRE_SECOND_FACTOR": "1"}) == "True"


def test_the_admin_site_signs_out_through_the_audited_sign_out(make_user, web_client):
    admin = make_user(Role.ADMIN)
    admin.is_staff = True
    admin.save()
    client = web_client(admin)
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/logout/")
    assert response.status_code == 302 and response["Location"] == "/sign-in"
    assert client.get("/admin/").status_code == 302
    assert AuditEvent.objects.filter(action="user.sign_out", actor_id=admin.pk).count() == 1
