"""Deployment checks of sign-in security (`opennrm check --deploy`, ADR 0010)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def sign_in_security(app_configs, **kwargs):
    problems = []
    if settings.EMBEDDED_DEMO:
        problems.append(
            Error(
                "The embedded demo's built-in secret key is in use.",
                hint="Set OPENNRM_SECRET_KEY to a long random value; the demo's key is public.",
                id="opennrm.E001",
            )
        )
    if not settings.REQUIRE_SECOND_FACTOR:
        problems.append(
            Warning(
                "Signing in does not require a second factor (OPENNRM_REQUIRE_SECOND_FACTOR is off).",
                hint="Leave OPENNRM_REQUIRE_SECOND_FACTOR unset (or 1) outside the demo.",
                id="opennrm.W001",
            )
        )
    if settings.IDLE_SIGN_OUT_SECONDS > 15 * 60:
        problems.append(
            Warning(
                f"Idle sessions are signed out after {settings.IDLE_SIGN_OUT_SECONDS} seconds, more than 15 minutes.",
                hint="Set OPENNRM_IDLE_SIGN_OUT_SECONDS to 900 or less.",
                id="opennrm.W002",
            )
        )
    if not settings.SIGN_IN_FAILURE_LIMIT:
        problems.append(
            Warning(
                "Repeated failed sign-ins never lock a username (OPENNRM_SIGN_IN_FAILURE_LIMIT is 0).",
                hint="Leave OPENNRM_SIGN_IN_FAILURE_LIMIT at 5, or another small number.",
                id="opennrm.W003",
            )
        )
    return problems
