"""The audit trail's keys: the chains' HMAC key and the checkpoints' Ed25519 signing key (ADR 0027).

Imported by settings.py, so nothing here may need Django's settings.
"""

import base64
import hashlib
import json
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

KEY_BYTES = 32
# What an operator runs to make either key; the checks' hints say so.
NEW_KEY_COMMAND = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
DEMO_KEYS_FILE = "audit-keys.json"


def create_file(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Write a new file whole or not at all, never replacing one of that name (FileExistsError).

    Written beside it under another name, then linked into place: a link fails if the name exists, and a
    reader never meets a half-written file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    finally:
        os.unlink(temporary)


def embedded_demo_keys(var_dir: Path) -> dict[str, str]:
    """The embedded demo's own random keys, made on first use and kept in var/: never a constant in the code,
    never derived from the (published) demo SECRET_KEY."""
    path = var_dir / DEMO_KEYS_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        keys = {"hmac_key": new_key(), "checkpoint_signing_key": new_key()}
        try:
            create_file(path, json.dumps(keys))
        except FileExistsError:
            pass  # another process (the web server and the worker start together) made them first: use those
    return json.loads(path.read_text(encoding="utf-8"))


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).rstrip(b"=").decode()


def signing_key(value: str) -> Ed25519PrivateKey:
    """The Ed25519 private key written as 32 bytes of URL-safe base64 (what NEW_KEY_COMMAND prints)."""
    try:
        raw = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except ValueError:
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ValueError(f"it must be {KEY_BYTES} random bytes in URL-safe base64, as `{NEW_KEY_COMMAND}` prints")
    return Ed25519PrivateKey.from_private_bytes(raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A public key's name in a checkpoint: the SHA-256 of its raw bytes."""
    return hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()
