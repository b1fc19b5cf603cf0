"""Home Office references made comparable: the key a reference is stored under and looked up by.

An officer types a reference as it reaches them: in lower case, with spaces, a stray dash, a dash
pasted from a document (en dash, minus sign, non-breaking hyphen) or a non-breaking space. A lookup
that missed on any of these would answer "no record" for a child who is in the NRM, so the key
folds case and drops every separator that does not tell two references apart. The slash is kept:
it divides a reference's parts (`H1234567/26`), and dropping it could join two different ones.
"""

import datetime as dt
import re
import unicodedata
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def received_on(received_at: dt.datetime) -> dt.date:
    """The date of receipt is the referral's date in Europe/London (contract section 1)."""
    return received_at.astimezone(LONDON).date()


def referral_reference(prefix: str, when: dt.datetime, pk: int) -> str:
    """A record's reference: NRM-2026-000123 for a referral, DTN-… for a Duty to Notify report."""
    return f"{prefix}-{received_on(when).year}-{pk:06d}"


# What a key may hold: a stored reference is letters, digits, / and - (schemas.HomeOfficeReference).
_KEY = re.compile(r"[a-z0-9][a-z0-9/]*")
KEY_MAX_LENGTH = 40
# A lookup may carry spaces and dashes beyond the reference's 40 characters, but not without end.
TYPED_MAX_LENGTH = 100


def _is_dropped(char: str) -> bool:
    # After NFKC, which already turns full-width letters, digits and hyphens into ASCII and the no-break space
    # into a space. Pd: dash punctuation (hyphen, en and em dashes, ...); Cf: invisible formatting (soft hyphen,
    # zero-width space and joiners, byte-order mark). Other control characters (NUL) are kept, so refused.
    return char.isspace() or unicodedata.category(char) in ("Pd", "Cf") or char in "\u2212._"


def home_office_reference_key(value: str | None) -> str:
    """The form of a Home Office reference that storage and lookup compare: case-folded, with no separators."""
    if not value:
        return ""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return "".join(c for c in folded if not _is_dropped(c))


def home_office_reference_problem(typed: str) -> str | None:
    """What to fix in a Home Office reference typed for a lookup, or None when it can be looked up."""
    key = home_office_reference_key(typed)
    if not key:
        return "Enter a Home Office reference"
    if len(typed) > TYPED_MAX_LENGTH or len(key) > KEY_MAX_LENGTH:
        return f"A Home Office reference is {KEY_MAX_LENGTH} characters or fewer, not counting spaces and dashes"
    if not _KEY.fullmatch(key):
        return "Enter the Home Office reference as letters, digits, / and - only (spaces are ignored)"
    return None
