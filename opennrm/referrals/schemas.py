"""The shape of a referral and of a Duty to Notify, as the API accepts them (contract sections 2 and 3).

Field-level checks live here; checks across fields live in `validation.py`, and both report at once.
"""

import datetime as dt
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from .codes import countries, languages, local_authorities


def _reject_controls(value: str, *, multiline: bool) -> str:
    allowed = {"\n", "\r", "\t"} if multiline else set()
    for ch in value:
        cat = unicodedata.category(ch)
        if (cat == "Cc" and ch not in allowed) or cat == "Cs":
            # Formatted here: pydantic fills only plain {name} placeholders, not format specs.
            what = "unpaired surrogate" if cat == "Cs" else "control character"
            rule = (
                "text may be in any script and have line breaks, but no other control characters"
                if multiline
                else "this is a single line of text, in any script, without line breaks or control characters"
            )
            code = "unpaired_surrogate" if cat == "Cs" else "control_characters"
            raise PydanticCustomError(code, f"Remove the {what} U+{ord(ch):04X}: {rule}")
    return value


def _quoted(value: str) -> str:
    """The caller's value for an error message, cut short so a long one cannot swamp the message."""
    return repr(value if len(value) <= 20 else value[:20] + "…")


def _single_line(value: str) -> str:
    return _reject_controls(value, multiline=False)


def _multi_line(value: str) -> str:
    return _reject_controls(value, multiline=True)


# Zero-width non-joiner (U+200C) and joiner (U+200D) are part of how names are spelled in Persian and other
# Arabic-script languages and in Indic scripts (they decide whether letters join), so a name may hold them. Every
# other invisible format character is refused: bidirectional overrides, embeddings and isolates (U+202A-U+202E,
# U+2066-U+2069) make a name display as something else, and the rest (zero-width space, word joiner, byte order
# mark, soft hyphen...) only hide a difference between two names that look the same.
NAME_JOINERS = frozenset("\u200c\u200d")
NAME_WITHOUT_LETTERS = (
    "Must include at least one letter, in any script: "
    "a name of only spaces, punctuation, digits or invisible characters is not a name"
)


def name_problem(value: str) -> str | None:
    """What is wrong with this as a person's name, in words that say what to fix; None for a name.

    Any script is a name (Arabic, Ge'ez, Vietnamese with its combining marks, Chinese): it needs a letter
    (Unicode category L), and no invisible character but the joiners.
    """
    for ch in value:
        category = unicodedata.category(ch)
        if (category in ("Cf", "Zl", "Zp") and ch not in NAME_JOINERS) or category in ("Cc", "Cs"):
            return (
                f"Remove the invisible character U+{ord(ch):04X} ({unicodedata.name(ch, 'a control character').lower()}): "
                "a name may be in any script, but not hold characters that cannot be seen or that change how it is shown"
            )
    if not any(unicodedata.category(ch).startswith("L") for ch in value):
        return NAME_WITHOUT_LETTERS
    return None


def _name(value: str) -> str:
    # Composed (NFC), so that one name typed on two keyboards is stored, shown and matched alike.
    value = unicodedata.normalize("NFC", value)
    if (problem := name_problem(value)) is not None:
        # Its code says which problem it is (FieldError.code): no letter at all, or a character that cannot be seen.
        raise PydanticCustomError(
            "name_without_letters" if problem == NAME_WITHOUT_LETTERS else "invisible_character", problem
        )
    return value


def _country(value: str) -> str:
    if value not in countries():
        raise PydanticCustomError(
            "country_code",
            f"Use an ISO 3166-1 alpha-3 country code, such as VNM, ALB or GBR ({_quoted(value)} is not one)",
        )
    return value


def _language(value: str) -> str:
    if value not in languages():
        raise PydanticCustomError(
            "language_code",
            f"Use an ISO 639-1 or 639-3 language code, such as vi, sq or tir ({_quoted(value)} is not one)",
        )
    return value


def _local_authority(value: str) -> str:
    if value not in local_authorities():
        raise PydanticCustomError(
            "local_authority_code",
            f"Use the ONS (GSS) code of a local authority, such as E09000008 for Croydon ({_quoted(value)} is not one)",
        )
    return value


Line = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_single_line)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]
ShortLine = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_single_line)]
Text = Annotated[str, Field(min_length=1, max_length=20_000), AfterValidator(_multi_line)]
Country = Annotated[str, AfterValidator(_country)]
Language = Annotated[str, AfterValidator(_language)]
Nation = Literal["ENG", "WLS", "SCT", "NIR"]
HomeOfficeReference = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9/\-]*$")]

AgeGroup = Literal["child", "adult", "unknown"]
Sex = Literal["female", "male", "other", "unknown"]
Precision = Literal["day", "month", "year", "estimated"]
ExploitationType = Literal["labour", "sexual", "criminal", "domestic_servitude", "organ_removal", "other"]
CriminalSubtype = Literal["county_lines", "cannabis_cultivation", "forced_begging", "theft", "other"]
Location = Literal["uk", "overseas", "uk_and_overseas", "unknown"]


# A referral or Duty to Notify describes at most this many exploitation situations (contract section 2).
MAX_EXPLOITATION_SITUATIONS = 20


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PotentialVictim(Strict):
    given_names: Name | None = None
    family_name: Name | None = None
    aliases: Annotated[list[Name], Field(max_length=20)] | None = None
    names_in_original_script: Name | None = None
    date_of_birth: dt.date | None = None
    date_of_birth_precision: Precision | None = None
    age_group: AgeGroup
    age_disputed: bool | None = None
    sex: Sex
    nationalities: Annotated[list[Country], Field(max_length=2)] | None = None
    languages: Annotated[list[Language], Field(max_length=10)] | None = None
    interpreter_needed: bool | None = None
    home_office_reference: HomeOfficeReference | None = None
    current_address: Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_multi_line)] | None = None
    # Free text (the contract's own example is "text"): numbers come with notes such as "WhatsApp only".
    phone: Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_single_line)] | None = None
    # Route the referral to the IECA (decisions/routing.py) unless a local panel decides a child's case.
    immigration_detention: bool | None = Field(None, description="The person is in immigration detention")
    removal_action: bool | None = Field(
        None, description="The person is subject to removal action (deportation or administrative removal)"
    )


class LocalAuthorityContact(Strict):
    local_authority: Annotated[str, AfterValidator(_local_authority)]
    name: Line | None = None
    contacted_at: AwareDatetime | None = None


class Consent(Strict):
    given: bool
    recorded_at: AwareDatetime | None = None


class Exploitation(Strict):
    types: Annotated[list[ExploitationType], Field(min_length=1, max_length=6)]
    criminal_subtypes: Annotated[list[CriminalSubtype], Field(max_length=5)] | None = None
    location: Location | None = None
    uk_towns: Annotated[list[Line], Field(max_length=10)] | None = None
    countries: Annotated[list[Country], Field(max_length=10)] | None = None
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    ongoing: bool | None = None
    account: Text | None = None


class Police(Strict):
    force: Line | None = None
    crime_reference: ShortLine | None = None


class ReferralIn(Strict):
    nation: Nation
    first_responder_reference: ShortLine | None = None
    potential_victim: PotentialVictim
    local_authority_contact: LocalAuthorityContact | None = None
    consent: Consent | None = None
    exploitation: Annotated[list[Exploitation], Field(min_length=1, max_length=MAX_EXPLOITATION_SITUATIONS)]
    indicators: Annotated[list[Text], Field(max_length=50)] | None = None
    police: Police | None = None


class ImportLine(ReferralIn):
    """One line of `opennrm import`: a referral plus when it was received and the source's own id."""

    received_at: AwareDatetime
    external_id: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_single_line)]


class DutyToNotifyIn(Strict):
    """Nothing that could identify the person: no names, date of birth, address, phone or references."""

    nation: Nation
    first_responder_reference: ShortLine | None = None
    age_group: AgeGroup
    sex: Sex
    nationalities: Annotated[list[Country], Field(max_length=2)] | None = None
    exploitation: Annotated[list[Exploitation], Field(min_length=1, max_length=MAX_EXPLOITATION_SITUATIONS)]
    indicators: Annotated[list[Text], Field(max_length=50)] | None = None
    police: Police | None = None
