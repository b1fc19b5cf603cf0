"""Which competent authority decides a referral, and when its Reasonable Grounds decision is due.

The rules are data (`RoutingRule`, edited by the administrator, every change audited), applied as
they stood on the day the referral was received. The order follows the domain (nrm.md 1.5, 2.4):

1. LOCAL_PANEL: a child (or a person who may be a child) whose local authority is a pilot area and
   who is more than 100 days from their 18th birthday. Devolved decision-making exists to keep a
   child's decision inside local safeguarding, so it comes first: a child a panel may decide is
   never sent to the IECA, even if in detention or facing removal.
2. IECA: a person in immigration detention or subject to removal action.
3. SCA: everyone else.

With no date of birth, a child is presumed eligible for the panel: the presumption of age (MSA 2015
s.51) treats them as a child, and nothing shows they are within 100 days of 18.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from opennrm.core.cache import ProcessCache
from opennrm.policy import CHILD_AGE_GROUPS
from opennrm.referrals.models import CompetentAuthority
from opennrm.referrals.references import received_on
from opennrm.workdays.calendar import add_working_days

from .models import DEFAULT_PANEL_PERIOD_DAYS, RoutingRule, RoutingRuleKind

LONDON = ZoneInfo("Europe/London")
REASONABLE_GROUNDS_WORKING_DAYS = 5
PANEL_MIN_DAYS_BEFORE_18 = 100  # "more than 100 days from their 18th birthday" (nrm.md 2.4)


@dataclass(frozen=True)
class RuleBook:
    """Every routing rule, read once: an import routes thousands of referrals against one read."""

    rules: tuple[RoutingRule, ...]

    @classmethod
    def load(cls) -> "RuleBook":
        return cls(tuple(RoutingRule.objects.all()))

    @classmethod
    def current(cls) -> "RuleBook":
        """The rules as this process last read them (core/cache.py): they change a few times a year, referrals arrive all day."""
        return _current_rules.get()

    def pilot_area(self, local_authority: str, day: dt.date) -> RoutingRule | None:
        return next(
            (
                r
                for r in self.rules
                if r.kind == RoutingRuleKind.LOCAL_PANEL_PILOT_AREA
                and r.local_authority == local_authority
                and r.applies_on(day)
            ),
            None,
        )

    def ieca_in_force(self, day: dt.date) -> bool:
        return any(r.kind == RoutingRuleKind.IECA_IMMIGRATION_ACTION and r.applies_on(day) for r in self.rules)


_current_rules = ProcessCache(RuleBook.load)


def forget_routing_rules() -> None:
    _current_rules.forget()


def eighteenth_birthday(date_of_birth: dt.date) -> dt.date:
    try:
        return date_of_birth.replace(year=date_of_birth.year + 18)
    except ValueError:  # born on 29 February: of age on 1 March in a common year
        return dt.date(date_of_birth.year + 18, 3, 1)


def panel_eligible_by_age(*, age_group: str, date_of_birth: dt.date | None, received_on: dt.date) -> bool:
    if age_group not in CHILD_AGE_GROUPS:
        return False
    if date_of_birth is None:
        return True  # presumed an eligible child: see the module's docstring
    return (eighteenth_birthday(date_of_birth) - received_on).days > PANEL_MIN_DAYS_BEFORE_18


def route_referral(
    *,
    nation: str,
    age_group: str,
    local_authority: str,
    date_of_birth: dt.date | None,
    received_on: dt.date,
    immigration_detention: bool = False,
    removal_action: bool = False,
    rules: RuleBook | None = None,
) -> str:
    rules = rules or RuleBook.current()
    if (
        local_authority
        and rules.pilot_area(local_authority, received_on)
        and panel_eligible_by_age(age_group=age_group, date_of_birth=date_of_birth, received_on=received_on)
    ):
        return CompetentAuthority.LOCAL_PANEL
    if (immigration_detention or removal_action) and rules.ieca_in_force(received_on):
        return CompetentAuthority.IECA
    return CompetentAuthority.SCA


def reasonable_grounds_due(
    *,
    received_at: dt.datetime,
    nation: str,
    competent_authority: str,
    local_authority: str = "",
    rules: RuleBook | None = None,
) -> dt.date:
    """The 5th working day of the nation after receipt; for a panel, its own period in calendar days."""
    day = received_on(received_at)
    if competent_authority == CompetentAuthority.LOCAL_PANEL:
        rule = (rules or RuleBook.current()).pilot_area(local_authority, day) if local_authority else None
        return day + dt.timedelta(days=rule.panel_period_days if rule else DEFAULT_PANEL_PERIOD_DAYS)
    return add_working_days(day, REASONABLE_GROUNDS_WORKING_DAYS, nation)
