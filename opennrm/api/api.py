"""The OpenNRM API, `/api/v1` (contract sections 1–3). Views here only translate HTTP: the work is
done by the same services and selectors the pages use."""

import unicodedata
import uuid
from typing import Literal

from django.http import Http404, JsonResponse
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import field_validator

from opennrm.accounts.services import SignInRefused, api_token_issue, locked_message
from opennrm.cases.present import nrm_status_no_match_message, referral_as_dict
from opennrm.cases.selectors import nrm_status_lookup, referral_page
from opennrm.cases.services import referral_create
from opennrm.core.errors import NotFound, OpenNRMError
from opennrm.policy import Capability
from opennrm.referrals import schemas as referral_schemas
from opennrm.referrals.models import Status
from opennrm.referrals.references import home_office_reference_problem
from opennrm.referrals.selectors import record_access_log, referral_open
from opennrm.referrals.services import duty_to_notify_create
from opennrm.referrals.validation import FieldError, error_message, validate_duty_to_notify, validate_referral

from .auth import BearerToken
from .http import ApiProblem, idempotent_post, invalid, json_body, problem_of, require_capability
from .schemas import (
    RECORD,
    ROLE_CHECKED,
    SIGNED_IN,
    WITH_BODY,
    WITH_QUERY,
    AccessLogOut,
    DetailOut,
    DutyToNotifyCreatedOut,
    NrmStatusNotFoundOut,
    NrmStatusOut,
    PingOut,
    ReferralCreatedOut,
    ReferralOut,
    ReferralPageOut,
    ThrottledOut,
    answer,
    responses,
)

BODY_MODELS = [referral_schemas.ReferralIn, referral_schemas.DutyToNotifyIn]


class OpenNRMApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        # Bodies are parsed by the shared validators (all errors at once), so their schemas are added here.
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in BODY_MODELS:
            js = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(js.pop("$defs", {}))
            components[model.__name__] = js
        return schema


api = OpenNRMApi(
    title="OpenNRM API",
    version="1",
    description=(
        "National Referral Mechanism referrals, decisions and safeguarding. Send `Authorization: Bearer <token>` "
        'from `POST /api/v1/auth/token`. Invalid input is `422 {"errors": [{"field", "message"}]}` with every '
        "error at once; records outside what the caller may see are `404`."
    ),
    auth=BearerToken(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def _body_of(model) -> dict:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    }


@api.exception_handler(ApiProblem)
def _api_problem(request, exc: ApiProblem):
    return JsonResponse(exc.body, status=exc.status, headers=exc.headers)


@api.exception_handler(OpenNRMError)
def _application_error(request, exc: OpenNRMError):
    """NotAllowed 403, NotFound 404, Invalid 422, Refused 409, Throttled 429 with Retry-After (http.problem_of)."""
    return _api_problem(request, problem_of(exc))


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("query", "path", "body")]
        message = error_message(err) if "type" in err else err.get("msg", "Invalid value")
        errors.append({"field": ".".join(loc) or "request", "message": message})
    return JsonResponse({"errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return JsonResponse(
        {"detail": "Sign in first: send Authorization: Bearer <token>, from POST /api/v1/auth/token"}, status=401
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return JsonResponse({"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return JsonResponse({"detail": "Not found"}, status=404)


# --- Authentication ---------------------------------------------------------------------------


class TokenIn(Schema):
    username: str
    password: str
    otp: str | None = Field(
        None,
        description="The 6-digit code from the user's authenticator app: required once they have set one up, "
        "and for every user where the deployment requires a second factor",
    )


class TokenOut(Schema):
    token: str
    expires_at: str


BODY_MODELS.append(TokenIn)


@api.post(
    "/auth/token",
    auth=None,
    response=responses({200: TokenOut, 401: DetailOut, 403: DetailOut, 429: DetailOut}, WITH_BODY),
    tags=["auth"],
    openapi_extra=_body_of(TokenIn),
)
def token(request):
    data = json_body(request)
    errors = []
    for key in ("username", "password", "otp"):
        value = data.get(key)
        if key == "otp" and value is None:
            continue  # optional: checked against the account below
        if not isinstance(value, str) or not value:
            errors.append(FieldError(key, "This field is required: give it as text"))
        elif any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
            # No account has one, and the database would refuse some (NUL, lone surrogates) outright.
            errors.append(FieldError(key, "Remove the control characters: no username, password or code contains them"))
    errors += [FieldError(k, "Unknown field: remove it") for k in data if k not in ("username", "password", "otp")]
    if errors:
        raise invalid(errors)
    try:
        raw, expires_at = api_token_issue(
            username=data["username"][:150], password=data["password"][:1024], otp=(data.get("otp") or "")[:20]
        )
    except SignInRefused as refused:
        if refused.reason == SignInRefused.LOCKED:
            seconds = max(1, int((refused.lock.locked_until - timezone.now()).total_seconds())) if refused.lock else 60
            return JsonResponse({"detail": locked_message()}, status=429, headers={"Retry-After": str(seconds)})
        if refused.reason == SignInRefused.SECOND_FACTOR_NOT_SET_UP:
            return JsonResponse(
                {"detail": "Set up a second factor first: sign in to the web pages, which take you through it"},
                status=403,
            )
        # One answer for a wrong username, password or code, so that none of them can be told apart.
        return JsonResponse({"detail": "The username, password or code (otp) is not right"}, status=401)
    return {"token": raw, "expires_at": expires_at.isoformat()}


@api.get(
    "/ping",
    response=responses({200: PingOut}, SIGNED_IN),
    tags=["auth"],
    summary="Check a token: answers the same constant to every signed-in caller",
)
def ping(request):
    return {"ok": True}


# --- Referrals ----------------------------------------------------------------------------------


@api.post(
    "/referrals",
    response=responses({201: ReferralCreatedOut}, SIGNED_IN, ROLE_CHECKED, WITH_BODY),
    tags=["referrals"],
    openapi_extra=_body_of(referral_schemas.ReferralIn),
    summary="Refer a potential victim (first responders)",
)
def create_referral(request):
    require_capability(request, Capability.CREATE_REFERRAL)

    def handler():
        data, errors = validate_referral(json_body(request), now=timezone.now())
        if errors:
            raise invalid(errors)
        referral = referral_create(actor=request.user, data=data)
        return 201, answer(
            ReferralCreatedOut,
            {
                "id": str(referral.uuid),
                "reference": referral.reference,
                "status": referral.status,
                "competent_authority": referral.competent_authority,
                "received_at": referral.received_at.isoformat(),
                "reasonable_grounds_due": referral.reasonable_grounds_due.isoformat(),
            },
        )

    return idempotent_post(request, handler)


class ReferralFilters(Schema):
    status: Literal[tuple(Status.values)] | None = None  # type: ignore[valid-type]
    nation: referral_schemas.Nation | None = None
    first_responder_reference: referral_schemas.ShortLine | None = None
    # Bounded so that the offset stays a number the database can take.
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=200)

    @field_validator("status", "nation", "first_responder_reference", mode="before")
    @classmethod
    def _empty_is_no_filter(cls, value):
        # A search form sends an empty box as `?nation=`: that means "any", not a wrong code.
        return None if value == "" else value


def _next_page_url(request, *, page: int, page_size: int, total: int) -> str | None:
    """The same query with the next page, or None on the last page."""
    if page * page_size >= total:
        return None
    query = request.GET.copy()
    query["page"] = str(page + 1)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


# exclude_unset: the compartments a caller does not see stay absent from each referral (ReferralOut).
@api.get(
    "/referrals",
    response=responses({200: ReferralPageOut}, SIGNED_IN, ROLE_CHECKED, WITH_QUERY),
    exclude_unset=True,
    tags=["referrals"],
    summary="The referrals you may see, newest first",
)
def list_referrals(request, filters: Query[ReferralFilters]):
    # As the page does (web/views.py referral_list): an empty list would read as "there are none" (issue 22).
    require_capability(request, Capability.LIST_REFERRALS)
    items, total = referral_page(
        actor=request.user,
        status=filters.status,
        nation=filters.nation,
        first_responder_reference=filters.first_responder_reference,
        offset=(filters.page - 1) * filters.page_size,
        limit=filters.page_size,
    )
    next_url = _next_page_url(request, page=filters.page, page_size=filters.page_size, total=total)
    return {"items": [referral_as_dict(r, r.access) for r in items], "count": total, "next": next_url}


@api.get(
    "/referrals/{referral_id}",
    response=responses({200: ReferralOut}, SIGNED_IN, RECORD),
    exclude_unset=True,
    tags=["referrals"],
    summary="One referral, as far as you may see it",
)
def get_referral(request, referral_id: str):
    try:
        referral_uuid = uuid.UUID(referral_id)
    except ValueError:
        # Not an id at all: to the caller, the same as one that does not exist.
        raise NotFound
    referral = referral_open(actor=request.user, uuid=referral_uuid)
    return referral_as_dict(referral, referral.access)


class AccessLogQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=200)


@api.get(
    "/referrals/{referral_id}/access-log",
    response=responses({200: AccessLogOut}, SIGNED_IN, RECORD, WITH_QUERY),
    tags=["referrals"],
    summary="Who has seen this record: its audit events, newest first (the child's local authority, guardian and auditors)",
)
def referral_access_log(request, referral_id: str, query: Query[AccessLogQuery]):
    try:
        referral_uuid = uuid.UUID(referral_id)
    except ValueError:
        raise NotFound
    log = record_access_log(
        actor=request.user,
        referral_uuid=referral_uuid,
        offset=(query.page - 1) * query.page_size,
        limit=query.page_size,
    )
    return {
        "items": [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "description": e.description,
                "actor": {"username": e.username, "name": e.name, "role": e.role, "organisation": e.organisation}
                if e.username
                else None,
                "ip_address": e.ip_address,
                "user_agent": e.user_agent,
                "compartments": e.compartments,
                "purpose": e.purpose or None,
            }
            for e in log.entries
        ],
        # Access the record's events gave others (a missing episode, a transfer, a wait for a guardian), ADR 0028.
        "event_access": [g.as_dict(log.now) for g in log.grants],
        "count": log.total,
        "next": _next_page_url(request, page=query.page, page_size=query.page_size, total=log.total),
    }


class NrmStatusQuery(Schema):
    home_office_reference: str = Field(
        description="As given: case, spaces and dashes do not matter (referrals/references.py)"
    )


@api.get(
    "/nrm-status",
    response=responses(
        {200: NrmStatusOut, 404: NrmStatusNotFoundOut, 429: ThrottledOut}, SIGNED_IN, ROLE_CHECKED, WITH_QUERY
    ),
    tags=["firewall"],
    summary="Immigration enforcement: NRM status by Home Office reference, and nothing else",
    description="The status of every referral with this Home Office reference, with issued decisions only. No match is "
    "`404` with a `message` saying that it is not proof that no referral exists, and whom to ask. Lookups are "
    "limited per user (settings `NRM_STATUS_LOOKUPS_PER_MINUTE`, `NRM_STATUS_LOOKUPS_PER_HOUR`): past the limit, "
    "`429` with `Retry-After`.",
)
def nrm_status(request, query: Query[NrmStatusQuery]):
    require_capability(request, Capability.LOOKUP_NRM_STATUS)
    typed = query.home_office_reference.strip()
    if message := home_office_reference_problem(typed):
        raise invalid([FieldError("home_office_reference", message)])
    # Throttled: 429 with Retry-After (http.problem_of).
    found = nrm_status_lookup(actor=request.user, home_office_reference=typed)
    if not found:
        raise ApiProblem(404, {"detail": "Not found", "message": nrm_status_no_match_message(typed)})
    return {"items": found, "count": len(found)}


# --- Duty to Notify -----------------------------------------------------------------------------


@api.post(
    "/duty-to-notify",
    response=responses({201: DutyToNotifyCreatedOut}, SIGNED_IN, ROLE_CHECKED, WITH_BODY),
    tags=["duty to notify"],
    openapi_extra=_body_of(referral_schemas.DutyToNotifyIn),
    summary="Report an adult who does not consent to a referral, without identifying them",
)
def create_duty_to_notify(request):
    require_capability(request, Capability.NOTIFY_DUTY)

    def handler():
        data, errors = validate_duty_to_notify(json_body(request), now=timezone.now())
        if errors:
            raise invalid(errors)
        report = duty_to_notify_create(actor=request.user, data=data)
        return 201, answer(
            DutyToNotifyCreatedOut,
            {"id": str(report.uuid), "reference": report.reference, "received_at": report.received_at.isoformat()},
        )

    return idempotent_post(request, handler)


# --- Decisions (opennrm/api/decisions.py) -------------------------------------------------------

from .decisions import (
    BODY_MODELS as DECISION_BODY_MODELS,
    router as decisions_router,
)

BODY_MODELS.extend(DECISION_BODY_MODELS)
api.add_router("", decisions_router)

# --- Managers' dashboard (opennrm/api/dashboards.py) --------------------------------------------

from .dashboards import router as dashboard_router

api.add_router("", dashboard_router)

from .queues import (
    BODY_MODELS as QUEUE_BODY_MODELS,
    router as queues_router,
)

BODY_MODELS.extend(QUEUE_BODY_MODELS)
api.add_router("", queues_router)

# --- Safeguarding (opennrm/api/safeguarding.py) -------------------------------------------------

from .safeguarding import (
    BODY_MODELS as SAFEGUARDING_BODY_MODELS,
    router as safeguarding_router,
)

BODY_MODELS.extend(SAFEGUARDING_BODY_MODELS)
api.add_router("", safeguarding_router)

# --- Duplicate detection (opennrm/api/linkage.py) -----------------------------------------------

from .linkage import (
    BODY_MODELS as LINKAGE_BODY_MODELS,
    router as linkage_router,
)

BODY_MODELS.extend(LINKAGE_BODY_MODELS)
api.add_router("", linkage_router)
