"""Reading organisations and sign-in state. Neither is case data, so these reads are not scoped or audited."""

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.policy import SECOND_FACTOR_ROLES

from .models import Organisation, OrganisationKind, SignInLock, User


def guardian_services_covering(local_authority: str) -> list[Organisation]:
    """The active independent child trafficking guardian services that cover this local authority (GSS code)."""
    if not local_authority:
        return []
    services = Organisation.objects.filter(kind=OrganisationKind.GUARDIAN_SERVICE, is_active=True).order_by("name")
    # Filtered here rather than with a JSON `contains` lookup, which SQLite does not support; there are few services.
    return [s for s in services if local_authority in (s.covered_local_authorities or [])]


def username_key(username: str) -> str:
    """A username as counted for lock-out: "Fr.Police " and "fr.police" are one."""
    return (username or "").strip().casefold()[:150]


def sign_in_lock_active(*, username: str, ip_address: str | None) -> SignInLock | None:
    """The lock in force on this username or client address, if any (whether or not the username exists)."""
    keys = Q(kind=SignInLock.Kind.USERNAME, key=username_key(username))
    if ip_address:
        keys |= Q(kind=SignInLock.Kind.ADDRESS, key=ip_address)
    return (
        SignInLock.objects.filter(keys, locked_until__gt=timezone.now(), unlocked_at__isnull=True)
        .order_by("-locked_until")
        .first()
    )


def second_factor_device(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if they have set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def second_factor_needed(user: User) -> bool:
    """Whether this user must give a code after their password: always once they have set one up, and
    for every role where the deployment requires it (settings.REQUIRE_SECOND_FACTOR)."""
    if settings.REQUIRE_SECOND_FACTOR and user.role in SECOND_FACTOR_ROLES:
        return True
    return second_factor_device(user) is not None
