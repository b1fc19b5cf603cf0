"""Deployment check of the HTCDS exchange's key (`opennrm check --deploy`, ADR 0031)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

from opennrm.audit.keys import NEW_KEY_COMMAND


@register(Tags.security, deploy=True)
def exchange_key_set(app_configs, **kwargs):
    key = getattr(settings, "EXCHANGE_KEY", "")
    if settings.EMBEDDED_DEMO:
        return []
    if len(key) < 32:
        problem = "is not set" if not key else "is shorter than 32 characters"
    elif key in (settings.SECRET_KEY, settings.AUDIT_HMAC_KEY):
        problem = "is the same as another of the service's keys"
    else:
        return []
    return [
        Warning(
            f"OPENNRM_EXCHANGE_KEY {problem}: `opennrm export-htcds` will not run.",
            hint=f"Set it to a new random value of its own (`{NEW_KEY_COMMAND}`) and keep it: the pseudonymous ids "
            "each recipient holds are made with it.",
            id="opennrm.W031",
        )
    ]
