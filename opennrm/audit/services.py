"""Writing the audit trail. Services call `audit_record` inside their own transaction.

The trail is spread over `settings.AUDIT_CHAINS` independent hash chains. A process thread keeps
to one chain, so a transaction locks at most one chain head and two writers wait for each other
only when they happen to share a chain.
"""

import ipaddress
import random
import threading
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .chain import GENESIS, entry_digest, hashed_fields
from .models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class Origin:
    """Where an action came from: the client's address and user agent, or a command's name."""

    ip_address: str | None = None
    user_agent: str = ""


current_origin: ContextVar[Origin] = ContextVar("opennrm_audit_origin", default=Origin(user_agent="opennrm command"))

_thread_chain = threading.local()


def _chain_for_this_thread() -> int:
    chain = getattr(_thread_chain, "chain", None)
    if chain is None or chain >= settings.AUDIT_CHAINS:
        chain = random.randrange(settings.AUDIT_CHAINS)
        _thread_chain.chain = chain
    return chain


def origin_from_request(request) -> Origin:
    raw_ip = request.META.get("REMOTE_ADDR") or None
    try:
        ip = str(ipaddress.ip_address(raw_ip)) if raw_ip else None
    except ValueError:
        ip = None
    return Origin(ip_address=ip, user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:200])


@dataclass(frozen=True)
class AuditEntry:
    action: str
    object_type: str = ""
    object_id: str = ""
    details: dict | None = None


def audit_record(*, actor, action: str, object_type: str = "", object_id: str = "", details: dict | None = None) -> AuditEvent:
    """Append one event. Must run inside the acting service's transaction."""
    return audit_record_many(actor=actor, entries=[AuditEntry(action, object_type, str(object_id), details)])[0]


def audit_record_many(*, actor, entries: list[AuditEntry]) -> list[AuditEvent]:
    """Append several events for one actor under a single chain lock (bulk imports)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the acting service's transaction")
    if not entries:
        return []
    origin = current_origin.get()
    chain = _chain_for_this_thread()
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(chain=chain, defaults={"seq": 0, "hash": GENESIS})
    prev_hash = head.hash or GENESIS
    seq = head.seq
    now = timezone.now()
    actor_id = getattr(actor, "pk", None)
    events = []
    for entry in entries:
        seq += 1
        event = AuditEvent(
            chain=chain,
            seq=seq,
            occurred_at=now,
            actor_id=actor_id,
            actor_username=getattr(actor, "username", "") or "",
            actor_role=getattr(actor, "role", "") or "",
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            ip_address=origin.ip_address,
            user_agent=origin.user_agent,
            details=entry.details or {},
            prev_hash=prev_hash,
        )
        event.hash = entry_digest(chain=chain, seq=seq, prev_hash=prev_hash, fields=hashed_fields(event))
        prev_hash = event.hash
        events.append(event)
    AuditEvent.objects.bulk_create(events)
    AuditChainHead.objects.filter(chain=chain).update(seq=seq, hash=prev_hash)
    return events
