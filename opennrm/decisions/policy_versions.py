"""The rules a decision is made under, as effective-dated tables: historic cases compute as they did then.

Each decision stores the version of both tables in force on its date (nrm.md 1.6, 1.7 and 6).
"""

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RecoveryPolicy:
    version: str
    effective_from: dt.date
    recovery_period_days: int


@dataclass(frozen=True)
class GuidanceVersion:
    version: str
    effective_from: dt.date
    reasonable_grounds_threshold: str


# Newest last. The recovery period fell from at least 45 to at least 30 days on 13 December 2022
# (Nationality and Borders Act 2022; Hansard 13 Dec 2022).
RECOVERY_POLICIES = (
    RecoveryPolicy("msa-2015-45-day", dt.date(2015, 7, 31), 45),
    RecoveryPolicy("naba-2022-30-day", dt.date(2022, 12, 13), 30),
)

# The Reasonable Grounds threshold wording. The June 2023 withdrawal of the "objective factors" test
# is dated to the month only in our sources; 1 July 2023 is the first day we can be sure it applied.
GUIDANCE_VERSIONS = (
    GuidanceVersion("rg-suspects-not-prove", dt.date(2015, 7, 31), "suspects but cannot prove"),
    GuidanceVersion(
        "rg-objective-factors-2023-01",
        dt.date(2023, 1, 30),
        "reasonable grounds to believe, based on objective factors but falling short of conclusive proof",
    ),
    GuidanceVersion(
        "rg-all-evidence-2023-07",
        dt.date(2023, 7, 1),
        "reasonable grounds to believe, based on all available general and specific evidence but falling short of conclusive proof",
    ),
)


def _in_force[T](table: tuple[T, ...], day: dt.date) -> T:
    current = table[0]
    for version in table:
        if version.effective_from <= day:
            current = version
    return current


def recovery_policy_on(day: dt.date) -> RecoveryPolicy:
    return _in_force(RECOVERY_POLICIES, day)


def guidance_on(day: dt.date) -> GuidanceVersion:
    return _in_force(GUIDANCE_VERSIONS, day)
