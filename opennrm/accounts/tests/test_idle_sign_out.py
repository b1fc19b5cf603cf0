"""Idle sign-out: on the server, after 15 minutes without a request, with the user brought back to where they were."""

import datetime as dt
import html

import time_machine
from django.test import Client
from django.urls import reverse

from opennrm.audit.models import AuditEvent
from opennrm.policy import Role
from opennrm.referrals.services import draft_save, draft_start

from .support import sign_in


def _at(start: dt.datetime, minutes: float):
    return time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False)


def test_fifteen_minutes_without_a_request_signs_out_and_the_next_page_asks_to_sign_in(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    client = Client()
    start = dt.datetime.now(dt.UTC)
    with _at(start, 0):
        sign_in(client, user.username)
        assert client.get("/referrals").status_code == 200
    with _at(start, 15.2):
        response = client.get("/referrals?status=withdrawn")
        assert response.status_code == 302
        assert response["Location"] == "/sign-in?next=%2Freferrals%3Fstatus%3Dwithdrawn"
        page = client.get(response["Location"])
        assert "You were signed out because you had not done anything for 15 minutes" in html.unescape(
            page.content.decode()
        )
        assert client.get("/").status_code == 302, "signed out for good, not for one request"
    assert AuditEvent.objects.filter(action="user.sign_out_idle", actor_id=user.pk).count() == 1


def test_activity_keeps_the_session(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    client = Client()
    start = dt.datetime.now(dt.UTC)
    with _at(start, 0):
        sign_in(client, user.username)
    for minute in (10, 20, 30, 44):
        with _at(start, minute):
            assert client.get("/").status_code == 200, minute
    with _at(start, 59.5):
        assert client.get("/").status_code == 302


def test_asking_how_long_is_left_does_not_extend_the_session_but_staying_signed_in_does(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    client = Client()
    start = dt.datetime.now(dt.UTC)
    with _at(start, 0):
        sign_in(client, user.username)
        client.get("/")
    with _at(start, 13):
        status = client.get("/session").json()
        assert status["signed_in"] and 110 <= status["seconds_left"] <= 120
        assert status["warning_seconds"] == 120
    with _at(start, 14):
        kept = client.post("/session/keep-alive", headers={"Accept": "application/json"})
        assert kept.json() == {"signed_in": True, "seconds_left": 900}
    with _at(start, 28):
        assert client.get("/").status_code == 200
    with _at(start, 43.5):
        assert client.get("/session").json() == {"signed_in": False, "seconds_left": 0, "warning_seconds": 120}
        assert client.get("/").status_code == 302


def test_without_javascript_stay_signed_in_returns_to_the_page(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    client = Client()
    sign_in(client, user.username)
    response = client.post("/session/keep-alive", {"next": "/referrals"})
    assert response.status_code == 302 and response["Location"] == "/referrals"


def test_the_warning_dialog_is_on_every_signed_in_page_and_hidden_without_javascript(make_user, settings):
    settings.IDLE_SIGN_OUT_SECONDS, settings.IDLE_WARNING_SECONDS = 600, 90
    client = Client()
    sign_in(client, make_user(Role.FIRST_RESPONDER).username)
    page = client.get("/referrals").content.decode()
    assert '<dialog class="opennrm-timeout-dialog" id="timeout-warning"' in page
    assert 'data-timeout-seconds="600" data-warning-seconds="90"' in page
    assert "timeout-warning" not in Client().get("/sign-in").content.decode()


def test_the_timeout_warning_signs_out_and_comes_back_to_the_page(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    client = Client()
    sign_in(client, user.username)
    response = client.post("/sign-out", {"reason": "idle", "next": "/referrals?page=2"})
    assert response["Location"] == "/sign-in?next=%2Freferrals%3Fpage%3D2"
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="user.sign_out_idle", actor_id=user.pk).count() == 1
    # Somewhere else is not a place to come back to.
    assert Client().post("/sign-out", {"reason": "idle", "next": "https://example.invalid/"})["Location"] == "/sign-in"


def test_signing_in_again_returns_to_the_half_written_referral_with_its_answers(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    draft = draft_start(actor=user)
    draft_save(
        actor=user,
        draft=draft,
        answers={
            "referral": {"first_responder_reference": "IDLE-2026-0001"},
            "typed": {},
            "pages_saved": ["reference"],
        },
    )
    page = reverse("web:draft-page", args=[draft.uuid, "reference"])
    client = Client()
    start = dt.datetime.now(dt.UTC)
    with _at(start, 0):
        sign_in(client, user.username)
        assert client.get(page).status_code == 200
    with _at(start, 16):
        to_sign_in = client.get(page)
        assert to_sign_in.status_code == 302
        back = sign_in(client, user.username, next_url=to_sign_in["Location"].split("next=")[1].replace("%2F", "/"))
        assert back.status_code == 302 and back["Location"] == page
        assert "IDLE-2026-0001" in client.get(page).content.decode()
