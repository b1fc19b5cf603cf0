"""The application's one family of errors (issue 23): what a service or selector raises when it will not do what was
asked, by kind, so that each way of answering (the API, the pages, a command) maps a kind to one answer in one place.

    OpenNRMError
    ├── NotAllowed   the actor may not do this at all: their role, or a rule about who acts (API 403, page 403)
    ├── NotFound     no such record in the actor's scope; outside it a record is not found, never refused (404)
    ├── Invalid      what was sent must be corrected: every field error at once (API 422 {"errors": [...]},
    │                a page's error summary, 422)
    ├── Refused      the records' state does not allow it now: a transition, an access request already decided,
    │                a link undone by someone else (API 409 {"detail": ...}, a page's error summary, 409)
    └── Throttled    too many in a short time: the next is allowed at `retry_at` (API 429 with Retry-After)

A domain subclasses a kind only where a caller must tell its error from others of the same kind (e.g. a sign-in
refused, with its reason). The mapping to answers lives with each way of answering: opennrm/api/api.py for the API,
opennrm/web/errors.py for the pages. This module imports no domain.
"""

import datetime as dt
import math
from dataclasses import dataclass

from django.utils import timezone


@dataclass(frozen=True)
class FieldError:
    """One thing to correct: the field (as the caller named it), what to do in words, and a code for the kind of
    problem.

    The code stays the same whatever the message says, so that a page can decide how to show a problem without
    reading its wording. A shape problem's code is pydantic's error type (such as `missing`, `string_too_long`,
    `literal_error`) or the schema's own (`country_code`, `invisible_character`, `name_without_letters`, ...);
    a rule's code names the rule (such as `date_in_future`, `identifying`, `adult_under_18`). An API answer
    carries the field and the message only (contract section 2).
    """

    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict:
        return {"field": self.field, "message": self.message}


class OpenNRMError(Exception):
    """Every error the application raises on purpose; the message, where there is one, is for the user."""


class NotAllowed(OpenNRMError):
    """The actor may not do this at all (HTTP 403); the message says why."""


class NotFound(OpenNRMError):
    """The record does not exist, or lies outside what the actor may see; the two look the same (HTTP 404)."""


class Invalid(OpenNRMError):
    """What was sent must be corrected (HTTP 422): `errors`, every one at once, each naming its field.

    `Invalid.at(field, message)` for a single error; `field` and `message` are then the first error's."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        if len(self.errors) == 1:
            super().__init__(self.errors[0].message)
        else:
            super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))

    @classmethod
    def at(cls, field: str, message: str) -> "Invalid":
        return cls([FieldError(field, message)])

    @property
    def field(self) -> str | None:
        return self.errors[0].field if self.errors else None

    @property
    def message(self) -> str | None:
        return self.errors[0].message if self.errors else None


class Refused(OpenNRMError):
    """Not allowed in the records' current state, or in the wrong order (HTTP 409); the message says why. Nothing was
    changed."""


class Throttled(OpenNRMError):
    """Too many in a short time by one user (HTTP 429): the next is allowed at `retry_at`. `what` says what was
    throttled, as the answer's first words ("Too many NRM status lookups in a short time")."""

    def __init__(self, retry_at: dt.datetime, what: str = "Too many requests in a short time"):
        super().__init__(retry_at)
        self.retry_at = retry_at
        self.what = what

    def retry_after_seconds(self, now: dt.datetime | None = None) -> int:
        return max(1, math.ceil((self.retry_at - (now or timezone.now())).total_seconds()))
