"""core/sql.py: hand-compiled statements must give back exactly what the ORM would."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.accounts.services import api_token_issue, user_for_token
from opennrm.conftest import PASSWORD
from opennrm.core.errors import NotFound
from opennrm.core.sql import CompiledQuery
from opennrm.policy import Role
from opennrm.referrals.models import Referral
from opennrm.referrals.selectors import referral_open

PLACEHOLDER = uuid.UUID("00000000-0000-4000-8000-000000000001")


def _referral(user, **overrides):
    fields = dict(
        organisation=user.organisation,
        created_by=user,
        nation="ENG",
        competent_authority="SCA",
        received_at=timezone.now(),
        reasonable_grounds_due=dt.date(2026, 12, 4),
        age_group="child",
        potential_victim={"given_names": "Thị Hoa", "family_name": "Nguyễn", "aliases": ["Hoa"]},
        exploitation=[{"types": ["labour"]}],
    )
    return Referral.objects.create(**{**fields, **overrides})


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_compiled_query_returns_what_the_orm_returns(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    referral = _referral(user, recovery_period_ends_on=dt.date(2027, 1, 5))
    compiled = CompiledQuery(
        Referral.objects.filter(organisation_id=user.organisation_id, uuid=PLACEHOLDER), (PLACEHOLDER,)
    )
    [fetched] = compiled.fetch(referral.uuid)
    assert _fields(fetched) == _fields(Referral.objects.get(pk=referral.pk))
    assert isinstance(fetched.received_at, dt.datetime) and fetched.received_at.tzinfo is not None
    assert fetched.potential_victim["family_name"] == "Nguyễn"
    assert fetched._state.adding is False
    assert compiled.fetch(uuid.uuid4()) == []


def test_compiled_query_keeps_the_scope_it_was_compiled_with(make_user):
    police = make_user(Role.FIRST_RESPONDER)
    other = make_user(Role.FIRST_RESPONDER, organisation=make_user(Role.LA_SOCIAL_WORKER).organisation)
    theirs = _referral(other)
    compiled = CompiledQuery(
        Referral.objects.filter(organisation_id=police.organisation_id, uuid=PLACEHOLDER), (PLACEHOLDER,)
    )
    assert compiled.fetch(theirs.uuid) == []


def test_compiled_query_refuses_what_it_cannot_read_back(make_user):
    with pytest.raises(ValueError, match="plain queryset"):
        CompiledQuery(Referral.objects.select_related("organisation").filter(uuid=PLACEHOLDER), (PLACEHOLDER,))
    with pytest.raises(ValueError, match="plain queryset"):
        CompiledQuery(Referral.objects.filter(uuid=PLACEHOLDER).values("id"), (PLACEHOLDER,))
    with pytest.raises(ValueError, match="not exactly once"):
        CompiledQuery(Referral.objects.filter(nation="ENG"), (PLACEHOLDER,))


def test_referral_open_is_scoped_per_actor_with_compiled_queries(make_user):
    police = make_user(Role.FIRST_RESPONDER)
    ngo = make_user(Role.FIRST_RESPONDER, organisation=make_user(Role.LA_SOCIAL_WORKER).organisation)
    mine, theirs = _referral(police), _referral(ngo)
    # Alternate actors so that each one's compiled query is reused after the other's was made.
    for _ in range(2):
        assert referral_open(actor=police, uuid=mine.uuid).pk == mine.pk
        assert referral_open(actor=ngo, uuid=theirs.uuid).pk == theirs.pk
        with pytest.raises(NotFound):
            referral_open(actor=police, uuid=theirs.uuid)


def test_user_for_token_returns_the_user_with_organisation_and_refuses_the_rest(make_user):
    user = make_user(Role.FIRST_RESPONDER)
    raw, _ = api_token_issue(username=user.username, password=PASSWORD)
    found = user_for_token(raw)
    assert _fields(found) == _fields(User.objects.get(pk=user.pk))
    assert found.organisation.name == user.organisation.name
    assert user_for_token(raw + "x") is None
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert user_for_token(raw) is None
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.api_tokens.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert user_for_token(raw) is None
