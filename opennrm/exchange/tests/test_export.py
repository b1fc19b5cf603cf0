"""`opennrm export-htcds`: a real export of synthetic cases, valid, with no direct identifier, keyed per recipient."""

import hashlib
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from opennrm.audit.models import AuditEvent
from opennrm.exchange import schema
from opennrm.exchange.export import validator
from opennrm.policy import Role
from opennrm.referrals.models import Referral
from opennrm.tests.canaries import plant_canaries

KEY = "synthetic-exchange-key-for-tests-only-3f9a1c"
PSEUDONYM = re.compile(r"^[0-9a-f]{32}$")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def exchange_key(settings):
    settings.EXCHANGE_KEY = KEY


@pytest.fixture
def world(make_user, exchange_key):
    return plant_canaries(make_user)


def export(tmp_path, world, recipient: str = "CTDC", name: str = "out.json", actor: str | None = "role.statistician"):
    target = tmp_path / name
    call_command("export-htcds", recipient=recipient, output=str(target), username=actor)
    return target, json.loads(target.read_text(encoding="utf-8"))


def cases_by_referral(document, world) -> dict[str, dict]:
    """The case of referral A and of B (told apart by the one thing that differs: the referring organisation)."""
    org = {c["cas_ReferringOrganisation"]["org_Type"]: c for c in document["cases"]}
    return {"A": org["LawEnforcement"], "B": org["NGO"]}


def test_a_real_export_is_valid_and_maps_the_cases(tmp_path, world):
    _, document = export(tmp_path, world)
    assert list(validator().iter_errors(document)) == []
    assert document["htcds_version"] == "2.0" and document["recipient"] == "CTDC"
    assert len(document["cases"]) == Referral.objects.count() == 2  # Duty to Notify reports are not cases
    a = cases_by_referral(document, world)["A"]
    assert a["prs_Gender"] == "Feminine"
    assert a["prs_Citizenship"] == ["VN"]
    # A has a positive Reasonable Grounds decision: a possible victim, decided by a non-police government body.
    assert a["vic_TraffickingStatus"] == "PossibleVictimOfTrafficking"
    assert a["vic_TraffickingStatusDecisionMakingOrg"] == "NonPoliceGovernmentalOrganization"
    assert a["vic_TypeOfExploitation"] == ["Other"]
    assert a["x_uk_exploitation_types"] == ["criminal"]
    assert a["x_uk_criminal_subtypes"] == ["cannabis_cultivation"]
    assert a["cas_Status"] == "Active"
    assert a["x_uk_majority_status"] == "Minor"
    assert a["x_uk_age_broad"] == "9--17"
    assert a["HistoricTraffickingEvents"] == [
        {"hte_Type": "Exploitation", "hte_Country": country, "x_uk_year": 2025} for country in ("GB", "VN", "FR")
    ]
    assert "vic_TraffickingStatusDecisionMakingOrg" not in cases_by_referral(document, world)["B"]


def test_no_export_holds_a_name_date_of_birth_address_phone_or_free_text(tmp_path, world):
    target, document = export(tmp_path, world)
    text = target.read_text(encoding="utf-8")
    # Every canary planted in the referrals, decisions and safeguarding records: names, aliases, addresses, phone,
    # references, the account, indicators, reasons and notes.
    leaked = [str(c) for c in world.canaries if c.value in text or json.dumps(c.value)[1:-1] in text]
    assert leaked == []
    for referral in Referral.objects.all():
        pv = referral.potential_victim
        for value in (pv["date_of_birth"], referral.phone, referral.current_address, referral.reference):
            assert value and value not in text
        assert re.sub(r"\D", "", referral.phone) not in re.sub(r"\D", "", text.replace(document["generated_at"], ""))
    # No date at all but the file's own timestamp: years only.
    assert ISO_DATE.findall(text.replace(document["generated_at"], "")) == []
    # No free text: every string in the file is a value the schema enumerates, an ISO code or a pseudonym.
    allowed = enumerated_values(schema.committed_schema())
    for path, value in strings(document["cases"]):
        assert value in allowed or PSEUDONYM.match(value) or re.fullmatch(r"[A-Z]{2}", value), (path, value)


def enumerated_values(node) -> set[str]:
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "enum":
                found |= {v for v in value if isinstance(v, str)}
            else:
                found |= enumerated_values(value)
    elif isinstance(node, list):
        for value in node:
            found |= enumerated_values(value)
    return found


def strings(node, path="cases"):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strings(value, f"{path}.{i}")
    elif isinstance(node, str):
        yield path, node


def test_ids_differ_per_recipient_and_are_stable_for_one(tmp_path, world):
    _, first = export(tmp_path, world, "CTDC", "ctdc-1.json")
    _, again = export(tmp_path, world, "ctdc", "ctdc-2.json")  # the recipient's name is not case-sensitive
    _, other = export(tmp_path, world, "Europol", "europol.json")

    def ids(document):
        return {
            c["cas_ReferringOrganisation"]["org_Type"]: (c["x_case_id"], c["x_person_id"]) for c in document["cases"]
        }

    assert ids(first) == ids(again)
    mine, theirs = ids(first), ids(other)
    assert not {i for pair in mine.values() for i in pair} & {i for pair in theirs.values() for i in pair}
    # A and B were confirmed as one child: one person id across the two referrals, their case ids apart.
    a, b = cases_by_referral(first, world)["A"], cases_by_referral(first, world)["B"]
    assert a["x_person_id"] == b["x_person_id"] and a["x_case_id"] != b["x_case_id"]
    for value in (a["x_case_id"], a["x_person_id"]):
        assert str(world.referral_a.uuid).replace("-", "") not in value and str(world.person.uuid) != value


def test_ids_change_with_the_key(tmp_path, world, settings):
    _, first = export(tmp_path, world, "CTDC", "one.json")
    settings.EXCHANGE_KEY = KEY + "-rotated"
    _, second = export(tmp_path, world, "CTDC", "two.json")
    assert {c["x_case_id"] for c in first["cases"]}.isdisjoint({c["x_case_id"] for c in second["cases"]})


def test_the_export_is_audited_with_its_recipient_count_and_hash(tmp_path, world):
    target, _ = export(tmp_path, world)
    event = AuditEvent.objects.get(action="exchange.htcds_export")
    assert event.actor_username == "role.statistician"
    assert event.details["recipient"] == "CTDC"
    assert event.details["cases"] == 2
    assert event.details["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary file left"
    assert target.stat().st_mode & 0o777 == 0o600  # the operator's alone until it is sent


def test_the_contracts_form_without_a_user_is_the_operators_and_audited_as_such(tmp_path, world):
    target, document = export(tmp_path, world, actor=None)
    assert len(document["cases"]) == 2
    event = AuditEvent.objects.get(action="exchange.htcds_export")
    assert event.actor_id is None and event.user_agent == "opennrm export-htcds"
    assert event.details["operator"]
    assert event.details["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "change, family, value",
    [
        (lambda r: r.potential_victim.update(sex="intersex"), "sex", "intersex"),
        (lambda r: r.exploitation[0].update(types=["cyber"]), "exploitation type", "cyber"),
        (lambda r: r.potential_victim.update(nationalities=["XKX"]), "country", "XKX"),
    ],
)
def test_an_unknown_category_is_refused_naming_it_and_the_record_and_nothing_is_written(
    tmp_path, world, capsys, change, family, value
):
    referral = world.referral_b
    change(referral)
    referral.save(update_fields=["potential_victim", "exploitation"])
    with pytest.raises(CommandError, match="Nothing was written"):
        export(tmp_path, world)
    problems = capsys.readouterr().err
    assert f"Referral {referral.reference}: the {family} {value!r} has no HTCDS value" in problems
    assert list(tmp_path.iterdir()) == []
    assert not AuditEvent.objects.filter(action="exchange.htcds_export").exists()


def test_a_case_the_schema_refuses_is_named_and_nothing_is_written(tmp_path, world, capsys):
    Referral.objects.filter(pk=world.referral_a.pk).update(nation="ZZZ")
    with pytest.raises(CommandError, match="Nothing was written: 1 problem"):
        export(tmp_path, world)
    assert f"Referral {world.referral_a.reference}: x_uk_nation fails the HTCDS schema's 'enum' rule" in (
        capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []


def test_every_problem_is_reported_at_once(tmp_path, world, capsys):
    Referral.objects.filter(pk=world.referral_a.pk).update(status="archived")
    Referral.objects.filter(pk=world.referral_b.pk).update(age_group="teen")
    with pytest.raises(CommandError, match="2 problem"):
        export(tmp_path, world)
    problems = capsys.readouterr().err
    assert f"Referral {world.referral_a.reference}: the status 'archived'" in problems
    assert f"Referral {world.referral_b.reference}: the age group 'teen'" in problems


def test_a_failed_export_leaves_an_earlier_file_as_it_was(tmp_path, world):
    target, _ = export(tmp_path, world)
    before = target.read_bytes()
    Referral.objects.filter(pk=world.referral_a.pk).update(status="archived")
    with pytest.raises(CommandError):
        export(tmp_path, world)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize("role", [Role.SCA_DECISION_MAKER, Role.ADMIN, Role.FIRST_RESPONDER, Role.AUDITOR])
def test_only_a_statistician_may_export(tmp_path, world, role):
    with pytest.raises(CommandError, match="only a statistician may export"):
        export(tmp_path, world, actor=f"role.{role.value}")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_user_or_a_bad_recipient_is_refused(tmp_path, world):
    with pytest.raises(CommandError, match="no active user 'nobody'"):
        export(tmp_path, world, actor="nobody")
    with pytest.raises(CommandError, match="--recipient"):
        export(tmp_path, world, recipient="../../etc")
    assert list(tmp_path.iterdir()) == []


def test_a_deployment_without_a_key_is_refused(tmp_path, world, settings):
    settings.EXCHANGE_KEY = ""
    settings.EMBEDDED_DEMO = False
    with pytest.raises(CommandError, match="Set OPENNRM_EXCHANGE_KEY"):
        export(tmp_path, world)


def test_the_embedded_demo_makes_and_keeps_its_own_key(tmp_path, world, settings):
    settings.EXCHANGE_KEY = ""
    settings.EMBEDDED_DEMO = True
    settings.VAR_DIR = tmp_path / "var"
    _, first = export(tmp_path, world, name="one.json")
    _, second = export(tmp_path, world, name="two.json")
    assert (tmp_path / "var" / "exchange-key.json").exists()
    assert [c["x_case_id"] for c in first["cases"]] == [c["x_case_id"] for c in second["cases"]]


def test_check_deploy_notes_a_missing_key_and_warns_of_a_short_or_shared_one(settings):
    from opennrm.exchange.checks import exchange_key_set

    settings.EMBEDDED_DEMO = False
    settings.EXCHANGE_KEY = KEY
    assert exchange_key_set(None) == []
    settings.EXCHANGE_KEY = ""
    assert [w.id for w in exchange_key_set(None)] == ["opennrm.I031"]  # a deployment that never exchanges needs none
    for key in ("short", settings.SECRET_KEY):
        settings.EXCHANGE_KEY = key
        assert [w.id for w in exchange_key_set(None)] == ["opennrm.W031"]
