"""Running `opennrm` in a subprocess with production-like settings (as .ci/run sets them), for the deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

from opennrm.audit.keys import new_key

OPENNRM = Path(sys.executable).parent / "opennrm"
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


def fresh_keys() -> dict[str, str]:
    """A deployment's own secret key and audit keys, new each time, as .ci/run makes them."""
    return {
        "OPENNRM_SECRET_KEY": new_key() + new_key(),
        "OPENNRM_AUDIT_HMAC_KEY": new_key(),
        "OPENNRM_AUDIT_CHECKPOINT_SIGNING_KEY": new_key(),
    }


def run_opennrm(args: list[str], var_dir, **env) -> subprocess.CompletedProcess:
    """`opennrm ARGS` with none of this environment's OPENNRM_ settings or DATABASE_URL, but PRODUCTION and `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENNRM_") and k != "DATABASE_URL"}
    return subprocess.run(
        [str(OPENNRM), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, "OPENNRM_VAR_DIR": str(var_dir), **PRODUCTION, **env},
    )
