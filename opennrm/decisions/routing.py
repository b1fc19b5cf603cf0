"""Which competent authority decides a referral, and when its Reasonable Grounds decision is due.

Every referral goes to the SCA for now; IECA and local-panel routing rules (kept as data) plug in
at `route_referral` without changing its callers.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from opennrm.referrals.models import CompetentAuthority
from opennrm.workdays.calendar import add_working_days

LONDON = ZoneInfo("Europe/London")
REASONABLE_GROUNDS_WORKING_DAYS = 5


def route_referral(*, nation: str, age_group: str, local_authority: str, date_of_birth: dt.date | None, received_on: dt.date) -> str:
    return CompetentAuthority.SCA


def received_on(received_at: dt.datetime) -> dt.date:
    """The date of receipt is the referral's date in Europe/London (contract section 1)."""
    return received_at.astimezone(LONDON).date()


def reasonable_grounds_due(*, received_at: dt.datetime, nation: str, competent_authority: str) -> dt.date:
    return add_working_days(received_on(received_at), REASONABLE_GROUNDS_WORKING_DAYS, nation)
