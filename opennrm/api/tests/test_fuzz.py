"""Random bodies posted to the API: never a 5xx, always 201 or 422, and nothing stored on a 422."""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from opennrm.conftest import VALID_CHILD_REFERRAL

from .support import stored_counts
from .test_duty_to_notify import VALID_DUTY_TO_NOTIFY

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

# Any code point, lone surrogates and control characters included: JSON escapes them all.
any_text = st.text(st.characters(exclude_categories=()), max_size=30)
# Strings a referral uses, so that random values often hit a real code and reach the deeper rules.
known_strings = st.sampled_from(
    [
        "ENG",
        "SCT",
        "child",
        "adult",
        "unknown",
        "female",
        "criminal",
        "labour",
        "uk",
        "overseas",
        "GBR",
        "VNM",
        "vi",
        "E09000008",
        "day",
        "2026-02-30",
        "2010-03-01",
        "2030-01-01",
        "1890-01-01",
        "2026-11-27T10:15:00Z",
        "2026-11-27T10:15:00",
        "",
    ]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
    | known_strings
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text | known_strings, children, max_size=4),
    max_leaves=12,
)


def _paths(value, prefix=()):
    """Every place in a body a value can be put: each key and list item, at every depth."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


@st.composite
def mutated(draw, valid: dict):
    """The valid body with a few values replaced, removed or added at random places."""
    body = copy.deepcopy(valid)
    places = [p for p in _paths(valid) if p]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(places))
        parent = body
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "remove", "add"]))
            if action == "remove":
                del parent[path[-1]]
            elif action == "add" and isinstance(parent, dict):
                parent[draw(any_text | known_strings)] = draw(json_values)
            else:
                parent[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced this place
    return body


def _encode(body) -> bytes:
    # allow_nan: NaN and Infinity are sent as the non-JSON words, which must be refused, not crash.
    return json.dumps(body, allow_nan=True).encode("utf-8")


def _check(client, url: str, body) -> None:
    before = stored_counts()
    response = client.post(url, raw=_encode(body))
    assert response.status_code in (201, 422), (response.status_code, response.content[:500], body)
    after = stored_counts()
    if response.status_code == 422:
        assert after == before, body
        errors = response.json()["errors"]
        assert errors and all(e["field"] and e["message"] for e in errors)
    else:
        created = "referrals" if url.endswith("referrals") else "duty_to_notify"
        assert after[created] == before[created] + 1


@pytest.mark.parametrize("url", ["/api/v1/referrals", "/api/v1/duty-to-notify"])
@FUZZ
@given(body=json_values)
def test_any_json_is_201_or_422(fr_client, url, body):
    _check(fr_client, url, body)


@FUZZ
@given(body=mutated(VALID_CHILD_REFERRAL))
def test_mutated_referral_is_201_or_422(fr_client, body):
    _check(fr_client, "/api/v1/referrals", body)


@FUZZ
@given(body=mutated(VALID_DUTY_TO_NOTIFY))
def test_mutated_duty_to_notify_is_201_or_422(fr_client, body):
    _check(fr_client, "/api/v1/duty-to-notify", body)
