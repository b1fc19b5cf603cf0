"""The HMAC hash chain shared by the writer (services) and the checker (verify)."""

import hashlib
import hmac
import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENESIS = "0" * 64


def entry_digest(*, chain: int, seq: int, prev_hash: str, fields: dict) -> str:
    """HMAC-SHA256 over the previous entry's HMAC and this entry's canonical fields."""
    body = json.dumps(
        {"chain": chain, "seq": seq, "prev": prev_hash, **fields},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    if not settings.AUDIT_HMAC_KEY:
        # The check opennrm.E010 stops `opennrm serve`; this stops anything started without the checks (a bare gunicorn).
        raise ImproperlyConfigured(
            "OPENNRM_AUDIT_HMAC_KEY is not set: the audit trail cannot be written or checked without it"
        )
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), body.encode(), hashlib.sha256).hexdigest()


def hashed_fields(event) -> dict:
    """The fields of an AuditEvent the HMAC covers (everything but its position and hashes)."""
    return {
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "details": event.details,
    }
