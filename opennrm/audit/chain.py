"""The HMAC hash chain shared by the writer (services) and the checker (verify)."""

import hashlib
import hmac
import json

from django.conf import settings

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
