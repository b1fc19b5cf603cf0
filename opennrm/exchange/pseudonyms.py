"""Pseudonymous ids that differ per recipient (ADR 0031).

An id in an exchange file is HMAC-SHA256(recipient key, kind + ":" + the record's UUID), cut to 128 bits. The
recipient key is HMAC-SHA256(the exchange key, "opennrm-htcds-recipient:" + the recipient's name, case-folded), and
the exchange key is the setting EXCHANGE_KEY (environment OPENNRM_EXCHANGE_KEY). So:

- the same recipient gets the same ids in every export while the key is kept: they can follow a case over time;
- two recipients get unrelated ids for the same case: their files cannot be joined on the id;
- without the key nobody can go from an id back to a case, nor from a case to its id.

The embedded demo (no OPENNRM_SECRET_KEY) makes its own random key in var/ on first use, as the audit trail's
demo keys are made (audit/keys.py): never a constant in the code. A deployment must set the key; without it the
export refuses to run.
"""

import contextlib
import hashlib
import hmac
import json
import re

from django.conf import settings

from opennrm.audit.keys import NEW_KEY_COMMAND, create_file, new_key
from opennrm.core.errors import Refused

DEMO_KEY_FILE = "exchange-key.json"
RECIPIENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,99}$")


class ExchangeKeyMissing(Refused):
    """No exchange key is set: no export may be made, since ids without a secret key could be reversed."""


def exchange_key() -> bytes:
    key = getattr(settings, "EXCHANGE_KEY", "")
    if not key and settings.EMBEDDED_DEMO:
        path = settings.VAR_DIR / DEMO_KEY_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # another process made it first: use that one
                create_file(path, json.dumps({"exchange_key": new_key()}))
        key = json.loads(path.read_text(encoding="utf-8"))["exchange_key"]
    if not key or len(key) < 32 or key in (settings.SECRET_KEY, settings.AUDIT_HMAC_KEY):
        raise ExchangeKeyMissing(
            "Set OPENNRM_EXCHANGE_KEY to a secret of its own of at least 32 characters (make one with "
            f"`{NEW_KEY_COMMAND}`), and keep it: the pseudonymous ids each recipient holds are made with it."
        )
    return key.encode()


def recipient_name(name: str) -> str:
    """The recipient as given, checked: letters, digits, spaces and . _ ( ) -, up to 100 characters."""
    name = " ".join((name or "").split())
    if not RECIPIENT.match(name):
        raise ValueError(
            "Name the recipient with letters, digits, spaces and . _ ( ) - only, up to 100 characters, "
            "such as CTDC or 'Ministry of Justice NL'"
        )
    return name


def recipient_key(key: bytes, recipient: str) -> bytes:
    return hmac.new(key, f"opennrm-htcds-recipient:{recipient.casefold()}".encode(), hashlib.sha256).digest()


def pseudonym(recipient_key: bytes, kind: str, uuid) -> str:
    return hmac.new(recipient_key, f"{kind}:{uuid}".encode(), hashlib.sha256).hexdigest()[:32]
