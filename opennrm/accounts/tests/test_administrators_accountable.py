"""Administrators are accountable (issue 22, point 3): the attack replayed, and every admin page's writes in the audit chain.

The attack: an administrator set `fr.police`'s password in Django's admin, took an API token as them and read
children's records, with only `django_admin_log` to show for it; and made themselves a Croydon social worker
account, with nobody else involved.
"""

import datetime as dt
import email
import io
import itertools
import re
import urllib.parse

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone

from opennrm.accounts.admin import AuditedAdmin
from opennrm.accounts.models import (
    AccessRequest,
    Organisation,
    OrganisationKind,
    PasswordResetEmail,
    SignInLock,
    Team,
    User,
)
from opennrm.accounts.services import (
    FourEyesRefused,
    access_request_approve,
    organisation_save,
    password_reset_link_send,
    user_save,
)
from opennrm.audit.models import AuditEvent
from opennrm.audit.services import object_type_of
from opennrm.conftest import PASSWORD, ROLE_ORGANISATIONS
from opennrm.decisions.models import RoutingRule, RoutingRuleKind
from opennrm.policy import Role, referral_scope
from opennrm.tests.mail import run_worker
from opennrm.workdays.models import ClosureDay

from .support import sign_in

NEW_PASSWORD = "a-new-password-only-I-know-2026"
_numbers = itertools.count(1)


def _staff(user: User) -> User:
    user.is_staff = True  # Django's admin site needs it; the role decides what may be done there
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def administrators(make_user):
    return _staff(make_user(Role.ADMIN, username="admin.one")), _staff(make_user(Role.ADMIN, username="admin.two"))


def _audit_verify() -> int:
    try:
        call_command("audit", "verify", stdout=io.StringIO(), stderr=io.StringIO())
    except SystemExit as exit_:
        return exit_.code
    return 0


# --- Every registered admin page: add, change and delete reach the audit chain, with before and after -----------


def _organisation(kind=OrganisationKind.NGO):
    return Organisation.objects.create(name=f"Sample organisation {next(_numbers)}", kind=kind)


# For each registered model an administrator may write: an unsaved sample, and a change to make to it. A model
# registered tomorrow without an entry here fails the test until one is added, and then its audit is checked.
SAMPLES = {
    Organisation: (
        lambda: Organisation(name=f"Sample organisation {next(_numbers)}", kind=OrganisationKind.NGO),
        ("email", "ngo@example.invalid"),
    ),
    Team: (
        lambda: Team(organisation=_organisation(), name=f"Sample team {next(_numbers)}"),
        ("email", "team@example.invalid"),
    ),
    User: (
        lambda: User(
            username=f"sample.{next(_numbers)}",
            email="sample@example.invalid",
            role=Role.STATISTICIAN,
            organisation=_organisation(OrganisationKind.STATISTICS),
        ),
        ("first_name", "Renamed"),
    ),
    ClosureDay: (
        lambda: ClosureDay(date=dt.date(2027, 3, next(_numbers) % 28 + 1), nation="WLS", description="Sample closure"),
        ("description", "Changed closure"),
    ),
    RoutingRule: (
        lambda: RoutingRule(
            kind=RoutingRuleKind.LOCAL_PANEL_PILOT_AREA,
            local_authority="E09000008",
            effective_from=dt.date(2027, 4, 1),
            description="Sample rule",
        ),
        ("description", "Changed rule"),
    ),
}


def _admin_request(user: User):
    request = RequestFactory().post("/admin/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _events(instance) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type=object_type_of(instance), object_id=str(instance.pk)).order_by(
            "occurred_at", "seq"
        )
    )


def test_every_admin_page_that_writes_puts_each_add_change_and_delete_in_the_audit_chain_with_before_and_after(
    administrators,
):
    administrator, _ = administrators
    request = _admin_request(administrator)
    checked = []
    for model, model_admin in admin.site._registry.items():
        probe = SAMPLES[model][0]() if model in SAMPLES else None
        may = {
            "add": model_admin.has_add_permission(request),
            "change": model_admin.has_change_permission(request, probe),
            "delete": model_admin.has_delete_permission(request, probe),
        }
        if not any(may.values()):
            continue  # read-only for administrators (sign-in locks and access requests change only by audited actions)
        assert model in SAMPLES, (
            f"{model.__name__}'s admin page writes: add a sample to SAMPLES so that its audit is checked"
        )
        assert isinstance(model_admin, AuditedAdmin), f"{model.__name__}'s admin page must write through AuditedAdmin"
        for method in ("delete_model", "delete_queryset", "save_related"):
            assert getattr(type(model_admin), method) is getattr(AuditedAdmin, method), (
                f"{model.__name__}'s admin overrides {method}"
            )
        make, (field, new_value) = SAMPLES[model]

        obj = make()
        if may["add"]:
            model_admin.save_model(request, obj, form=None, change=False)
            [created] = [event for event in _events(obj) if event.action.endswith(".create")]
            assert created.action.endswith(".create") and created.actor_id == administrator.pk
            assert created.details["before"] == {} and created.details["after"]["id"] == obj.pk
        else:
            obj.save()
        if may["change"]:
            old_value = getattr(obj, field)
            setattr(obj, field, new_value)
            model_admin.save_model(request, obj, form=None, change=True)
            changed = _events(obj)[-1]
            assert changed.action.endswith(".change")
            assert (changed.details["before"][field], changed.details["after"][field]) == (old_value, new_value)
            assert "password" not in changed.details["before"] and "password" not in changed.details["after"]
        if may["delete"]:
            pk = obj.pk
            model_admin.delete_model(request, obj)
            assert not model.objects.filter(pk=pk).exists()
            obj.pk = pk
            deleted = _events(obj)[-1]
            assert (
                deleted.action.endswith(".delete")
                and deleted.details["before"]["id"] == pk
                and deleted.details["after"] == {}
            )
            bulk = [make(), make()]
            for each in bulk:
                each.save()
            model_admin.delete_queryset(request, model.objects.filter(pk__in=[each.pk for each in bulk]))
            assert all(_events(each)[-1].action.endswith(".delete") for each in bulk)
        checked.append(model)
    assert {Organisation, Team, User, ClosureDay, RoutingRule} <= set(checked)
    assert _audit_verify() == 0


def test_an_administrator_uses_every_admin_page(administrators, make_user):
    administrator, _ = administrators
    client = Client()
    client.force_login(administrator)
    request = _admin_request(administrator)
    user = make_user(Role.FIRST_RESPONDER)
    ClosureDay.objects.create(date=dt.date(2027, 2, 2), nation="", description="Closed")
    RoutingRule.objects.create(
        kind=RoutingRuleKind.LOCAL_PANEL_PILOT_AREA,
        local_authority="E09000019",
        effective_from=dt.date(2027, 1, 1),
        description="x",
    )
    SignInLock.objects.create(
        kind="username", key="someone", locked_at=timezone.now(), locked_until=timezone.now() + dt.timedelta(minutes=5)
    )
    password_reset_link_send(actor=administrator, user=user)
    AccessRequest.objects.create(
        kind=AccessRequest.Kind.SECOND_FACTOR_RESET, user=user, requested_by=administrator, requested_at=timezone.now()
    )
    assert client.get("/admin/").status_code == 200
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_permission(request):
            continue
        info = f"/admin/{model._meta.app_label}/{model._meta.model_name}"
        assert client.get(f"{info}/").status_code == 200, model
        if model_admin.has_add_permission(request):
            assert client.get(f"{info}/add/").status_code == 200, model
        first = model.objects.first()
        if first is not None:
            assert client.get(f"{info}/{first.pk}/change/").status_code == 200, model
    # The add forms, posted as a browser would: each write is in the chain.
    organisation = client.post(
        "/admin/accounts/organisation/add/",
        {
            "name": "Sutton Council",
            "kind": "local_authority",
            "local_authority": "E09000029",
            "competent_authority": "",
            "covered_local_authorities": "[]",
            "email": "",
            "is_active": "on",
        },
    )
    assert organisation.status_code == 302, organisation.content
    sutton = Organisation.objects.get(name="Sutton Council")
    assert (
        AuditEvent.objects.get(action="organisation.create", object_id=str(sutton.pk)).details["after"][
            "local_authority"
        ]
        == "E09000029"
    )
    change = client.post(
        f"/admin/accounts/organisation/{sutton.pk}/change/",
        {
            "name": "Sutton Council",
            "kind": "local_authority",
            "local_authority": "E09000029",
            "competent_authority": "",
            "covered_local_authorities": "[]",
            "email": "nrm@sutton.invalid",
            "is_active": "on",
        },
    )
    assert change.status_code == 302
    event = AuditEvent.objects.get(action="organisation.change", object_id=str(sutton.pk))
    assert (event.details["before"], event.details["after"]) == ({"email": ""}, {"email": "nrm@sutton.invalid"})
    closure = client.post(
        "/admin/workdays/closureday/add/", {"date": "2027-03-03", "nation": "", "description": "Office move"}
    )
    assert (
        closure.status_code == 302
        and AuditEvent.objects.filter(action="closure_day.create", actor_id=administrator.pk).exists()
    )
    day = ClosureDay.objects.get(description="Office move")
    deleted = client.post(
        "/admin/workdays/closureday/", {"action": "delete_selected", "_selected_action": [day.pk], "post": "yes"}
    )
    assert deleted.status_code == 302 and not ClosureDay.objects.filter(pk=day.pk).exists()
    assert (
        AuditEvent.objects.get(action="closure_day.delete", object_id=str(day.pk)).details["before"]["description"]
        == "Office move"
    )
    assert _audit_verify() == 0


# --- Passwords: never chosen by an administrator; a link, which ends the old tokens and sessions ---------------


def test_an_administrator_cannot_set_another_users_password(administrators, make_user):
    administrator, _ = administrators
    police = make_user(Role.FIRST_RESPONDER, username="fr.police")
    client = Client()
    client.force_login(administrator)
    page = client.get(f"/admin/accounts/user/{police.pk}/password/")
    assert page.status_code == 200
    assert 'type="password"' not in page.content.decode() and "Send the link" in page.content.decode()
    # Django's own password form's fields, posted anyway: the password does not change, a link is sent instead.
    response = client.post(
        f"/admin/accounts/user/{police.pk}/password/",
        {"password1": "chosen-by-the-admin-1", "password2": "chosen-by-the-admin-1", "usable_password": "true"},
    )
    assert response.status_code == 302
    police.refresh_from_db()
    assert police.check_password(PASSWORD) and not police.check_password("chosen-by-the-admin-1")
    assert PasswordResetEmail.objects.filter(user=police, requested_by=administrator).count() == 1
    assert AuditEvent.objects.filter(
        action="user.password_reset_link_requested", actor_id=administrator.pk, object_id=str(police.pk)
    ).exists()
    # Nor on a new account: the add form has no password, and one posted is ignored.
    organisation = (
        Organisation.objects.get(name=ROLE_ORGANISATIONS[Role.STATISTICIAN]["name"])
        if Organisation.objects.filter(name=ROLE_ORGANISATIONS[Role.STATISTICIAN]["name"]).exists()
        else _organisation(OrganisationKind.STATISTICS)
    )
    add_form = client.get("/admin/accounts/user/add/").content.decode()
    assert 'type="password"' not in add_form
    client.post(
        "/admin/accounts/user/add/",
        {
            "username": "stats.new",
            "email": "stats.new@example.invalid",
            "organisation": organisation.pk,
            "role": Role.STATISTICIAN,
            "password1": "chosen-by-the-admin-1",
            "password2": "chosen-by-the-admin-1",
        },
    )
    new = User.objects.get(username="stats.new")
    assert not new.has_usable_password() and PasswordResetEmail.objects.filter(user=new).count() == 1


def _link_from(raw_email: str) -> str:
    """The link in the email's body, decoded as a mail client would (the body is quoted-printable)."""
    body = email.message_from_string(raw_email).get_payload(decode=True).decode()
    found = re.search(r"http://\S+/password-reset/\S+", body)
    assert found, body
    return urllib.parse.urlsplit(found[0]).path


@pytest.mark.django_db(transaction=True)
def test_a_reset_link_lets_the_user_set_their_password_and_ends_their_old_api_tokens_and_sessions(
    make_user, api_client, smtp_sink
):
    smtp_sink.start()
    administrator = _staff(make_user(Role.ADMIN, username="admin.one"))
    police = make_user(Role.FIRST_RESPONDER, username="fr.police")
    old_api = api_client(police)
    assert old_api.get("/api/v1/referrals").status_code == 200
    old_session = Client()
    sign_in(old_session, "fr.police")
    assert old_session.get("/referrals").status_code == 200

    password_reset_link_send(actor=administrator, user=police)
    run_worker()
    [(to, text)] = smtp_sink.emails_with_subject("Set your OpenNRM password")
    assert to == [police.email]
    link = _link_from(text)

    browser = Client()
    opened = browser.get(link)
    assert opened.status_code == 302 and opened["Location"].endswith(
        "/set-password"
    )  # the token leaves the address bar
    form = browser.get(opened["Location"])
    assert form.status_code == 200 and "Set your password" in form.content.decode()
    refused = browser.post(opened["Location"], {"new_password1": "short", "new_password2": "short"})
    assert refused.status_code == 200 and "This password is too short" in refused.content.decode()
    done = browser.post(opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/sign-in"

    assert old_api.get("/api/v1/referrals").status_code == 401  # the old token is over
    assert old_session.get("/referrals")["Location"].startswith("/sign-in")  # and so is the old session
    assert sign_in(Client(), "fr.police", NEW_PASSWORD).status_code == 302
    assert Client().get(link).status_code == 404  # a link works once
    revoked = AuditEvent.objects.get(action="user.access_revoked", object_id=str(police.pk))
    assert revoked.details["api_tokens_revoked"] == 1
    password_set = AuditEvent.objects.get(action="user.password_set", object_id=str(police.pk))
    assert password_set.details["secrets"] == {"password": "changed"} and "pbkdf2" not in str(password_set.details)
    assert AuditEvent.objects.filter(action="user.password_reset_email_sent", object_id=str(police.pk)).count() == 1
    assert _audit_verify() == 0


def test_a_link_that_is_not_right_says_so(make_user):
    police = make_user(Role.FIRST_RESPONDER)
    for path in ("/password-reset/xx/yy", "/password-reset/MQ/set-password", f"/password-reset/{police.pk}/abc-def"):
        response = Client().get(path)
        assert response.status_code == 404 and "does not work" in response.content.decode()


def test_deactivating_a_user_ends_their_api_tokens_and_sessions(administrators, make_user, api_client):
    administrator, _ = administrators
    police = make_user(Role.FIRST_RESPONDER)
    api = api_client(police)
    session = Client()
    session.force_login(police)
    police.is_active = False
    user_save(actor=administrator, user=police)
    User.objects.filter(pk=police.pk).update(is_active=True)  # even active again, the old token and session stay ended
    assert api.get("/api/v1/referrals").status_code == 401
    assert session.get("/referrals")["Location"].startswith("/sign-in")
    assert (
        AuditEvent.objects.get(action="user.access_revoked", object_id=str(police.pk)).details["reason"]
        == "deactivated"
    )


# --- Four eyes on access that sees case content -------------------------------------------------------------


def test_an_administrator_who_makes_themselves_a_social_worker_sees_nothing_until_a_second_administrator_approves(
    administrators, make_user, api_client, child_referral_body
):
    administrator, second = administrators
    referral_id = (
        api_client(make_user(Role.FIRST_RESPONDER)).post("/api/v1/referrals", child_referral_body).json()["id"]
    )  # a Croydon child
    croydon = Organisation.objects.create(**ROLE_ORGANISATIONS[Role.LA_SOCIAL_WORKER])
    client = Client()
    client.force_login(administrator)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "kim.croydon",
            "email": "kim@example.invalid",
            "organisation": croydon.pk,
            "role": Role.LA_SOCIAL_WORKER,
        },
    )
    assert response.status_code == 302
    account = User.objects.get(username="kim.croydon")
    assert account.role == "" and referral_scope(account) is None  # no case access yet
    [request] = AccessRequest.objects.filter(user=account, status=AccessRequest.Status.PENDING)
    assert (request.role, request.organisation_id, request.requested_by_id) == (
        Role.LA_SOCIAL_WORKER,
        croydon.pk,
        administrator.pk,
    )

    # They set its password through the link (the email is theirs), and sign in: nothing of the child.
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    link = f"/password-reset/{urlsafe_base64_encode(force_bytes(account.pk))}/{default_token_generator.make_token(account)}"
    browser = Client()
    browser.post(browser.get(link)["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    sign_in(browser, "kim.croydon", NEW_PASSWORD)
    assert browser.get(f"/referrals/{referral_id}").status_code == 404

    # The requester cannot approve their own request, through the service or the admin page.
    with pytest.raises(FourEyesRefused):
        access_request_approve(actor=administrator, access_request=request)
    client.post("/admin/accounts/accessrequest/", {"action": "approve", "_selected_action": [request.pk]})
    request.refresh_from_db()
    assert (
        request.status == AccessRequest.Status.PENDING and browser.get(f"/referrals/{referral_id}").status_code == 404
    )

    second_client = Client()
    second_client.force_login(second)
    second_client.post("/admin/accounts/accessrequest/", {"action": "approve", "_selected_action": [request.pk]})
    request.refresh_from_db()
    account.refresh_from_db()
    assert (request.status, request.decided_by_id, account.role) == (
        AccessRequest.Status.APPROVED,
        second.pk,
        Role.LA_SOCIAL_WORKER,
    )
    assert browser.get(f"/referrals/{referral_id}").status_code == 200
    granted = AuditEvent.objects.get(action="user.access_granted", object_id=str(account.pk))
    assert granted.actor_id == second.pk and granted.details["requested_by"] == administrator.username
    assert (granted.details["before"]["role"], granted.details["after"]["role"]) == ("", Role.LA_SOCIAL_WORKER)
    assert _audit_verify() == 0


def test_widening_an_existing_account_waits_too_and_an_administrator_cannot_approve_about_themselves(
    administrators, make_user
):
    administrator, second = administrators
    statistician = make_user(Role.STATISTICIAN)
    croydon = Organisation.objects.create(**ROLE_ORGANISATIONS[Role.LA_SOCIAL_WORKER])
    statistician.role, statistician.organisation = Role.LA_SOCIAL_WORKER, croydon
    user_save(actor=administrator, user=statistician)
    statistician.refresh_from_db()
    assert statistician.role == Role.STATISTICIAN and statistician.organisation_id != croydon.pk
    # An administrator widening their own account: another asked, but they may not approve what is about them.
    second.role = Role.GUARDIAN
    user_save(actor=administrator, user=second)
    second.refresh_from_db()
    assert second.role == Role.ADMIN
    about_themselves = AccessRequest.objects.get(user=second, status=AccessRequest.Status.PENDING)
    with pytest.raises(FourEyesRefused):
        access_request_approve(actor=second, access_request=about_themselves)
    # Granting the administrator role needs two as well: otherwise one administrator could make a second to approve for them.
    helper = make_user(Role.STATISTICIAN)
    helper.role = Role.ADMIN
    user_save(actor=administrator, user=helper)
    helper.refresh_from_db()
    assert (
        helper.role == Role.STATISTICIAN
        and AccessRequest.objects.filter(user=helper, role=Role.ADMIN, status="pending").exists()
    )
    # Narrowing is applied at once.
    statistician.role = Role.STATISTICIAN
    statistician.first_name = "Renamed"
    user_save(actor=administrator, user=statistician)
    statistician.refresh_from_db()
    assert statistician.first_name == "Renamed"


def test_a_user_changing_their_own_password_ends_their_other_sessions_and_tokens_but_not_this_one(
    make_user, api_client
):
    police = make_user(Role.FIRST_RESPONDER, username="fr.police")
    api = api_client(police)
    here, elsewhere = Client(), Client()
    sign_in(here, "fr.police")
    sign_in(elsewhere, "fr.police")
    page = here.get("/account/password")
    assert page.status_code == 200 and "Your current password" in page.content.decode()
    wrong = here.post(
        "/account/password", {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert wrong.status_code == 200 and "incorrectly" in wrong.content.decode()
    assert AuditEvent.objects.filter(action="user.password_change_failed").count() == 1  # counts towards the lock-out
    done = here.post(
        "/account/password", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert here.get("/referrals").status_code == 200
    assert elsewhere.get("/referrals")["Location"].startswith("/sign-in")
    assert api.get("/api/v1/referrals").status_code == 401
    assert AuditEvent.objects.get(action="user.password_set").details["how"] == "changed_by_user"


def test_widening_what_an_organisation_covers_waits_for_a_second_administrator(
    administrators, make_user, api_client, child_referral_body
):
    administrator, second = administrators
    referral_id = (
        api_client(make_user(Role.FIRST_RESPONDER)).post("/api/v1/referrals", child_referral_body).json()["id"]
    )  # a Croydon child
    sutton = Organisation.objects.create(
        name="Sutton children's services", kind=OrganisationKind.LOCAL_AUTHORITY, local_authority="E09000029"
    )
    social_worker = make_user(Role.LA_SOCIAL_WORKER, organisation=sutton)
    browser = Client()
    browser.force_login(social_worker)
    assert browser.get(f"/referrals/{referral_id}").status_code == 404
    # Pointing Sutton's account at Croydon's children is a grant of access to them, whoever holds the accounts.
    sutton.local_authority, sutton.email = "E09000008", "sutton@example.invalid"
    organisation_save(actor=administrator, organisation=sutton)
    sutton.refresh_from_db()
    assert (sutton.local_authority, sutton.email) == (
        "E09000029",
        "sutton@example.invalid",
    )  # the rest is applied at once
    assert browser.get(f"/referrals/{referral_id}").status_code == 404
    request = AccessRequest.objects.get(
        organisation=sutton, kind=AccessRequest.Kind.ORGANISATION_SCOPE, status="pending"
    )
    assert request.scope == {"local_authority": "E09000008"}
    with pytest.raises(FourEyesRefused):
        access_request_approve(actor=administrator, access_request=request)
    access_request_approve(actor=second, access_request=request)
    sutton.refresh_from_db()
    assert sutton.local_authority == "E09000008" and browser.get(f"/referrals/{referral_id}").status_code == 200
    granted = AuditEvent.objects.get(action="organisation.scope_granted", object_id=str(sutton.pk))
    assert (granted.details["before"], granted.details["after"]) == (
        {"local_authority": "E09000029"},
        {"local_authority": "E09000008"},
    )
    # An organisation with nobody who sees case content changes at once.
    empty = Organisation.objects.create(
        name="New LA", kind=OrganisationKind.LOCAL_AUTHORITY, local_authority="E09000029"
    )
    empty.local_authority = "E09000008"
    organisation_save(actor=administrator, organisation=empty)
    empty.refresh_from_db()
    assert empty.local_authority == "E09000008"


def test_the_password_page_of_a_user_that_does_not_exist_is_not_found(administrators):
    client = Client()
    client.force_login(administrators[0])
    for id_ in ("999999", "not-a-number"):
        assert client.get(f"/admin/accounts/user/{id_}/password/").status_code == 404
        assert client.post(f"/admin/accounts/user/{id_}/password/").status_code == 404
