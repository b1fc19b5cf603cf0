"""Countries and languages as a person types them, turned into the codes a referral carries."""

import pytest

from opennrm.referrals.codes import country_code, language_code


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Vietnam", "VNM"),
        ("viet nam", "VNM"),
        ("VNM", "VNM"),
        ("vnm", "VNM"),
        ("Socialist Republic of Viet Nam", "VNM"),
        ("UK", "GBR"),
        ("Great Britain", "GBR"),
        ("Côte d'Ivoire", "CIV"),
        ("Atlantis", None),
        ("", None),
    ],
)
def test_a_country_is_known_by_its_code_or_any_of_its_names(typed, code):
    assert country_code(typed) == code


@pytest.mark.parametrize(
    ("typed", "code"),
    [("Vietnamese", "vi"), ("vi", "vi"), ("VIE", "vie"), ("Tigrinya", "ti"), ("tir", "tir"), ("Klingonese", None)],
)
def test_a_language_is_known_by_its_code_or_its_english_name(typed, code):
    assert language_code(typed) == code
