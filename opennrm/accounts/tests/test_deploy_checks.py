"""`opennrm check --deploy` with production settings is clean, and says so when sign-in security is weakened."""

from opennrm.tests.deploy import fresh_keys, run_opennrm


def _check_deploy(tmp_path, **env):
    return run_opennrm(["check", "--deploy", "--fail-level", "WARNING"], tmp_path, **env)


def test_production_settings_pass_the_deployment_checks(tmp_path):
    done = _check_deploy(tmp_path, **fresh_keys())
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_demo_key_fails_them(tmp_path):
    done = _check_deploy(tmp_path)
    assert done.returncode != 0
    assert "opennrm.E001" in done.stdout + done.stderr


def test_weakened_sign_in_security_fails_them(tmp_path):
    done = _check_deploy(
        tmp_path,
        **fresh_keys(),
        OPENNRM_REQUIRE_SECOND_FACTOR="0",
        OPENNRM_IDLE_SIGN_OUT_SECONDS="3600",
        OPENNRM_SIGN_IN_FAILURE_LIMIT="0",
    )
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert [check for check in ("opennrm.W001", "opennrm.W002", "opennrm.W003") if check not in said] == []
    assert "opennrm.E001" not in said


def test_email_written_to_files_fails_them(tmp_path):
    done = _check_deploy(
        tmp_path, **fresh_keys(), OPENNRM_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend"
    )
    assert done.returncode != 0
    assert "mail.E001" in done.stdout + done.stderr
