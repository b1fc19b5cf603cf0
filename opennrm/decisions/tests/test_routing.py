"""Routing by effective-dated rules, and the Reasonable Grounds deadline of each authority."""

import datetime as dt
from importlib import import_module

import pytest
from django.apps import apps
from django.test import Client
from hypothesis import given, strategies as st

from opennrm.audit.models import AuditEvent
from opennrm.core.errors import Invalid, NotAllowed
from opennrm.decisions.models import RoutingRule, RoutingRuleKind
from opennrm.decisions.routing import RuleBook, eighteenth_birthday, reasonable_grounds_due, route_referral
from opennrm.decisions.services import routing_rule_save

from .conftest import ISLINGTON, make_referral

pytestmark = pytest.mark.django_db
CROYDON = "E09000008"
RECEIVED = dt.date(2026, 11, 27)


def route(rules=None, **kwargs) -> str:
    args = (
        dict(
            nation="ENG",
            age_group="child",
            local_authority=ISLINGTON,
            date_of_birth=dt.date(2012, 1, 1),
            received_on=RECEIVED,
        )
        | kwargs
    )
    return route_referral(**args, rules=rules)


def test_migration_seeds_islington_and_the_ieca_once(db):
    RoutingRule.objects.all().delete()
    seed = import_module("opennrm.decisions.migrations.0003_seed_routing_rules").seed_default_rules
    seed(apps, None)
    seed(apps, None)  # safe to run again
    rules = {(r.kind, r.local_authority): r for r in RoutingRule.objects.all()}
    assert len(rules) == 2
    assert rules[(RoutingRuleKind.LOCAL_PANEL_PILOT_AREA, ISLINGTON)].effective_from == dt.date(2021, 6, 1)
    assert rules[(RoutingRuleKind.LOCAL_PANEL_PILOT_AREA, ISLINGTON)].panel_period_days == 45
    assert rules[(RoutingRuleKind.IECA_IMMIGRATION_ACTION, "")].effective_from == dt.date(2021, 11, 1)


@pytest.mark.parametrize(
    "days_before_18, expected", [(100, "SCA"), (101, "LOCAL_PANEL"), (1, "SCA"), (0, "SCA"), (2000, "LOCAL_PANEL")]
)
def test_panel_only_for_a_child_more_than_100_days_from_18(seeded_rules, days_before_18, expected):
    eighteenth = RECEIVED + dt.timedelta(days=days_before_18)
    dob = eighteenth.replace(year=eighteenth.year - 18)
    assert eighteenth_birthday(dob) == eighteenth
    assert route(date_of_birth=dob) == expected


def test_panel_needs_a_pilot_area_and_a_child(seeded_rules):
    assert route() == "LOCAL_PANEL"
    assert route(age_group="unknown") == "LOCAL_PANEL"  # presumption of age
    assert route(date_of_birth=None) == "LOCAL_PANEL"  # no date of birth: presumed an eligible child
    assert route(age_group="adult", date_of_birth=dt.date(1990, 1, 1)) == "SCA"
    assert route(local_authority=CROYDON) == "SCA"
    assert route(received_on=dt.date(2021, 5, 31)) == "SCA"  # before Islington joined the pilot
    assert route(received_on=dt.date(2021, 6, 1)) == "LOCAL_PANEL"


def test_born_on_29_february_is_of_age_on_1_march():
    assert eighteenth_birthday(dt.date(2008, 2, 29)) == dt.date(2026, 3, 1)


def test_ieca_for_detention_or_removal_but_never_a_child_a_panel_decides(seeded_rules):
    adult = dict(age_group="adult", date_of_birth=dt.date(1990, 1, 1), local_authority="")
    assert route(**adult) == "SCA"
    assert route(**adult, immigration_detention=True) == "IECA"
    assert route(**adult, removal_action=True) == "IECA"
    assert route(**adult, removal_action=True, received_on=dt.date(2021, 10, 31)) == "SCA"  # before the IECA existed
    assert route(removal_action=True, immigration_detention=True) == "LOCAL_PANEL"  # panel first
    assert route(removal_action=True, local_authority=CROYDON) == "IECA"  # no panel for this child


def test_rules_are_applied_as_they_stood_on_the_day_of_referral(seeded_rules):
    ended = RoutingRule(
        kind=RoutingRuleKind.LOCAL_PANEL_PILOT_AREA,
        local_authority=CROYDON,
        effective_from=dt.date(2025, 1, 1),
        effective_to=dt.date(2025, 12, 31),
        panel_period_days=30,
        description="A pilot that ended",
    )
    routing_rule_save(actor=None, rule=ended)
    rules = RuleBook.load()
    assert route(rules, local_authority=CROYDON, received_on=dt.date(2024, 12, 31)) == "SCA"
    assert route(rules, local_authority=CROYDON, received_on=dt.date(2025, 1, 1)) == "LOCAL_PANEL"
    assert route(rules, local_authority=CROYDON, received_on=dt.date(2025, 12, 31)) == "LOCAL_PANEL"
    assert route(rules, local_authority=CROYDON, received_on=dt.date(2026, 1, 1)) == "SCA"
    received_at = dt.datetime(2025, 6, 2, 9, tzinfo=dt.UTC)
    assert reasonable_grounds_due(
        received_at=received_at, nation="ENG", competent_authority="LOCAL_PANEL", local_authority=CROYDON
    ) == dt.date(2025, 7, 2)


@pytest.mark.parametrize(
    "nation, due", [("ENG", "2026-12-04"), ("WLS", "2026-12-04"), ("NIR", "2026-12-04"), ("SCT", "2026-12-07")]
)
def test_done_when_deadlines_received_friday_27_november_2026(nation, due):
    # St Andrew's Day, Monday 30 November, is a bank holiday in Scotland only.
    received_at = dt.datetime(2026, 11, 27, 15, tzinfo=dt.UTC)
    for authority in ("SCA", "IECA"):
        assert reasonable_grounds_due(
            received_at=received_at, nation=nation, competent_authority=authority
        ) == dt.date.fromisoformat(due)
    assert reasonable_grounds_due(received_at=received_at, nation=nation, competent_authority="LOCAL_PANEL") == dt.date(
        2027, 1, 11
    )


def test_a_referral_gets_its_authority_and_deadline_when_it_arrives(people, islington_child_body, adult_referral_body):
    received_at = dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
    panel_case = make_referral(people["referrer"], islington_child_body, received_at=received_at)
    assert (panel_case.competent_authority, panel_case.reasonable_grounds_due) == ("LOCAL_PANEL", dt.date(2027, 1, 11))
    adult_referral_body["potential_victim"]["immigration_detention"] = True
    ieca_case = make_referral(people["referrer"], adult_referral_body, received_at=received_at)
    assert (ieca_case.competent_authority, ieca_case.reasonable_grounds_due) == ("IECA", dt.date(2026, 12, 4))
    assert ieca_case.potential_victim["immigration_detention"] is True


def test_routing_rules_are_changed_by_administrators_only_and_audited(people):
    rule = RoutingRule(
        kind=RoutingRuleKind.LOCAL_PANEL_PILOT_AREA,
        local_authority=CROYDON,
        effective_from=dt.date(2027, 1, 1),
        description="Croydon joins",
    )
    with pytest.raises(NotAllowed):
        routing_rule_save(actor=people["sca1"], rule=rule)
    routing_rule_save(actor=people["admin"], rule=rule)
    rule.panel_period_days = 40
    routing_rule_save(actor=people["admin"], rule=rule)
    events = AuditEvent.objects.filter(object_type="routing_rule").order_by("occurred_at", "seq")
    assert [e.action for e in events] == ["routing_rule.create", "routing_rule.change"]
    assert "panel_period_days" in events[1].details["changed"]
    assert (events[1].details["before"]["panel_period_days"], events[1].details["after"]["panel_period_days"]) == (
        45,
        40,
    )
    for bad, field in [
        (dict(local_authority="X0000000"), "local_authority"),
        (dict(effective_to=dt.date(2026, 12, 31)), "effective_to"),
        (dict(panel_period_days=0), "panel_period_days"),
        (dict(kind=RoutingRuleKind.IECA_IMMIGRATION_ACTION), "local_authority"),
    ]:
        args = (
            dict(
                kind=RoutingRuleKind.LOCAL_PANEL_PILOT_AREA,
                local_authority=CROYDON,
                effective_from=dt.date(2027, 1, 1),
                description="x",
            )
            | bad
        )
        with pytest.raises(Invalid) as raised:
            routing_rule_save(actor=people["admin"], rule=RoutingRule(**args))
        assert raised.value.field == field


def test_the_admin_page_edits_rules_through_the_audited_service(people):
    people[
        "admin"
    ].is_staff = True  # as the demo's administrator: Django's admin site needs it; the role decides the rest
    people["admin"].save()
    client = Client()
    client.force_login(people["admin"])
    response = client.post(
        "/admin/decisions/routingrule/add/",
        {
            "kind": "local_panel_pilot_area",
            "local_authority": "E09000007",
            "effective_from": "2027-02-01",
            "effective_to": "",
            "panel_period_days": "45",
            "description": "Camden joins the pilot",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert RoutingRule.objects.filter(local_authority="E09000007").exists()
    assert AuditEvent.objects.get(action="routing_rule.create").actor_username == "admin"
    sca = Client()
    sca.force_login(people["sca1"])
    assert sca.get("/admin/decisions/routingrule/").status_code == 302  # to the admin's sign-in: not an administrator


@given(
    date_of_birth=st.dates(min_value=dt.date(2005, 1, 1), max_value=dt.date(2026, 11, 27)),
    age_group=st.sampled_from(["child", "unknown", "adult"]),
    removal=st.booleans(),
)
def test_route_is_panel_exactly_when_a_child_is_more_than_100_days_from_18(date_of_birth, age_group, removal):
    rules = RuleBook(
        (
            RoutingRule(
                kind=RoutingRuleKind.LOCAL_PANEL_PILOT_AREA,
                local_authority=ISLINGTON,
                effective_from=dt.date(2021, 6, 1),
            ),
            RoutingRule(kind=RoutingRuleKind.IECA_IMMIGRATION_ACTION, effective_from=dt.date(2021, 11, 1)),
        )
    )
    days_to_18 = (eighteenth_birthday(date_of_birth) - RECEIVED).days
    authority = route(rules, age_group=age_group, date_of_birth=date_of_birth, removal_action=removal)
    if age_group != "adult" and days_to_18 > 100:
        assert authority == "LOCAL_PANEL"
    else:
        assert authority == ("IECA" if removal else "SCA")
