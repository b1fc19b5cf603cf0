"""Signed checkpoints of the audit trail: every chain's head (position and HMAC) at a moment, signed with Ed25519
(ADR 0027). Kept outside the database, they catch what the chain alone cannot: the newest entries deleted *and*
the head row rewound to match.

A checkpoint is one JSON document:

    {"format": "opennrm-audit-checkpoint/1", "created_at": "2026-12-08T02:00:00.000000+00:00",
     "key_id": "<SHA-256 of the public key>", "chains": [{"chain": 0, "seq": 12, "hash": "<HMAC>"}, ...],
     "signature": "<Ed25519 signature, URL-safe base64, over the canonical JSON of everything else>"}
"""

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from django.conf import settings

from opennrm.core.errors import Refused

from .keys import key_id, signing_key

FORMAT = "opennrm-audit-checkpoint/1"
FILE_PREFIX = "audit-checkpoint-"


@dataclass(frozen=True)
class ChainMark:
    """A chain's head at the checkpoint: `seq` entries, the last with HMAC `hash`."""

    chain: int
    seq: int
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    created_at: dt.datetime
    chains: tuple[ChainMark, ...]

    @property
    def entries(self) -> int:
        return sum(mark.seq for mark in self.chains)


def _canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _unsigned_body(checkpoint: Checkpoint, key: str) -> dict:
    return {
        "format": FORMAT,
        "created_at": checkpoint.created_at.isoformat(timespec="microseconds"),
        "key_id": key,
        "chains": [{"chain": m.chain, "seq": m.seq, "hash": m.hash} for m in checkpoint.chains],
    }


def checkpoint_signed_json(checkpoint: Checkpoint) -> str:
    """The checkpoint as its file holds it, signed with this installation's key."""
    private_key = signing_key(settings.AUDIT_CHECKPOINT_SIGNING_KEY)
    body = _unsigned_body(checkpoint, key_id(private_key.public_key()))
    signature = private_key.sign(_canonical(body))
    return json.dumps({**body, "signature": base64.urlsafe_b64encode(signature).decode()}, indent=1) + "\n"


def checkpoint_file_name(created_at: dt.datetime) -> str:
    """Named by its time in UTC, so that the newest sorts last and no two are named alike."""
    return f"{FILE_PREFIX}{created_at.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}.json"


def newest_checkpoint_file(directory: Path) -> Path | None:
    files = sorted(directory.glob(f"{FILE_PREFIX}*.json"))
    return files[-1] if files else None


def checkpoint_path(against: Path) -> Path:
    """`--against`: a checkpoint file, or a directory meaning the newest checkpoint in it."""
    if against.is_dir():
        newest = newest_checkpoint_file(against)
        if newest is None:
            raise Refused(f"{against} holds no checkpoint (no {FILE_PREFIX}*.json file)")
        return newest
    return against


def checkpoint_read(path: Path) -> Checkpoint:
    """The checkpoint in `path` once its signature is found good with this installation's key."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise Refused(f"cannot read the checkpoint {path}: {exc.strerror}")
    except ValueError as exc:
        raise Refused(f"{path} is not a checkpoint: not JSON ({exc})")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise Refused(f"{path} is not a checkpoint: its format is not {FORMAT}")
    body = {k: v for k, v in document.items() if k != "signature"}
    public_key = signing_key(settings.AUDIT_CHECKPOINT_SIGNING_KEY).public_key()
    if body.get("key_id") != key_id(public_key):
        raise Refused(
            f"the checkpoint {path} was signed with another key (key id {body.get('key_id')!r}), not this installation's"
        )
    try:
        public_key.verify(base64.urlsafe_b64decode(str(document.get("signature", ""))), _canonical(body))
    except (InvalidSignature, ValueError):
        raise Refused(f"the checkpoint {path} does not match its signature: it was altered or forged")
    # Signed by us, so well formed; read strictly all the same.
    try:
        return Checkpoint(
            created_at=dt.datetime.fromisoformat(body["created_at"]),
            chains=tuple(ChainMark(int(m["chain"]), int(m["seq"]), str(m["hash"])) for m in body["chains"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise Refused(f"the checkpoint {path} is signed but malformed ({exc!r})")
