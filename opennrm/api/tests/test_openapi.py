"""GET /api/v1/openapi.json: a valid OpenAPI 3 document covering the contract (section 1)."""

import pytest
from django.test import Client

from opennrm.referrals.schemas import DutyToNotifyIn, ReferralIn

CONTRACT_PATHS = {
    "/api/v1/auth/token": {"post"},
    "/api/v1/referrals": {"get", "post"},
    "/api/v1/referrals/{referral_id}": {"get"},
    "/api/v1/duty-to-notify": {"post"},
    "/api/v1/nrm-status": {"get"},
}


@pytest.fixture(scope="module")
def document():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document, ref: str):
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_is_openapi_3_with_the_basics(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    assert isinstance(document["paths"], dict)


def test_every_contract_path_and_method_is_there(document):
    for path, methods in CONTRACT_PATHS.items():
        assert path in document["paths"], path
        assert methods <= set(document["paths"][path]), (path, set(document["paths"][path]))


def test_every_ref_resolves(document):
    refs = list(_refs(document))
    assert refs, "the document should use components"
    for ref in refs:
        _resolve(document, ref)


@pytest.mark.parametrize("path, model", [("/api/v1/referrals", ReferralIn), ("/api/v1/duty-to-notify", DutyToNotifyIn)])
def test_request_bodies_point_at_their_schemas(document, path, model):
    body = document["paths"][path]["post"]["requestBody"]
    schema = _resolve(document, body["content"]["application/json"]["schema"]["$ref"])
    assert set(schema["properties"]) == set(model.model_fields)
    assert schema.get("additionalProperties") is False
    assert set(schema["required"]) == {name for name, field in model.model_fields.items() if field.is_required()}


def test_referral_schema_lists_the_contracts_value_sets(document):
    victim = document["components"]["schemas"]["PotentialVictim"]["properties"]
    flat = str(victim["sex"])
    for value in ("female", "male", "other", "unknown"):
        assert value in flat
    exploitation = document["components"]["schemas"]["Exploitation"]["properties"]
    for value in ("labour", "sexual", "criminal", "domestic_servitude", "organ_removal", "other"):
        assert value in str(exploitation["types"])


def test_signed_routes_declare_the_bearer_scheme(document):
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("scheme", "").lower() == "bearer" for s in schemes.values())
    assert "security" not in document["paths"]["/api/v1/auth/token"]["post"]
    assert document["paths"]["/api/v1/referrals"]["post"]["security"]
