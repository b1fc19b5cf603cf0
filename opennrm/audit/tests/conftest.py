import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # These tests are about the trail, not passwords: PBKDF2's 1.5M rounds would cost seconds a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
