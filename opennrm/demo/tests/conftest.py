import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The demo hashes its password once per run; the default hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
