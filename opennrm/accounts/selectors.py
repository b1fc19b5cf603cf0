"""Reading organisations. Organisations are not case data, so these reads are not scoped or audited."""

from .models import Organisation, OrganisationKind


def guardian_services_covering(local_authority: str) -> list[Organisation]:
    """The active independent child trafficking guardian services that cover this local authority (GSS code)."""
    if not local_authority:
        return []
    services = Organisation.objects.filter(kind=OrganisationKind.GUARDIAN_SERVICE, is_active=True).order_by("name")
    # Filtered here rather than with a JSON `contains` lookup, which SQLite does not support; there are few services.
    return [s for s in services if local_authority in (s.covered_local_authorities or [])]
