"""The dashboard's period and filters, checked the same way for the page and the API (ADR 0008).

Bad input gives one message per field, naming it; nothing is computed for a period that is not valid.
"""

import datetime as dt
from dataclasses import dataclass

from opennrm.referrals.codes import NATIONS
from opennrm.referrals.models import CompetentAuthority

AGE_GROUPS = {"child": "Child", "adult": "Adult", "unknown": "Not sure (treated as a child)"}
# A longer period makes a chart of more months than anyone can read; five years covers every comparison asked for.
MAX_PERIOD_DAYS = 5 * 366
EARLIEST = dt.date(2009, 4, 1)  # the NRM began on 1 April 2009


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    def months(self) -> list[dt.date]:
        """The first day of every calendar month the period touches, in order."""
        month, last, found = self.start.replace(day=1), self.end.replace(day=1), []
        while month <= last:
            found.append(month)
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return found


@dataclass(frozen=True)
class Filters:
    competent_authority: str | None = None
    nation: str | None = None
    age_group: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if v}


def last_twelve_months(today: dt.date) -> Period:
    """This calendar month and the eleven before it, up to today."""
    month = today.replace(day=1)
    for _ in range(11):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return Period(month, today)


def parse_date(value: str | None, what: str) -> tuple[dt.date | None, str | None]:
    """A date written YYYY-MM-DD; (date, None) or (None, message)."""
    if value is None or not str(value).strip():
        return None, f"Enter the {what}"
    try:
        return dt.date.fromisoformat(str(value).strip()), None
    except ValueError:
        return None, f"The {what} must be a real date, written as YYYY-MM-DD, such as 2026-04-01"


def date_from_parts(day: str, month: str, year: str, what: str) -> tuple[dt.date | None, str | None]:
    """A date from the three boxes of a GOV.UK date input; (date, None) or (None, message)."""
    parts = {"day": (day or "").strip(), "month": (month or "").strip(), "year": (year or "").strip()}
    missing = [name for name, value in parts.items() if not value]
    if len(missing) == 3:
        return None, f"Enter the {what}"
    if missing:
        return None, f"The {what} must include a {' and '.join(missing)}"
    if not all(v.isdigit() for v in parts.values()) or len(parts["year"]) != 4:
        return None, f"The {what} must be a real date, such as 1 4 2026"
    try:
        return dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"])), None
    except ValueError:
        return None, f"The {what} must be a real date, such as 1 4 2026"


def check_period(start: dt.date | None, end: dt.date | None, today: dt.date) -> dict[str, str]:
    """Errors by field ("from", "to") for a period whose dates were each read without error."""
    errors = {}
    if start and start < EARLIEST:
        errors["from"] = "The start date must be on or after 1 April 2009, when the NRM began"
    if start and start > today:
        errors["from"] = "The start date must be today or in the past"
    if end and end > today:
        errors["to"] = "The end date must be today or in the past"
    if start and end and "from" not in errors and "to" not in errors:
        if end < start:
            errors["to"] = "The end date must be the same as or after the start date"
        elif (end - start).days > MAX_PERIOD_DAYS:
            errors["to"] = "The period must be 5 years or shorter"
    return errors


def check_filters(
    competent_authority: str | None, nation: str | None, age_group: str | None
) -> tuple[Filters, dict[str, str]]:
    """Filters from their codes ("" or None means any); errors by field for an unknown code."""
    errors = {}
    if competent_authority and competent_authority not in CompetentAuthority.values:
        errors["competent_authority"] = "Choose SCA, IECA or LOCAL_PANEL as the competent authority"
    if nation and nation not in NATIONS:
        errors["nation"] = "Choose ENG, WLS, SCT or NIR as the nation"
    if age_group and age_group not in AGE_GROUPS:
        errors["age_group"] = "Choose child, adult or unknown as the age group"
    return Filters(competent_authority or None, nation or None, age_group or None), errors
