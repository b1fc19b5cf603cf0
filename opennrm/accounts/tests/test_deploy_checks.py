"""`opennrm check --deploy` with production settings is clean, and says so when sign-in security is weakened."""

import os
import secrets
import subprocess
import sys
from pathlib import Path


OPENNRM = Path(sys.executable).parent / "opennrm"
# As .ci/run sets them.
PRODUCTION = {
    "OPENNRM_SECURE_COOKIES": "1",
    "OPENNRM_HSTS_SECONDS": "31536000",
    "OPENNRM_HSTS_INCLUDE_SUBDOMAINS": "1",
    "OPENNRM_HSTS_PRELOAD": "1",
    "OPENNRM_SSL_REDIRECT": "1",
    "OPENNRM_BEHIND_TLS_PROXY": "1",
    "OPENNRM_DEBUG": "0",
    "OPENNRM_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
}


def _check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENNRM_") and k != "DATABASE_URL"}
    return subprocess.run([str(OPENNRM), "check", "--deploy", "--fail-level", "WARNING"], capture_output=True, text=True, timeout=120,
                          env={**clean, "OPENNRM_VAR_DIR": str(tmp_path), **PRODUCTION, **env})


def test_production_settings_pass_the_deployment_checks(tmp_path):
    done = _check_deploy(tmp_path, OPENNRM_SECRET_KEY=secrets.token_urlsafe(64))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_demo_key_fails_them(tmp_path):
    done = _check_deploy(tmp_path)
    assert done.returncode != 0
    assert "opennrm.E001" in done.stdout + done.stderr


def test_weakened_sign_in_security_fails_them(tmp_path):
    done = _check_deploy(tmp_path, OPENNRM_SECRET_KEY=secrets.token_urlsafe(64), OPENNRM_REQUIRE_SECOND_FACTOR="0",
                         OPENNRM_IDLE_SIGN_OUT_SECONDS="3600", OPENNRM_SIGN_IN_FAILURE_LIMIT="0")
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert [check for check in ("opennrm.W001", "opennrm.W002", "opennrm.W003") if check not in said] == []
    assert "opennrm.E001" not in said


def test_email_written_to_files_fails_them(tmp_path):
    done = _check_deploy(tmp_path, OPENNRM_SECRET_KEY=secrets.token_urlsafe(64), OPENNRM_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend")
    assert done.returncode != 0
    assert "mail.E001" in done.stdout + done.stderr
