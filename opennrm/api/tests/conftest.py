"""Signed-in API clients of the roles most tests use."""

import pytest

from opennrm.policy import Role


@pytest.fixture
def first_responder(make_user):
    return make_user(Role.FIRST_RESPONDER)


@pytest.fixture
def fr_client(api_client, first_responder):
    return api_client(first_responder)
