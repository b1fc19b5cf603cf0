"""The audit keys are never a published value or derivable from one (ADR 0027): production refuses to start without
its own, and the embedded demo makes random ones of its own, kept in var/."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.test import override_settings

from opennrm.audit.models import AuditEvent
from opennrm.audit.services import audit_record
from opennrm.tests.deploy import fresh_keys, run_opennrm

DEMO_SECRET_KEY = settings.DEMO_SECRET_KEY


def _without(keys: dict, *names: str) -> dict:
    return {k: v for k, v in keys.items() if k not in names}


def test_production_without_audit_keys_fails_the_checks(tmp_path):
    done = run_opennrm(
        ["check"], tmp_path, **_without(fresh_keys(), "OPENNRM_AUDIT_HMAC_KEY", "OPENNRM_AUDIT_CHECKPOINT_SIGNING_KEY")
    )
    said = done.stdout + done.stderr
    assert done.returncode == 1
    assert "opennrm.E010" in said and "OPENNRM_AUDIT_HMAC_KEY is not set" in said
    assert "opennrm.E011" in said and "OPENNRM_AUDIT_CHECKPOINT_SIGNING_KEY is not set" in said
    assert "secrets.token_urlsafe(32)" in said  # the hint says how to make one


def test_production_refuses_to_serve_without_audit_keys(tmp_path):
    done = run_opennrm(["serve", "--port", "8999"], tmp_path, **_without(fresh_keys(), "OPENNRM_AUDIT_HMAC_KEY"))
    assert done.returncode == 1
    assert "opennrm.E010" in done.stderr
    assert "serving" not in done.stdout


@pytest.mark.parametrize(
    "make_key, check",
    [
        (lambda secret: secret + ":audit", "opennrm.E010"),  # the old default
        (lambda secret: DEMO_SECRET_KEY + ":audit", "opennrm.E010"),
        (lambda secret: "short", "opennrm.E010"),
    ],
    ids=["secret-key-plus-audit", "demo-key-plus-audit", "too-short"],
)
def test_an_hmac_key_derivable_from_a_secret_or_too_short_fails_the_checks(tmp_path, make_key, check):
    keys = fresh_keys()
    done = run_opennrm(["check"], tmp_path, **{**keys, "OPENNRM_AUDIT_HMAC_KEY": make_key(keys["OPENNRM_SECRET_KEY"])})
    assert done.returncode == 1
    assert check in done.stderr
    assert "opennrm.E011" not in done.stderr


@pytest.mark.parametrize(
    "value, says",
    [
        ("not-a-key", "is not a signing key: it must be 32 random bytes in URL-safe base64"),
        (None, "signing key is the HMAC key"),
    ],
    ids=["not-a-key", "same-as-hmac-key"],
)
def test_a_bad_checkpoint_signing_key_fails_the_checks(tmp_path, value, says):
    keys = fresh_keys()
    done = run_opennrm(
        ["check"], tmp_path, **{**keys, "OPENNRM_AUDIT_CHECKPOINT_SIGNING_KEY": value or keys["OPENNRM_AUDIT_HMAC_KEY"]}
    )
    assert done.returncode == 1
    assert "opennrm.E011" in done.stderr and says in done.stderr


def test_production_with_its_own_audit_keys_passes_the_checks(tmp_path):
    done = run_opennrm(["check"], tmp_path, **fresh_keys())
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "audit-keys.json").exists()  # nothing generated outside the demo


def _demo_keys(var_dir) -> tuple[str, str]:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'opennrm.settings'); django.setup(); "
        "from django.conf import settings; print(settings.AUDIT_HMAC_KEY); print(settings.AUDIT_CHECKPOINT_SIGNING_KEY)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENNRM_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "OPENNRM_VAR_DIR": str(var_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    hmac_key, signing_key = done.stdout.split()
    return hmac_key, signing_key


def test_the_embedded_demo_makes_its_own_random_keys_and_keeps_them(tmp_path):
    first = _demo_keys(tmp_path / "one")
    assert _demo_keys(tmp_path / "one") == first  # kept in var/, so the trail still verifies after a restart
    other = _demo_keys(tmp_path / "two")
    assert other[0] != first[0] and other[1] != first[1]  # random, not a constant in the code
    assert DEMO_SECRET_KEY not in first[0] and first[0] != first[1]
    kept = tmp_path / "one" / "audit-keys.json"
    assert json.loads(kept.read_text()) == {"hmac_key": first[0], "checkpoint_signing_key": first[1]}
    assert kept.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert run_opennrm(["check"], tmp_path / "one").returncode == 0  # the demo's own keys pass


def test_without_an_hmac_key_nothing_is_written_even_where_the_checks_did_not_run(db):
    # A bare gunicorn runs no system checks: the trail itself refuses rather than chain entries with an empty key.
    with (
        override_settings(AUDIT_HMAC_KEY=""),
        pytest.raises(ImproperlyConfigured, match="OPENNRM_AUDIT_HMAC_KEY is not set"),
        transaction.atomic(),
    ):
        audit_record(actor=None, action="test.unkeyed")
    assert not AuditEvent.objects.exists()
