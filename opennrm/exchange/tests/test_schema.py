"""The committed schema is what the field standard generates, and its values are the standard's Value Names."""

from jsonschema import Draft202012Validator

from opennrm.exchange import schema


def test_regenerating_from_the_standard_gives_the_committed_file():
    assert schema.SCHEMA_FILE.read_text(encoding="utf-8") == schema.render(schema.generate()), (
        "Regenerate: .venv/bin/python -m opennrm.exchange.schema > opennrm/exchange/htcds-2.0.schema.json"
    )


def test_the_committed_schema_is_valid_json_schema_2020_12():
    Draft202012Validator.check_schema(schema.committed_schema())


def test_every_field_of_the_standard_is_read():
    fields = schema.read_fields()
    # 83 fields, 3 of them deprecated (shared/domain/statistics.md counts the same in the spreadsheet).
    assert len(fields) == 83
    assert sorted(f.name for f in fields if f.status == "DEPRECATED") == [
        "vic_AgreementToManagePersonalData",
        "vic_DetailsOfVulnerabilities",
        "vic_Vulnerabilities",
    ]
    assert sum(f.core for f in fields) == 40


def test_picklist_enums_are_the_standards_value_names():
    reference = schema.committed_schema()["$defs"]["HtcdsField"]["properties"]
    picklists = [f for f in schema.read_fields() if f.is_picklist and f.value_names and not f.iso_standard]
    assert len(picklists) >= 15
    for field in picklists:
        if field.status == "DEPRECATED":
            assert field.name not in reference
            continue
        held = reference[field.name]
        assert held.get("items", held)["enum"] == list(field.value_names), field.name
    assert schema.picklist_values("vic_TraffickingStatus") == (
        "PossibleVictimOfTrafficking",
        "ActualVictimOfTrafficking",
        "NotAVictimOfTrafficking",
    )
    assert "Servitude" in schema.picklist_values("vic_TypeOfExploitation")


def test_the_exported_record_admits_no_direct_identifier_field():
    case = schema.committed_schema()["$defs"]["ExchangeCase"]
    assert case["additionalProperties"] is False
    forbidden = {
        "prs_Salutation",
        "prs_FirstName",
        "prs_MiddleName",
        "prs_SecondName",
        "prs_Birthdate",
        "prs_IdentityNumber",
        "prs_Email",
        "prs_HomePhone",
        "prs_MobilePhone",
        "prs_MailingStreet",
        "prs_MailingCity",
        "prs_MailingPostalCode",
        "prs_MailingLatitude",
        "prs_MailingLongitude",
        "cas_IncomingReferralDetails",
        "cas_ReasonForCaseClosure",
        "cco_CaseComment",
        "hte_Street",
        "hte_Description",
        "hte_Date",
    }
    everything = set(case["properties"]) | set(
        schema.committed_schema()["$defs"]["HistoricTraffickingEvent"]["properties"]
    )
    assert not forbidden & everything
    # Nothing exported is free text: every string is an enum, an ISO code or a pseudonym.
    for name, prop in case["properties"].items():
        item = prop.get("items", prop)
        if item.get("type") == "string":
            assert "enum" in item or "pattern" in item, name
