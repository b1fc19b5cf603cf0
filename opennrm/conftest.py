"""Fixtures shared by every test: organisations, users of each role, API clients and referral bodies."""

import copy
import json

import pytest
from django.test import Client

from opennrm.accounts.models import Organisation, OrganisationKind, User
from opennrm.api.tests.openapi_answers import check_answer
from opennrm.policy import Role
from opennrm.tests.mail import smtp_sink  # noqa: F401  (a real SMTP server, for any test that sends mail)

PASSWORD = "test-password-for-opennrm"

VALID_CHILD_REFERRAL = {
    "nation": "ENG",
    "first_responder_reference": "CRO-2026-0042",
    "potential_victim": {
        "given_names": "Thi Anh",
        "family_name": "Nguyen",
        "aliases": ["Anh Nguyen", "Annie"],
        "names_in_original_script": "Nguyễn Thị Ánh",
        "date_of_birth": "2010-03-01",
        "date_of_birth_precision": "day",
        "age_group": "child",
        "age_disputed": False,
        "sex": "female",
        "nationalities": ["VNM"],
        "languages": ["vi"],
        "interpreter_needed": True,
        "home_office_reference": None,
        "current_address": "Flat 1, 1 Example Road, Croydon",
        "phone": "020 7946 0000",
    },
    "local_authority_contact": {
        "local_authority": "E09000008",
        "name": "Duty social worker",
        "contacted_at": "2026-11-27T10:15:00Z",
    },
    "consent": None,
    "exploitation": [
        {
            "types": ["criminal"],
            "criminal_subtypes": ["cannabis_cultivation"],
            "location": "uk_and_overseas",
            "uk_towns": ["Croydon"],
            "countries": ["VNM", "FRA"],
            "started_on": "2025-06-01",
            "ended_on": None,
            "ongoing": True,
            "account": "Kept in a house and made to tend plants.",
        }
    ],
    "indicators": ["Found locked inside a cannabis farm"],
    "police": {"force": "Metropolitan Police Service", "crime_reference": "6029384/26"},
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Tests make and sign in many users; PBKDF2's 1.5M rounds would cost about a second each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_process_caches():
    # Routing rules and guardian coverage are cached per process (core/cache.py); a test's own rows
    # must not meet an earlier test's cache.
    from opennrm.core.cache import forget_all

    forget_all()
    yield
    forget_all()


@pytest.fixture
def unthrottled_status_lookups(settings):
    """The NRM status lookup's per-user limit off: the generated tests look up every canary's reference as one
    officer, and must see every answer (the throttle has its own tests, web/tests/test_nrm_status_lookup.py)."""
    settings.NRM_STATUS_LOOKUPS_PER_MINUTE = settings.NRM_STATUS_LOOKUPS_PER_HOUR = 0


@pytest.fixture
def child_referral_body():
    return copy.deepcopy(VALID_CHILD_REFERRAL)


@pytest.fixture
def adult_referral_body():
    body = copy.deepcopy(VALID_CHILD_REFERRAL)
    body["potential_victim"].update(age_group="adult", date_of_birth="1990-05-04")
    body["local_authority_contact"] = None
    body["consent"] = {"given": True, "recorded_at": "2026-11-27T09:00:00Z"}
    return body


# Each role's typical organisation, matching the demo's (contract section 8).
ROLE_ORGANISATIONS = {
    Role.FIRST_RESPONDER: dict(name="Metropolitan Police Service", kind=OrganisationKind.POLICE),
    Role.SCA_DECISION_MAKER: dict(
        name="Single Competent Authority", kind=OrganisationKind.COMPETENT_AUTHORITY, competent_authority="SCA"
    ),
    Role.IECA_DECISION_MAKER: dict(
        name="Immigration Enforcement Competent Authority",
        kind=OrganisationKind.COMPETENT_AUTHORITY,
        competent_authority="IECA",
    ),
    Role.PANEL_DECISION_MAKER: dict(
        name="Islington multi-agency panel",
        kind=OrganisationKind.LOCAL_PANEL,
        local_authority="E09000019",
        competent_authority="LOCAL_PANEL",
    ),
    Role.LA_SOCIAL_WORKER: dict(
        name="Croydon children's services", kind=OrganisationKind.LOCAL_AUTHORITY, local_authority="E09000008"
    ),
    Role.GUARDIAN: dict(
        name="Independent Child Trafficking Guardians (Croydon)",
        kind=OrganisationKind.GUARDIAN_SERVICE,
        covered_local_authorities=["E09000008"],
    ),
    Role.IMMIGRATION_OFFICER: dict(name="Immigration Enforcement", kind=OrganisationKind.IMMIGRATION_ENFORCEMENT),
    Role.STATISTICIAN: dict(name="Home Office Analysis and Insight", kind=OrganisationKind.STATISTICS),
    Role.AUDITOR: dict(name="OpenNRM audit", kind=OrganisationKind.AUDIT),
    Role.ADMIN: dict(name="OpenNRM service administration", kind=OrganisationKind.ADMINISTRATION),
    Role.DATA_QUALITY_OFFICER: dict(name="OpenNRM data quality", kind=OrganisationKind.DATA_QUALITY),
}


@pytest.fixture
def make_user(db):
    from opennrm.safeguarding.guardians import seed_guardian_coverage
    from opennrm.safeguarding.models import GuardianCoverage

    # Guardian coverage is seeded by a migration; a transactional test's flush empties it for the tests after.
    if not GuardianCoverage.objects.exists():
        seed_guardian_coverage()

    def make(role: str, username: str | None = None, organisation: Organisation | None = None, **org_overrides) -> User:
        if organisation is None:
            spec = {**ROLE_ORGANISATIONS[Role(role)], **org_overrides}
            organisation, _ = Organisation.objects.get_or_create(name=spec.pop("name"), defaults=spec)
        return User.objects.create_user(
            username=username or f"{role}.{User.objects.count() + 1}",
            password=PASSWORD,
            email=f"{username or role}@example.invalid",
            organisation=organisation,
            role=role,
        )

    return make


class ApiClient:
    """A test client that signs in through POST /api/v1/auth/token, as a real client would."""

    def __init__(self, user: User | None):
        self.client = Client()
        self.headers = {}
        if user is not None:
            response = self.client.post(
                "/api/v1/auth/token", {"username": user.username, "password": PASSWORD}, content_type="application/json"
            )
            assert response.status_code == 200, response.content
            check_answer("POST", "/api/v1/auth/token", response)
            self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    # Every answer is checked against the schema the OpenAPI document publishes for its operation and status code
    # (api/tests/openapi_answers.py): so every API test also proves the document describes what it was answered.

    def get(self, path, **params):
        response = self.client.get(path, params, headers=self.headers)
        check_answer("GET", path, response)
        return response

    def post(self, path, body=None, *, raw: bytes | str | None = None, headers=None):
        data = raw if raw is not None else json.dumps(body)
        response = self.client.post(
            path, data, content_type="application/json", headers={**self.headers, **(headers or {})}
        )
        check_answer("POST", path, response)
        return response


@pytest.fixture
def api_client(db):
    return ApiClient


@pytest.fixture
def web_client(db):
    """A page client signed in as the given user."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


# --- Transactional tests and the append-only audit trail -----------------------------------------
# After a transactional test (transactional_db, live_server, django_db(transaction=True)) pytest-django
# empties every table with DELETE (SQLite) or TRUNCATE (PostgreSQL). The audit trail's triggers
# (audit/0002) refuse both, so the flush would fail. Lift them for that flush only, as a database
# administrator would, and put them back straight after, so every other test runs against the same
# refusing table production has.


def _uses_transactional_db(item) -> bool:
    from pytest_django.fixtures import validate_django_db

    marker = item.get_closest_marker("django_db")
    if marker is not None:
        transaction, reset_sequences, *_ = validate_django_db(marker)
        if transaction or reset_sequences:
            return True
    names = getattr(item, "fixturenames", ())
    return any(name in names for name in ("transactional_db", "live_server", "django_db_reset_sequences"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    from opennrm.audit.tests.append_only import lift_append_only, restore_append_only

    lifted_on = None
    if _uses_transactional_db(item):
        try:
            lift_append_only(connection)
            lifted_on = connection.settings_dict["NAME"]
        except RuntimeError:
            pass  # the database was never opened for this test (setup failed or skipped): nothing to flush
    try:
        return (yield)
    finally:
        # After the last test the test database is gone and the connection points at the real one again.
        if lifted_on is not None and connection.settings_dict["NAME"] == lifted_on:
            with item.config.stash[blocking_manager_key].unblock():
                restore_append_only(connection)


@pytest.fixture(autouse=True)
def statistics_publication_dir(settings, tmp_path):
    # Releases built from the pages keep their files here (STATISTICS_PUBLICATION_DIR): never the real var/.
    settings.STATISTICS_PUBLICATION_DIR = tmp_path / "statistics-publication"
    return settings.STATISTICS_PUBLICATION_DIR
