"""The audit trail's keys must be real secrets (ADR 0027). Not only a deployment check: `opennrm serve`, `migrate`
and every other command that runs Django's checks refuse to start without them."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from .keys import NEW_KEY_COMMAND, signing_key

MIN_HMAC_KEY_LENGTH = 32


def _published_or_derivable(key: str) -> bool:
    """A key containing SECRET_KEY (as the old default `SECRET_KEY + ":audit"` did) or the demo's published key."""
    return any(
        secret and secret in key
        for secret in (settings.SECRET_KEY, settings.DEMO_SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    )


@register(Tags.security)
def audit_keys(app_configs, **kwargs):
    problems = []
    hmac_key = settings.AUDIT_HMAC_KEY
    if not hmac_key:
        problems.append(
            Error(
                "The audit trail has no HMAC key (OPENNRM_AUDIT_HMAC_KEY is not set).",
                hint=f"Set OPENNRM_AUDIT_HMAC_KEY to a random value: {NEW_KEY_COMMAND}",
                id="opennrm.E010",
            )
        )
    elif len(hmac_key) < MIN_HMAC_KEY_LENGTH or _published_or_derivable(hmac_key):
        problems.append(
            Error(
                "The audit trail's HMAC key is "
                + (
                    "derived from SECRET_KEY or a published key."
                    if _published_or_derivable(hmac_key)
                    else "shorter than 32 characters."
                ),
                hint=f"Set OPENNRM_AUDIT_HMAC_KEY to a value of its own: {NEW_KEY_COMMAND}",
                id="opennrm.E010",
            )
        )
    key = settings.AUDIT_CHECKPOINT_SIGNING_KEY
    if not key:
        problems.append(
            Error(
                "The audit checkpoints have no signing key (OPENNRM_AUDIT_CHECKPOINT_SIGNING_KEY is not set).",
                hint=f"Set OPENNRM_AUDIT_CHECKPOINT_SIGNING_KEY to a new random key: {NEW_KEY_COMMAND}",
                id="opennrm.E011",
            )
        )
        return problems
    try:
        signing_key(key)
    except ValueError as exc:
        problems.append(Error(f"OPENNRM_AUDIT_CHECKPOINT_SIGNING_KEY is not a signing key: {exc}.", id="opennrm.E011"))
        return problems
    if key == hmac_key or _published_or_derivable(key):
        problems.append(
            Error(
                "The audit checkpoints' signing key is the HMAC key, or derived from SECRET_KEY or a published key.",
                hint=f"Set OPENNRM_AUDIT_CHECKPOINT_SIGNING_KEY to a key of its own: {NEW_KEY_COMMAND}",
                id="opennrm.E011",
            )
        )
    return problems
