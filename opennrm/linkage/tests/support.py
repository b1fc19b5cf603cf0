"""Referrals of one child under different spellings, for the duplicate-detection tests."""

import copy
import datetime as dt

from django.utils import timezone

from opennrm.cases.services import referral_create
from opennrm.conftest import VALID_CHILD_REFERRAL
from opennrm.referrals.validation import validate_referral


def child_body(
    *,
    given: str,
    family: str,
    dob: str,
    precision: str = "day",
    disputed: bool = False,
    sex: str = "male",
    nationalities=("ERI",),
    original: str | None = None,
    home_office_reference: str | None = None,
    aliases=None,
) -> dict:
    body = copy.deepcopy(VALID_CHILD_REFERRAL)
    body["potential_victim"].update(
        given_names=given,
        family_name=family,
        date_of_birth=dob,
        date_of_birth_precision=precision,
        age_disputed=disputed,
        sex=sex,
        nationalities=list(nationalities),
        names_in_original_script=original,
        home_office_reference=home_office_reference,
        aliases=aliases,
        languages=["ti"],
    )
    body["local_authority_contact"]["contacted_at"] = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    return body


def refer(actor, body: dict):
    data, errors = validate_referral(body, now=timezone.now())
    assert not errors, errors
    return referral_create(actor=actor, data=data)


# One Eritrean boy, referred twice: given + father's + grandfather's names, transliterated differently the second
# time (the father's name split, the grandfather's dropped) and taken for Ethiopian. And a different boy.
TESFAYE_FIRST = dict(given="Tesfaye", family="Gebremedhin Haile", dob="2010-04-12", original="ተስፋየ ገብረመድህን ሃይለ")
TESFAYE_AGAIN = dict(given="Tesfay", family="Gebre Medhin", dob="2010-04-12", nationalities=("ETH",))
SOMEONE_ELSE = dict(given="Dawit", family="Tsegay", dob="2004-09-30", nationalities=("SDN",))
