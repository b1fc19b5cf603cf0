"""Why a publication was not built: each a message for the statistician, and nothing published (ADR 0030)."""

from opennrm.core.errors import NotAllowed, Refused

__all__ = ["ExtractChanged", "NoData", "NotAllowed", "PeriodError", "PublicationError", "ReleaseSuperseded"]


class PublicationError(Refused):
    """The publication was not built; the message says why and what to do."""


class PeriodError(PublicationError, ValueError):
    """A period that cannot be published: not a quarter, in the future, or not yet over."""


class NoData(PublicationError):
    """Nothing was received or decided in the period."""


class ExtractChanged(PublicationError):
    """The data of a period already released changed: a new version needs --revise."""


class ReleaseSuperseded(PublicationError):
    """A version of a period that a later version revises."""
