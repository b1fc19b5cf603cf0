"""Reading JSON bodies, answering POSTs idempotently, and answering the application's errors (core/errors.py), the
same way for every API route."""

import hashlib
import json
from functools import cache

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from pydantic import BaseModel, ValidationError

from opennrm.core.errors import Invalid, NotAllowed, NotFound, OpenNRMError, Refused, Throttled
from opennrm.core.sql import CompiledQuery
from opennrm.policy import Capability, has_capability
from opennrm.referrals.validation import TOO_DEEP, FieldError, pydantic_errors, too_deep

from .models import IdempotencyRecord


class ApiProblem(Exception):
    """An answer that is not a success: a status, a JSON body and any headers."""

    def __init__(self, status: int, body: dict, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers


def invalid(errors: list[FieldError]) -> ApiProblem:
    return ApiProblem(422, {"errors": [e.as_dict() for e in errors]})


def problem(status: int, detail: str) -> ApiProblem:
    return ApiProblem(status, {"detail": detail})


def problem_of(exc: OpenNRMError) -> ApiProblem:
    """The API's answer to an application error, by its kind: the one place the family maps to HTTP (api.py answers
    with it for every route)."""
    if isinstance(exc, NotFound):
        return problem(404, "Not found")  # outside the caller's scope as well: never 403
    if isinstance(exc, NotAllowed):
        return problem(403, str(exc))
    if isinstance(exc, Invalid):
        return invalid(exc.errors)
    if isinstance(exc, Refused):
        return problem(409, str(exc))
    if isinstance(exc, Throttled):
        seconds = exc.retry_after_seconds()
        body = {"detail": f"{exc.what}: try again in {seconds} seconds", "retry_after_seconds": seconds}
        return ApiProblem(429, body, headers={"Retry-After": str(seconds)})
    raise exc  # a kind without an answer: a failure of the service (500)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed in JSON")


def raw_body(request) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise ApiProblem(413, {"errors": [{"field": "body", "message": "The request body is too large"}]})


def json_body(request) -> object:
    body = raw_body(request)
    if not body.strip():
        raise invalid([FieldError("body", "Send a JSON object in the request body")])
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid([FieldError("body", f"The body is not valid UTF-8 (byte {exc.start})")])
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise invalid(
            [FieldError("body", f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
        )
    except (ValueError, RecursionError) as exc:
        raise invalid([FieldError("body", f"The body is not valid JSON: {exc}")])
    if not isinstance(data, dict):
        raise invalid([FieldError("body", "The body must be a JSON object")])
    if too_deep(data):
        raise invalid([TOO_DEEP])
    return data


def _idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not (1 <= len(key) <= 255) or not key.isprintable():
        raise invalid([FieldError("Idempotency-Key", "Use 1 to 255 printable characters, such as a UUID")])
    return key


_USER_PLACEHOLDER, _KEY_PLACEHOLDER = -7_000_001, "idempotency-key-placeholder"


@cache
def _earlier_response_query() -> CompiledQuery:
    # Every POST with a key looks for an earlier answer first: compiled once (core/sql.py).
    return CompiledQuery(
        IdempotencyRecord.objects.filter(user_id=_USER_PLACEHOLDER, key=_KEY_PLACEHOLDER),
        (_USER_PLACEHOLDER, _KEY_PLACEHOLDER),
    )


def _earlier_response(user, key: str) -> IdempotencyRecord | None:
    found = _earlier_response_query().fetch(user.pk, key)
    return found[0] if found else None


def idempotent_post(request, handler) -> JsonResponse:
    """Run `handler() -> (status, body)` once per Idempotency-Key; a repeat gets the first answer."""
    key = _idempotency_key(request)
    user = request.user
    digest = hashlib.sha256(request.path.encode() + b"\0" + raw_body(request)).hexdigest()

    def replay(record: IdempotencyRecord) -> JsonResponse:
        if record.request_hash != digest:
            raise invalid(
                [
                    FieldError(
                        "Idempotency-Key",
                        "This key was already used with a different request: use a new key for a new request",
                    )
                ]
            )
        return JsonResponse(record.response_body, status=record.status_code)

    if key is not None:
        earlier = _earlier_response(user, key)
        if earlier is not None:
            return replay(earlier)
    try:
        with transaction.atomic():
            status, body = handler()
            if key is not None:
                IdempotencyRecord.objects.create(
                    user=user, key=key, path=request.path, request_hash=digest, status_code=status, response_body=body
                )
    except IntegrityError:
        # A concurrent request with the same key won; answer as it did.
        earlier = _earlier_response(user, key) if key else None
        if earlier is None:
            raise
        return replay(earlier)
    return JsonResponse(body, status=status)


# --- What the routers share -------------------------------------------------------------------------


def documented_body(model: type[BaseModel], *, required: bool = True) -> dict:
    """The OpenAPI request body of an operation that reads its JSON itself (so that every error is ours, at once)."""
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    }


def parse_body(request, model: type[BaseModel], *, optional: bool = False, strict: bool | None = True) -> BaseModel:
    """The request's JSON as `model`, or a 422 naming every field to fix. `strict=None`: as the model's own config
    says (a model whose date fields parse ISO 8601 text, which a call-wide strict would refuse)."""
    if optional and not raw_body(request).strip():
        return model()
    try:
        return model.model_validate(json_body(request), strict=strict)
    except ValidationError as exc:
        raise invalid(pydantic_errors(exc))


def require_capability(request, capability: Capability) -> None:
    if not has_capability(request.user, capability):
        raise problem(403, f"Your role ({request.user.role_label}) cannot do this")
