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


@lru_cache(maxsize=1)
def local_authorities() -> dict[str, tuple[str, str]]:
    """GSS code → (name, nation) of each authority with children's-services duties."""
    with open(_DATA / "local_authorities.csv", newline="", encoding="utf-8") as f:
        return {row["code"]: (row["name"], row["nation"]) for row in csv.DictReader(f)}


def local_authority_name(code: str) -> str:
    return local_authorities().get(code, (code, ""))[0]
