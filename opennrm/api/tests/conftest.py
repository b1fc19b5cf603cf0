"""Signed-in API clients of the roles most tests use."""

import pytest

from opennrm.policy import Role


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Every API client signs in with a password; the production hasher's cost would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def first_responder(make_user):
    return make_user(Role.FIRST_RESPONDER)


@pytest.fixture
def fr_client(api_client, first_responder):
    return api_client(first_responder)
