"""Deployment check of the HTCDS exchange's key (`opennrm check --deploy`, ADR 0031).

A deployment that never exchanges needs no key, so a missing one is only noted (Info: `opennrm export-htcds`
refuses to run without it); a key that is too short or is another of the service's keys is a Warning."""

from django.conf import settings
from django.core.checks import Info, Tags, Warning, register

from opennrm.audit.keys import NEW_KEY_COMMAND

HINT = (
    f"Set it to a new random value of its own (`{NEW_KEY_COMMAND}`) and keep it: the pseudonymous ids each "
    "recipient holds are made with it."
)


@register(Tags.security, deploy=True)
def exchange_key_set(app_configs, **kwargs):
    key = getattr(settings, "EXCHANGE_KEY", "")
    if settings.EMBEDDED_DEMO:
        return []
    if not key:
        return [
            Info("OPENNRM_EXCHANGE_KEY is not set: `opennrm export-htcds` will not run.", hint=HINT, id="opennrm.I031")
        ]
    if len(key) < 32:
        problem = "is shorter than 32 characters"
    elif key in (settings.SECRET_KEY, settings.AUDIT_HMAC_KEY):
        problem = "is the same as another of the service's keys"
    else:
        return []
    return [
        Warning(f"OPENNRM_EXCHANGE_KEY {problem}: `opennrm export-htcds` will not run.", hint=HINT, id="opennrm.W031")
    ]
