"""Every combination of the contract's categories makes a case the schema accepts (no database: records in memory)."""

import datetime as dt
import uuid

from hypothesis import given, settings, strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from opennrm.accounts.models import Organisation, OrganisationKind
from opennrm.exchange import schema
from opennrm.exchange.export import case_record
from opennrm.referrals.codes import countries
from opennrm.referrals.models import CompetentAuthority, Referral, Status

COUNTRIES = sorted(countries())
# The committed schema's case definition on its own.
CASE = Draft202012Validator(
    {"$defs": schema.committed_schema()["$defs"], "$ref": "#/$defs/ExchangeCase"}, format_checker=FormatChecker()
)
KEY = b"k" * 32


def case_schema_errors(record: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in CASE.iter_errors(record)]


exploitation = st.fixed_dictionaries(
    {
        "types": st.lists(
            st.sampled_from(["labour", "sexual", "criminal", "domestic_servitude", "organ_removal", "other"]),
            min_size=1,
            unique=True,
        ),
        "criminal_subtypes": st.lists(
            st.sampled_from(["county_lines", "cannabis_cultivation", "forced_begging", "theft", "other"]), unique=True
        ),
        "location": st.sampled_from(["uk", "overseas", "uk_and_overseas", "unknown"]),
        "countries": st.lists(st.sampled_from(COUNTRIES), max_size=4, unique=True),
        "started_on": st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2026, 12, 1)).map(str)),
    }
)


@settings(max_examples=200, deadline=None)
@given(
    sex=st.sampled_from(["female", "male", "other", "unknown"]),
    age_group=st.sampled_from(["child", "adult", "unknown"]),
    born=st.one_of(st.none(), st.dates(dt.date(1940, 1, 1), dt.date(2026, 11, 1))),
    nationalities=st.lists(st.sampled_from(COUNTRIES), max_size=2, unique=True),
    entries=st.lists(exploitation, min_size=1, max_size=3),
    status=st.sampled_from(Status.values),
    authority=st.sampled_from(CompetentAuthority.values),
    kind=st.sampled_from(OrganisationKind.values),
    decided=st.booleans(),
    linked=st.booleans(),
)
def test_any_referral_the_contract_allows_maps_to_a_valid_case(
    sex, age_group, born, nationalities, entries, status, authority, kind, decided, linked
):
    referral = Referral(
        uuid=uuid.uuid4(),
        organisation=Organisation(name="Synthetic", kind=kind),
        nation="ENG",
        status=status,
        competent_authority=authority,
        received_at=dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC),
        age_group=age_group,
        potential_victim={
            "sex": sex,
            "nationalities": nationalities,
            **({"date_of_birth": str(born)} if born else {}),
        },
        exploitation=entries,
    )
    record = case_record(referral, key=KEY, person_uuid=uuid.uuid4() if linked else None, decided=decided)
    assert case_schema_errors(record) == []
    assert record["vic_TypeOfExploitation"]
    assert ("vic_TraffickingStatusDecisionMakingOrg" in record) == decided
