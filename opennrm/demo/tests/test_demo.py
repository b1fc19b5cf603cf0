"""`opennrm demo`: every sign-in, referrals in every status from every first responder, and safe to run twice."""

import io
import re
from collections import Counter

import pytest
from django.core.management import call_command
from django.test import Client

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.selectors import nrm_status_lookup
from opennrm.decisions.models import Decision
from opennrm.demo.loading import DEFAULT_PASSWORD, USERS
from opennrm.policy import Role
from opennrm.referrals.models import Referral, ReferralDraft, Status
from opennrm.referrals.selectors import drafts_for, referrals_visible_to

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = {
    "fr.police",
    "fr.localauthority",
    "fr.ngo",
    "sca.one",
    "sca.two",
    "ieca.one",
    "panel.islington",
    "la.croydon",
    "guardian.one",
    "immigration.one",
    "stats.one",
    "audit.one",
    "admin",
    "admin.two",
}


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Organisation, User, Referral, Decision, ReferralDraft, AuditEvent)
    }


@pytest.fixture
def demo(monkeypatch):
    monkeypatch.delenv("OPENNRM_DEMO_PASSWORD", raising=False)
    return run_demo()


def check_users(users: dict[str, User]) -> None:
    assert set(users) >= DEMO_USERNAMES
    expected_roles = {
        "fr.police": Role.FIRST_RESPONDER,
        "fr.localauthority": Role.FIRST_RESPONDER,
        "fr.ngo": Role.FIRST_RESPONDER,
        "sca.one": Role.SCA_DECISION_MAKER,
        "sca.two": Role.SCA_DECISION_MAKER,
        "ieca.one": Role.IECA_DECISION_MAKER,
        "panel.islington": Role.PANEL_DECISION_MAKER,
        "la.croydon": Role.LA_SOCIAL_WORKER,
        "guardian.one": Role.GUARDIAN,
        "immigration.one": Role.IMMIGRATION_OFFICER,
        "stats.one": Role.STATISTICIAN,
        "audit.one": Role.AUDITOR,
        "admin": Role.ADMIN,
        "admin.two": Role.ADMIN,
    }
    for username, role in expected_roles.items():
        user = users[username]
        assert user.role == role, username
        assert user.email == f"{username}@example.invalid"
        assert user.check_password(DEFAULT_PASSWORD)
        assert user.organisation is not None
    assert users["fr.police"].organisation.name == "Metropolitan Police Service"
    assert users["fr.localauthority"].organisation.name == "Croydon Council"
    assert users["sca.one"].organisation.competent_authority == "SCA"
    assert users["ieca.one"].organisation.competent_authority == "IECA"
    panel = users["panel.islington"].organisation
    assert (panel.local_authority, panel.competent_authority) == ("E09000019", "LOCAL_PANEL")
    assert users["la.croydon"].organisation.local_authority == "E09000008"
    covered = users["guardian.one"].organisation.covered_local_authorities
    assert "E09000008" in covered and "E08000003" in covered and "W06000015" in covered  # Croydon, Manchester, Cardiff
    assert all(users[name].is_staff and not users[name].is_superuser for name in ("admin", "admin.two"))


def test_demo_users_organisations_and_what_it_prints(demo):
    check_users({u.username: u for u in User.objects.select_related("organisation")})
    # Every user and organisation was made through the audited services.
    assert AuditEvent.objects.filter(action="user.create").count() == len(USERS)
    assert AuditEvent.objects.filter(action="organisation.create").count() == Organisation.objects.count()

    for username in DEMO_USERNAMES:
        assert re.search(rf"^{re.escape(username)}\s", demo, re.M), username
    assert f"Password for every demo user: {DEFAULT_PASSWORD}" in demo
    assert "http://127.0.0.1:8000" in demo
    reference = re.search(r"Home Office reference (HO-DEMO-\d+)", demo)[1]
    assert (
        len(nrm_status_lookup(actor=User.objects.get(username="immigration.one"), home_office_reference=reference)) == 1
    )

    for username in ("fr.police", "fr.localauthority", "fr.ngo", "sca.one", "la.croydon", "guardian.one"):
        assert referrals_visible_to(actor=User.objects.get(username=username)).exists(), username
    assert drafts_for(actor=User.objects.get(username="fr.police")).count() == 2


def test_demo_referrals_in_every_status_from_every_first_responder(demo):
    referrals = list(Referral.objects.select_related("organisation").prefetch_related("decisions"))
    assert 60 <= len(referrals) <= 120
    by_organisation = Counter((r.organisation.name, r.status) for r in referrals)
    for organisation in ("Metropolitan Police Service", "Croydon Council", "The Salvation Army"):
        for status in Status.values:
            assert by_organisation[(organisation, status)] >= 1, (organisation, status)
    ages = Counter(r.age_group for r in referrals)
    assert ages["child"] + ages["unknown"] > ages["adult"] and ages["unknown"] >= 1
    nationalities = Counter(r.potential_victim["nationalities"][0] for r in referrals)
    assert {"GBR", "ALB", "VNM", "ERI", "SDN"} <= set(nationalities)
    assert nationalities.most_common(1)[0][0] == "GBR"
    assert all(r.age_group == "adult" for r in referrals if r.status == Status.WITHDRAWN)
    assert any(r.potential_victim.get("age_disputed") for r in referrals)
    scripts = " ".join(r.potential_victim.get("names_in_original_script", "") for r in referrals)
    assert re.search("[\u1200-\u137f]", scripts) and re.search("[\u0600-\u06ff]", scripts)  # Ge'ez and Arabic
    assert {r.local_authority for r in referrals} >= {"E09000008", "E09000019"}
    assert (max(r.received_at for r in referrals) - min(r.received_at for r in referrals)).days > 300

    # Each status is the one its decisions lead to.
    for referral in referrals:
        decisions = list(referral.decisions.all())
        stages = [(d.stage, d.outcome) for d in decisions]
        match referral.status:
            case Status.AWAITING_REASONABLE_GROUNDS:
                assert stages == []
            case Status.RECOVERY_PERIOD | Status.AWAITING_CONCLUSIVE_GROUNDS:
                assert stages == [("reasonable_grounds", "positive")] and referral.recovery_period_ends_on
            case Status.CONCLUSIVE_GROUNDS_POSITIVE | Status.CONCLUSIVE_GROUNDS_NEGATIVE:
                assert stages[-1] == ("conclusive_grounds", referral.status.split("_")[-1])
            case Status.REASONABLE_GROUNDS_NEGATIVE:
                assert stages == [("reasonable_grounds", "negative")]
            case Status.RECONSIDERATION:
                assert stages[-1][1] == "negative"
        assert all(referral.received_at < d.decided_at for d in decisions)


def test_running_twice_changes_nothing_and_the_chosen_password_signs_in(monkeypatch):
    monkeypatch.setenv("OPENNRM_DEMO_PASSWORD", "a-chosen-demo-password")
    first = run_demo()
    assert "a-chosen-demo-password" in first
    before = counts()
    second = run_demo()
    assert counts() == before
    assert "Referrals: 0 created" in second and "already present" in second

    client = Client()
    assert client.post("/sign-in", {"username": "fr.police", "password": "a-chosen-demo-password"}).status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and "may be a child" in home.content.decode()  # an unfinished referral is listed
    assert (
        Client().post("/sign-in", {"username": "fr.police", "password": DEFAULT_PASSWORD}).status_code == 200
    )  # refused

    # A different password on a later run is set, audited, and nothing else changes.
    monkeypatch.setenv("OPENNRM_DEMO_PASSWORD", "second-demo-password")
    run_demo()
    assert User.objects.get(username="sca.two").check_password("second-demo-password")
    assert Referral.objects.count() == before["Referral"]
    changes = AuditEvent.objects.filter(action="user.change")
    assert changes.count() == len(USERS) and all(e.details["secrets"] == {"password": "changed"} for e in changes)
    # A new password ends the old one's API tokens and sessions.
    assert AuditEvent.objects.filter(action="user.access_revoked").count() == len(USERS)
