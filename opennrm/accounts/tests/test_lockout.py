"""Lock-out after repeated failed sign-ins: pages and API alike, without telling which usernames exist."""

import datetime as dt
import sqlite3
import threading
import time

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection, connections
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from opennrm.accounts.models import SignInFailure, SignInLock
from opennrm.accounts.services import second_factor_enrol, sign_in_lock_lift, user_sign_in_unlock
from opennrm.audit.models import AuditEvent
from opennrm.conftest import PASSWORD
from opennrm.core.errors import NotAllowed
from opennrm.policy import Role

from .support import error_summary_text, sign_in

LOCKED = "too many failed attempts"


def _fail(username: str, times: int, address: str = "127.0.0.1") -> None:
    for _ in range(times):
        response = sign_in(Client(), username, password="not-the-password", address=address)
        assert response.status_code == 200


def _signs_in(username: str, address: str = "127.0.0.1") -> bool:
    response = sign_in(Client(), username, address=address)
    return response.status_code == 302


def test_five_failures_lock_the_username_even_against_the_right_password(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    _fail(user.username, 4)
    assert _signs_in(user.username), "four failures do not lock"
    # A success in between does not wipe the count: five failures within the window lock.
    _fail(user.username, 1)
    refused = sign_in(Client(), user.username)
    assert refused.status_code == 200
    assert LOCKED in error_summary_text(refused)
    lock = SignInLock.objects.get(kind=SignInLock.Kind.USERNAME)
    assert lock.key == user.username.casefold()
    assert AuditEvent.objects.filter(action="sign_in.locked", object_id=str(lock.pk)).count() == 1
    assert AuditEvent.objects.filter(action="sign_in.refused_locked").count() == 1
    # A differently typed username is the same one.
    assert not _signs_in(user.username.upper())


def test_the_lock_ends_after_fifteen_minutes_and_counting_starts_again(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    _fail(user.username, 5)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=14), tick=True):
        assert not _signs_in(user.username)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15, seconds=5), tick=True):
        assert _signs_in(user.username)
        # The failures that made the first lock do not count towards the next one.
        _fail(user.username, 1)
        assert _signs_in(user.username)


def test_failures_spread_wider_than_the_window_do_not_lock(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    start = dt.datetime.now(dt.UTC)
    for minute in (0, 4, 8, 12, 16, 20):
        with time_machine.travel(start + dt.timedelta(minutes=minute), tick=True):
            _fail(user.username, 1)
    with time_machine.travel(start + dt.timedelta(minutes=21), tick=True):
        assert _signs_in(user.username)


def test_no_answer_tells_whether_a_username_exists(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    wrong_existing = sign_in(Client(), user.username, password="not-it")
    wrong_unknown = sign_in(Client(), "nobody.at.all", password="not-it")
    assert (
        error_summary_text(wrong_existing)
        == error_summary_text(wrong_unknown)
        == "The username or password is not right"
    )
    _fail(user.username, 5)
    _fail("nobody.at.all", 4)
    locked_existing = sign_in(Client(), user.username)
    locked_unknown = sign_in(Client(), "nobody.at.all", password="anything-at-all")
    assert LOCKED in error_summary_text(locked_existing)
    assert error_summary_text(locked_existing) == error_summary_text(locked_unknown)
    api_existing = Client().post(
        "/api/v1/auth/token", {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    api_unknown = Client().post(
        "/api/v1/auth/token", {"username": "nobody.at.all", "password": "x"}, content_type="application/json"
    )
    assert api_existing.status_code == api_unknown.status_code == 429
    assert api_existing.json() == api_unknown.json()


def test_the_api_counts_and_honours_the_same_lock(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    for attempt in range(1, 6):
        response = Client().post(
            "/api/v1/auth/token", {"username": user.username, "password": "wrong"}, content_type="application/json"
        )
        # The failure that locks says so at once.
        assert response.status_code == (429 if attempt == 5 else 401)
    locked = Client().post(
        "/api/v1/auth/token", {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert locked.status_code == 429
    assert LOCKED in locked.json()["detail"]
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert not _signs_in(user.username), "a lock made through the API holds for the pages too"


def test_wrong_codes_count_with_wrong_passwords(settings, make_user):
    settings.REQUIRE_SECOND_FACTOR = True
    user = make_user(Role.FIRST_RESPONDER)
    second_factor_enrol(actor=user, key=default_key())
    _fail(user.username, 3)
    client = Client()
    assert sign_in(client, user.username)["Location"] == "/sign-in/code"
    assert client.post("/sign-in/code", {"code": "000000"}).status_code == 200
    locked = client.post("/sign-in/code", {"code": "000001"})
    # The fifth failure locks: the half-signed-in session ends, and the sign-in page says why.
    assert locked.status_code == 302 and locked["Location"] == "/sign-in"
    assert LOCKED in client.get("/sign-in").content.decode()
    assert client.get("/").status_code == 302
    assert not _signs_in(user.username)


def test_an_administrator_unlocks_and_it_is_audited(make_user, web_client):
    user = make_user(Role.FIRST_RESPONDER)
    admin = make_user(Role.ADMIN)
    _fail(user.username, 5)
    assert not _signs_in(user.username)
    with pytest.raises(NotAllowed):
        user_sign_in_unlock(actor=user, user=user)
    assert user_sign_in_unlock(actor=admin, user=user) == 1
    assert _signs_in(user.username)
    event = AuditEvent.objects.get(action="sign_in.unlock")
    assert event.actor_id == admin.pk and event.details["key"] == user.username.casefold()
    assert (event.details["before"]["unlocked_by_id"], event.details["after"]["unlocked_by_id"]) == (None, admin.pk)


def test_the_django_admin_lifts_locks(make_user, web_client):
    user = make_user(Role.FIRST_RESPONDER)
    admin = make_user(Role.ADMIN)
    admin.is_staff = True
    admin.save()
    _fail(user.username, 5)
    staff = web_client(admin)
    listing = staff.get("/admin/accounts/signinlock/")
    assert listing.status_code == 200 and user.username.casefold() in listing.content.decode()
    response = staff.post("/admin/accounts/user/", {"action": "unlock_sign_in", "_selected_action": [user.pk]})
    assert response.status_code == 302
    assert _signs_in(user.username)
    # And a lock by address, through the locks' own page.
    lock = SignInLock.objects.create(
        kind=SignInLock.Kind.ADDRESS,
        key="192.0.2.7",
        locked_at=dt.datetime.now(dt.UTC),
        locked_until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15),
    )
    assert not _signs_in(user.username, address="192.0.2.7")
    staff.post("/admin/accounts/signinlock/", {"action": "lift", "_selected_action": [lock.pk]})
    assert _signs_in(user.username, address="192.0.2.7")


def test_many_usernames_failing_from_one_address_lock_the_address(settings, make_user):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 6
    user = make_user(Role.FIRST_RESPONDER)
    for n in range(6):
        _fail(f"guess.{n}", 1, address="192.0.2.10")
    assert not _signs_in(user.username, address="192.0.2.10")
    assert _signs_in(user.username, address="192.0.2.11")
    assert SignInLock.objects.filter(kind=SignInLock.Kind.ADDRESS, key="192.0.2.10").exists()


def test_a_lifted_lock_stays_lifted(make_user):
    user, admin = make_user(Role.FIRST_RESPONDER), make_user(Role.ADMIN)
    _fail(user.username, 5)
    lock = SignInLock.objects.get()
    sign_in_lock_lift(actor=admin, lock=lock)
    sign_in_lock_lift(actor=admin, lock=lock)
    assert AuditEvent.objects.filter(action="sign_in.unlock").count() == 1
    _fail(user.username, 4)
    assert _signs_in(user.username)


# --- Parallel guesses (issue 22, point 5) ------------------------------------------------------------

PARALLEL_GUESSES = 10


@pytest.fixture
def counted_password_checks(monkeypatch):
    """The number of passwords the hasher actually checks. Each check is slowed to the cost of a real PBKDF2
    check (the tests hash with MD5 for speed), so that parallel guesses overlap as they would in production."""
    checks = []
    verify = MD5PasswordHasher.verify

    def counted_verify(self, password, encoded):
        checks.append(password)
        time.sleep(0.3)
        return verify(self, password, encoded)

    monkeypatch.setattr(MD5PasswordHasher, "verify", counted_verify)
    return checks


@pytest.fixture
def database_for_threads(tmp_path):
    """On SQLite, the test database copied into a file for the test, as a deployment's is: the in-memory test
    database's shared cache refuses a second writer ("database table is locked") where a file makes it wait."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    connection.ensure_connection()
    memory = connection.connection
    path = tmp_path / "test.sqlite3"
    copy = sqlite3.connect(path)
    memory.backup(copy)
    copy.close()
    name = connection.settings_dict["NAME"]
    # Every thread's connection is made from this same settings dict; Django never closes an in-memory
    # database's connection (that would destroy it), so it is put aside and given back afterwards.
    connection.settings_dict["NAME"], connection.connection = str(path), None
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"], connection.connection = name, memory


def _all_at_once(attempt, times: int) -> list:
    """`attempt()` from `times` threads released together, each with its own database connection; their answers."""
    start = threading.Barrier(times)
    answers, errors = [], []

    def run():
        try:
            start.wait()
            answers.append(attempt())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an attempt is stuck (deadlock?)"
    assert errors == []
    return answers


def _token_request(username: str, password: str):
    return Client().post(
        "/api/v1/auth/token", {"username": username, "password": password}, content_type="application/json"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("through", ["pages", "api"])
def test_parallel_wrong_guesses_check_no_more_passwords_than_the_limit(
    settings, database_for_threads, make_user, counted_password_checks, through
):
    limit = settings.SIGN_IN_FAILURE_LIMIT
    user = make_user(Role.FIRST_RESPONDER)
    if through == "pages":
        answers = _all_at_once(
            lambda: sign_in(Client(), user.username, password="not-the-password").status_code, PARALLEL_GUESSES
        )
        assert answers == [200] * PARALLEL_GUESSES
    else:
        answers = _all_at_once(lambda: _token_request(user.username, "not-the-password").status_code, PARALLEL_GUESSES)
        assert set(answers) <= {401, 429} and 429 in answers

    assert len(counted_password_checks) <= limit, (
        f"{len(counted_password_checks)} passwords checked against a limit of {limit}"
    )
    assert SignInFailure.objects.filter(username_key=user.username.casefold()).count() <= limit
    assert SignInLock.objects.filter(kind=SignInLock.Kind.USERNAME, key=user.username.casefold()).count() == 1
    # Every guess is in the audit trail: as a failure, or as a refusal without a check.
    failed = AuditEvent.objects.filter(
        action="api_token.refused" if through == "api" else "user.sign_in_failed"
    ).count()
    refused = AuditEvent.objects.filter(action__in=("sign_in.refused_locked", "sign_in.refused_limit_reached")).count()
    assert (failed, failed + refused) == (len(counted_password_checks), PARALLEL_GUESSES)

    checked = len(counted_password_checks)
    assert not _signs_in(user.username), "the right password after the lock is refused"
    assert _token_request(user.username, PASSWORD).status_code == 429
    assert len(counted_password_checks) == checked, "while locked, no password is checked at all"


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_codes_check_no_more_codes_than_the_limit(
    settings, database_for_threads, make_user, monkeypatch
):
    settings.REQUIRE_SECOND_FACTOR = True
    limit = settings.SIGN_IN_FAILURE_LIMIT
    user = make_user(Role.FIRST_RESPONDER)
    second_factor_enrol(actor=user, key=default_key())
    checks = []
    verify_token = TOTPDevice.verify_token

    def counted_verify_token(self, token):
        checks.append(token)
        time.sleep(0.1)
        return verify_token(self, token)

    monkeypatch.setattr(TOTPDevice, "verify_token", counted_verify_token)
    # Signed in with the password (not counted here), each session now asked for its code.
    sessions = []
    for _ in range(PARALLEL_GUESSES):
        client = Client()
        client.force_login(user)
        sessions.append(client)
    guesses = iter(sessions)
    answers = _all_at_once(
        lambda: next(guesses).post("/sign-in/code", {"code": "000000"}).status_code, PARALLEL_GUESSES
    )

    assert set(answers) <= {200, 302}
    assert len(checks) <= limit, f"{len(checks)} codes checked against a limit of {limit}"
    assert SignInLock.objects.filter(kind=SignInLock.Kind.USERNAME, key=user.username.casefold()).count() == 1
    assert _token_request(user.username, PASSWORD).status_code == 429
