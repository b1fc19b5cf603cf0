"""The mapping of UK categories to HTCDS values: one test per family of rows, and its refusals."""

import datetime as dt

import pytest

from opennrm.accounts.models import OrganisationKind
from opennrm.exchange import mapping, schema
from opennrm.exchange.mapping import UnknownCategory, lookup
from opennrm.referrals.codes import countries
from opennrm.referrals.models import CompetentAuthority, Status

# The contract's value sets (section 2), which the table must cover exactly.
SEXES = {"female", "male", "other", "unknown"}
AGE_GROUPS = {"child", "adult", "unknown"}
EXPLOITATION_TYPES = {"labour", "sexual", "criminal", "domestic_servitude", "organ_removal", "other"}
CRIMINAL_SUBTYPES = {"county_lines", "cannabis_cultivation", "forced_begging", "theft", "other"}
LOCATIONS = {"uk", "overseas", "uk_and_overseas", "unknown"}


def family(name: str, field: str) -> dict[str, str]:
    return {uk: fields[field] for (fam, uk), fields in mapping.table().items() if fam == name and field in fields}


def allowed(field: str) -> set[str]:
    case = schema.committed_schema()["$defs"]
    for definition in ("ExchangeCase", "Organisation", "HistoricTraffickingEvent"):
        prop = case[definition]["properties"].get(field)
        if prop is not None:
            item = prop.get("items", prop)
            return set(item.get("enum", []))
    raise AssertionError(f"{field} is not in the export's profile")


def test_every_row_names_a_known_family_and_a_value_the_schema_allows():
    for row in mapping.rows():
        assert row.family in mapping.FAMILIES, row
        if row.htcds_value and row.htcds_field != "hte_Country":
            assert row.htcds_value in allowed(row.htcds_field), row
    keys = [(r.family, r.uk_value, r.htcds_field) for r in mapping.rows()]
    assert len(keys) == len(set(keys)), "a UK value is mapped twice for one field"


def test_sex_to_gender():
    assert family("sex", "prs_Gender") == {
        "female": "Feminine",
        "male": "Masculine",
        "other": "NonConforming",
        "unknown": "NonSpecifiedUnknown",
    }


def test_age_groups_to_majority_status():
    assert family("age_group", "x_uk_majority_status") == {"child": "Minor", "adult": "Adult", "unknown": "Unknown"}


@pytest.mark.parametrize(
    "age, band",
    [
        (0, "0--8"),
        (8, "0--8"),
        (9, "9--17"),
        (17, "9--17"),
        (18, "18--20"),
        (29, "27--29"),
        (30, "30--38"),
        (48, "48+"),
        (90, "48+"),
    ],
)
def test_age_bands_are_ctdcs(age, band):
    assert mapping.age_band(age) == band


def test_age_is_counted_in_whole_years():
    assert mapping.age_on(dt.date(2010, 3, 1), dt.date(2028, 2, 29)) == 17
    assert mapping.age_on(dt.date(2010, 3, 1), dt.date(2028, 3, 1)) == 18


def test_exploitation_types():
    assert family("exploitation_type", "vic_TypeOfExploitation") == {
        "labour": "ForcedLabour",
        "sexual": "SexualExploitation",
        "criminal": "Other",
        "domestic_servitude": "Servitude",
        "organ_removal": "OrganRemoval",
        "other": "Other",
    }
    assert set(family("criminal_subtype", "vic_TypeOfExploitation")) == CRIMINAL_SUBTYPES
    assert family("criminal_subtype", "vic_TypeOfExploitation")["forced_begging"] == "ForcedBegging"
    assert {v for k, v in family("criminal_subtype", "vic_TypeOfExploitation").items() if k != "forced_begging"} == {""}


def test_exploitation_locations():
    assert family("exploitation_location", "hte_Country") == {
        "uk": "GB",
        "uk_and_overseas": "GB",
        "overseas": "",
        "unknown": "",
    }


def test_every_status_has_a_trafficking_status_and_a_case_status():
    status = family("status", "vic_TraffickingStatus")
    assert set(status) == set(Status.values)
    assert status["conclusive_grounds_positive"] == "ActualVictimOfTrafficking"
    assert status["conclusive_grounds_negative"] == "NotAVictimOfTrafficking"
    assert status["reasonable_grounds_negative"] == "NotAVictimOfTrafficking"
    assert {status[s] for s in ("awaiting_reasonable_grounds", "recovery_period", "awaiting_conclusive_grounds")} == {
        "PossibleVictimOfTrafficking"
    }
    case = family("status", "cas_Status")
    assert set(case) == set(Status.values)
    assert {s for s, v in case.items() if v == "Active"} == {
        "awaiting_reasonable_grounds",
        "recovery_period",
        "awaiting_conclusive_grounds",
        "reconsideration",
    }


def test_decision_makers_and_referring_organisations():
    assert family("competent_authority", "vic_TraffickingStatusDecisionMakingOrg") == dict.fromkeys(
        CompetentAuthority.values, "NonPoliceGovernmentalOrganization"
    )
    org = family("organisation_kind", "org_Type")
    assert set(org) == set(OrganisationKind.values)
    assert org["police"] == "LawEnforcement"
    assert org["ngo"] == "NGO"
    assert org["local_authority"] == "LocalGovernmentOrganisation"
    assert org["border_force"] == "ImmigrationService"


def test_the_table_covers_the_contracts_value_sets_exactly():
    assert set(family("sex", "prs_Gender")) == SEXES
    assert set(family("age_group", "x_uk_majority_status")) == AGE_GROUPS
    assert set(family("exploitation_type", "vic_TypeOfExploitation")) == EXPLOITATION_TYPES
    assert set(family("exploitation_location", "hte_Country")) == LOCATIONS


def test_every_country_a_referral_may_hold_has_an_alpha_2_code():
    for alpha3 in countries():
        assert len(mapping.country_alpha2(alpha3)) == 2
    assert mapping.country_alpha2("VNM") == "VN"
    assert mapping.country_alpha2("ALB") == "AL"
    assert mapping.country_alpha2("GBR") == "GB"


@pytest.mark.parametrize(
    "family_name, value, field",
    [
        ("sex", "intersex", "prs_Gender"),
        ("exploitation_type", "cyber", "vic_TypeOfExploitation"),
        ("status", "archived", "cas_Status"),
        ("organisation_kind", "church", "org_Type"),
    ],
)
def test_an_unknown_category_is_refused_by_name(family_name, value, field):
    with pytest.raises(UnknownCategory) as refused:
        lookup(family_name, value, field)
    assert (refused.value.family, refused.value.value) == (family_name, value)
    message = str(mapping.MappingError("Referral NRM-2026-000001", family_name, value))
    assert "NRM-2026-000001" in message and repr(value) in message


@pytest.mark.parametrize("code", ["XKX", "vnm", "VN", "", "ZZZ"])
def test_an_unknown_country_is_refused(code):
    with pytest.raises(UnknownCategory):
        mapping.country_alpha2(code)
