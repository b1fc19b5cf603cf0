"""Code lists the referral is checked against: nations, countries, languages, local authorities."""

import csv
from functools import lru_cache
from pathlib import Path

import pycountry

NATIONS = {"ENG": "England", "WLS": "Wales", "SCT": "Scotland", "NIR": "Northern Ireland"}
_DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-3 code → short name."""
    return {c.alpha_3: getattr(c, "common_name", None) or c.name for c in pycountry.countries}


@lru_cache(maxsize=1)
def languages() -> dict[str, str]:
    """ISO 639-1 and 639-3 codes → name."""
    found: dict[str, str] = {}
    for lang in pycountry.languages:
        for attr in ("alpha_2", "alpha_3"):
            code = getattr(lang, attr, None)
            if code:
                found[code] = lang.name
    return found


def _squash(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@lru_cache(maxsize=1)
def _country_index() -> dict[str, str]:
    index = {}
    for country in pycountry.countries:
        for name in (getattr(country, "official_name", None), country.name, getattr(country, "common_name", None)):
            if name:
                index[_squash(name)] = country.alpha_3
    index.update({_squash(code): code for code in countries()})
    index.update({"uk": "GBR", "greatbritain": "GBR", "britain": "GBR"})
    return index


def country_code(typed: str) -> str | None:
    """The ISO alpha-3 code of a country as a person types it: its code, or any of its names, ignoring case, spaces
    and punctuation ("Vietnam" = "Viet Nam" = "vnm"); None for one not recognised."""
    return _country_index().get(_squash(typed))


@lru_cache(maxsize=1)
def _language_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for code, name in languages().items():
        key = _squash(name)
        if key not in index or len(code) < len(index[key]):
            index[key] = code
    index.update({code.lower(): code for code in languages()})
    return index


def language_code(typed: str) -> str | None:
    """The ISO code of a language as a person types it: its code, or its English name ignoring case, spaces and
    punctuation (the 2-letter code where there is one); None for one not recognised."""
    return _language_index().get(typed.lower()) or _language_index().get(_squash(typed))


@lru_cache(maxsize=1)
def local_authorities() -> dict[str, tuple[str, str]]:
    """GSS code → (name, nation) of each authority with children's-services duties."""
    with open(_DATA / "local_authorities.csv", newline="", encoding="utf-8") as f:
        return {row["code"]: (row["name"], row["nation"]) for row in csv.DictReader(f)}


def local_authority_name(code: str) -> str:
    return local_authorities().get(code, (code, ""))[0]
