"""An API answer checked against what the published OpenAPI document declares for it (issue 23 point 4).

The document (`GET /api/v1/openapi.json`) is OpenAPI 3.1, whose schemas are JSON Schema 2020-12: each answer is
validated with `jsonschema` against the schema of its operation and status code, its `$ref`s resolved against the
document's own components. An answer whose status code the operation does not declare is a problem too: a client
(or schemathesis, issue 27) reading the document would not expect it.

`ApiClient` (opennrm/conftest.py) checks every answer it receives, so every API test checks its answers; the
generated walks of test_responses_match_openapi.py check those of every operation as every role.
"""

import json
import re
import urllib.parse
from functools import cache

from django.test import Client
from jsonschema import Draft202012Validator

API_PREFIX = "/api/v1"
DOCUMENT_URL = f"{API_PREFIX}/openapi.json"


@cache
def published_document() -> dict:
    # Built from the code alone (no setting, no record changes it): fetched once for the whole run.
    response = Client().get(DOCUMENT_URL)
    assert response.status_code == 200, response.status_code
    return response.json()


@cache
def _operations() -> list[tuple[re.Pattern, str, str]]:
    """(path regex, path template, method) of every operation, longest template first so none shadows another."""
    found = []
    for template, operations in published_document()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "/?$")
        found += [(pattern, template, method) for method in operations]
    return sorted(found, key=lambda op: -len(op[1]))


def operation_for(method: str, url: str) -> tuple[str, dict] | None:
    """The path template and operation object the document declares for this request, or None when it declares none."""
    path = urllib.parse.urlsplit(url).path
    method = method.lower()
    for pattern, template, declared_method in _operations():
        if declared_method == method and pattern.match(path):
            return template, published_document()["paths"][template][method]
    return None


@cache
def _validator(template: str, method: str, status: str) -> Draft202012Validator | None:
    document = published_document()
    declared = document["paths"][template][method]["responses"][status]
    schema = declared.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    # The schema as the root of a resource that also holds the document's components, so "#/components/..." resolves.
    return Draft202012Validator({**schema, "components": document["components"]})


def answer_problems(method: str, url: str, response) -> list[str]:
    """What is wrong with `response` as the answer to `method url`, by the published document: [] when nothing."""
    found = operation_for(method, url)
    if found is None:
        return []  # not an operation of the API (the document itself, the docs page, a page)
    template, operation = found
    said = f"{method.upper()} {template} answered {response.status_code}"
    status = str(response.status_code)
    if status not in operation["responses"]:
        return [f"{said}, which it does not declare (it declares {', '.join(operation['responses'])})"]
    validator = _validator(template, method.lower(), status)
    if validator is None:
        return [f"{said}, which it declares with no schema"]
    if not response.get("Content-Type", "").startswith("application/json"):
        return [f"{said} with {response.get('Content-Type')!r}, not JSON"]
    body = json.loads(response.content)
    return [
        f"{said}: at {'.'.join(str(p) for p in error.absolute_path) or 'the top'}: {error.message}"
        for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    ]


def check_answer(method: str, url: str, response) -> None:
    problems = answer_problems(method, url, response)
    assert problems == [], "the answer does not match the published OpenAPI document:\n" + "\n".join(problems[:20])
