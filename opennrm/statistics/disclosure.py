"""Statistical disclosure control of counts and their summaries (contract section 7): pure functions, no database.

The default policy (contract section 7): a non-zero count below 5 is suppressed (`c`, the GSS shorthand
"suppressed to protect confidentiality"); every other count, totals included, is rounded to the nearest 5
from the unrounded figures, so parts need not add up to their rounded total; a count of 0 is published as 0
(a count that rounds to 0 is either 0 or suppressed, so 0 says nothing about any child). Secondary
suppression: counts are published in tables whose lines say "this total is the sum of those cells"
(`protect_tables`); after rounding, every suppressed count is checked by integer programming against
what an attacker can work out from everything published (each rounded count lies within half the
rounding base of its true value, a published 0 is exactly 0, a suppressed count is at least 1), and the
smallest published count beside it is suppressed as well until none of them is narrowed to fewer possible
values than the suppression alone leaves (1 to threshold - 1: four values under the default policy). Lines may hold cells that are never
published (the decisions that missed a deadline,
say, beside those that met it and their sum): they take part in the check all the same.

Medians and percentiles are shown only for a group of at least `min_group_for_summary` whose count is
itself published; percentages only over a published base of at least `min_percentage_base`, computed from
the unrounded counts, when neither the part nor the rest is a count that would be suppressed.

The same module will serve the official-statistics publication (quarterly and annual tables sharing
totals); its policy is versioned so that a release can say which rules made it.
"""

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

SUPPRESSED = "c"  # GSS shorthand: suppressed to protect confidentiality


@dataclass(frozen=True)
class DisclosurePolicy:
    """The rules, named by version so that a figure can say which rules it was published under."""

    version: str = "2026-12-08"
    threshold: int = 5  # a count of 1 to threshold - 1 is suppressed
    rounding_base: int = 5  # every other count is rounded to the nearest multiple of this
    min_percentage_base: int = 50  # a percentage of fewer cases is not shown
    percentage_decimals: int = 0  # a percentage is shown to this many decimal places
    min_group_for_summary: int = 5  # a median or percentile of fewer cases is not shown

    def is_small(self, count: int) -> bool:
        """A count that would be suppressed on its own: 1 to threshold - 1."""
        return 0 < count < self.threshold

    def rounded(self, count: int) -> int:
        """The nearest multiple of the rounding base, halves up."""
        base = self.rounding_base
        return base * ((2 * count + base) // (2 * base))

    def true_range(self, shown: int) -> tuple[int, int]:
        """The true counts that are published as `shown`: what anyone can tell from a published count."""
        base = self.rounding_base
        low, high = math.ceil(shown - base / 2), math.ceil(shown + base / 2) - 1
        low = max(low, 0)
        if shown > 0:
            low = max(low, self.threshold)  # a smaller count would have been suppressed, not rounded
        elif high < self.threshold:
            high = 0  # 1 to threshold - 1 would have been suppressed: a published 0 is exactly 0
        return low, high


DEFAULT_POLICY = DisclosurePolicy()


@dataclass(frozen=True)
class Published:
    """A figure as it may be shown: its value (None when it is not), and its GSS shorthand code ("" or "c")."""

    value: int | float | None
    obs_status: str = ""

    @property
    def suppressed(self) -> bool:
        return self.obs_status == SUPPRESSED


WITHHELD = Published(None, SUPPRESSED)

Key = Hashable
Line = tuple[Key, Sequence[Key]]  # (total, the cells that add up to it)


def protect_count(count: int, policy: DisclosurePolicy = DEFAULT_POLICY) -> Published:
    """A count published on its own: suppressed when small, otherwise rounded."""
    return WITHHELD if policy.is_small(count) else Published(policy.rounded(count))


def protect_tables(
    counts: Mapping[Key, int],
    lines: Iterable[Line],
    *,
    hidden: Iterable[Key] = (),
    policy: DisclosurePolicy = DEFAULT_POLICY,
    published_before: Mapping[Key, bool] | None = None,
) -> dict[Key, Published]:
    """Every count of `counts` but the hidden ones, protected: primary suppression, rounding, then secondary suppression.

    `lines` say which counts are the sums of which, across every table published together (a cell
    shared by two tables is one key), so that no suppressed count can be worked out from the rest.
    `published_before` names counts an earlier release already published (key -> whether it was suppressed there;
    their `counts` are the published value, or the true count when suppressed): they take part in the check as
    anyone can read them, are never suppressed anew, and are not in the answer (ADR 0030: a year beside its quarters).
    """
    lines = [(total, tuple(cells)) for total, cells in lines]
    hidden = frozenset(hidden)
    before = dict(published_before or {})
    fixed = frozenset(before)
    suppressed = {k for k, n in counts.items() if policy.is_small(n) and k not in hidden and k not in fixed}
    suppressed |= {k for k, was_suppressed in before.items() if was_suppressed}
    exposed = exposed_counts(counts, lines, suppressed, hidden=hidden, policy=policy)
    while exposed:
        suppressed.add(_complement(exposed[0], counts, lines, suppressed, hidden | fixed))
        # Withholding a count only widens what anyone can tell of the others: only those still exposed need checking again.
        exposed = exposed_counts(counts, lines, suppressed, hidden=hidden, policy=policy, among=exposed)
    return {
        k: WITHHELD if k in suppressed else Published(policy.rounded(n))
        for k, n in counts.items()
        if k not in hidden and k not in fixed
    }


def exposed_counts(
    counts: Mapping[Key, int],
    lines: Sequence[Line],
    suppressed: set,
    *,
    hidden: frozenset = frozenset(),
    policy: DisclosurePolicy = DEFAULT_POLICY,
    among: Iterable[Key] | None = None,
) -> list[Key]:
    """The small suppressed counts (of `among`, or all) that what is published narrows to fewer possible values than
    "1 to threshold - 1"."""
    exposed = []
    for key in sorted((k for k in (suppressed if among is None else among) if policy.is_small(counts[k])), key=repr):
        low, high = feasible_range(key, counts, lines, suppressed, hidden=hidden, policy=policy)
        if high - low + 1 < policy.threshold - 1:
            exposed.append(key)
    return exposed


def feasible_range(
    key: Key,
    counts: Mapping[Key, int],
    lines: Sequence[Line],
    suppressed: set,
    *,
    hidden: frozenset = frozenset(),
    policy: DisclosurePolicy = DEFAULT_POLICY,
) -> tuple[int, float]:
    """The least and greatest whole values a count can have, given everything published and how the counts add up.

    The attacker's best: an integer programme over every count connected to `key` by a line.
    """
    keys = _connected(key, lines)
    index = {k: i for i, k in enumerate(keys)}
    # Unknown counts are capped above every true one, only so that the solver answers; reaching the cap means unbounded.
    cap = sum(counts[k] for k in keys) + 1
    low, high = np.zeros(len(keys)), np.full(len(keys), float(cap))
    for k, i in index.items():
        if k in suppressed:
            low[i] = 1
        elif k not in hidden:
            low[i], high[i] = policy.true_range(policy.rounded(counts[k]))
    rows = []
    for total, cells in lines:
        if total in index:
            row = np.zeros(len(keys))
            row[index[total]] = 1
            for cell in cells:
                row[index[cell]] -= 1
            rows.append(row)
    constraints = [LinearConstraint(np.array(rows), 0, 0)] if rows else []
    objective = np.zeros(len(keys))
    objective[index[key]] = 1
    ends = []
    for sign in (1, -1):
        result = milp(
            sign * objective, integrality=np.ones(len(keys)), bounds=Bounds(low, high), constraints=constraints
        )
        if result.status != 0:  # the true counts always satisfy the constraints, so this is a fault, not a finding
            raise RuntimeError(f"The disclosure check could not bound {key!r}: {result.message}")
        ends.append(round(sign * result.fun))
    return ends[0], (math.inf if ends[1] >= cap else ends[1])


def _connected(key: Key, lines: Sequence[Line]) -> list[Key]:
    """Every count that shares a line with `key`, or with one that does, and so on."""
    # Which lines each count is on, once: a walk over the lines for every count found was quadratic (ADR 0030).
    on_lines: dict = {}
    for i, (total, cells) in enumerate(lines):
        for member in (total, *cells):
            on_lines.setdefault(member, []).append(i)
    found, todo, seen_lines = {key}, [key], set()
    while todo:
        current = todo.pop()
        for i in on_lines.get(current, ()):
            if i in seen_lines:
                continue
            seen_lines.add(i)
            total, cells = lines[i]
            for member in (total, *cells):
                if member not in found:
                    found.add(member)
                    todo.append(member)
    return sorted(found, key=repr)


def _complement(key: Key, counts: Mapping[Key, int], lines: Sequence[Line], suppressed: set, hidden: frozenset) -> Key:
    """The published count to suppress beside an exposed one: the smallest non-zero count on one of its lines."""
    partners = {member for total, cells in lines if key in (total, *cells) for member in (total, *cells)}
    # Failing a partner, a count the hidden partners add up with. Never a 0: a published 0 is exact, and that a
    # suppressed count is at least 1 is part of what anyone knows (the check assumes it).
    for pool in (partners, _connected(key, lines)):
        candidates = [m for m in pool if m not in suppressed and m not in hidden and counts[m] > 0]
        if candidates:
            return min(candidates, key=lambda m: (counts[m], repr(m)))
    raise ValueError(f"Nothing is left to suppress beside {key!r}")


def protect_summary(
    value: float | None, *, group: int, group_published: Published, policy: DisclosurePolicy = DEFAULT_POLICY
) -> Published:
    """A median or percentile of `group` cases: not shown for too few cases, or when the group's own count is suppressed."""
    if value is None:
        return Published(None)
    if group < policy.min_group_for_summary or group_published.suppressed:
        return WITHHELD
    return Published(value)


def protect_percentage(
    part: int, base: int, *, base_published: Published, policy: DisclosurePolicy = DEFAULT_POLICY
) -> Published:
    """100 * part / base from the unrounded counts, when the base is big enough and neither part nor rest is small."""
    if base == 0:
        return Published(None)
    if (
        base < policy.min_percentage_base
        or base_published.suppressed
        or policy.is_small(part)
        or policy.is_small(base - part)
    ):
        return WITHHELD
    return Published(round(100 * part / base, policy.percentage_decimals))
