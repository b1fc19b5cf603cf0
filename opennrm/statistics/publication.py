"""Disclosure control of a whole publication at once, and its figures with their shorthand codes (ADR 0030).

Pure functions, no database. Every table's counts go through one call of `disclosure.protect_tables`, with
the lines of every table: a count that two tables share is one key, so it is suppressed in both or in
neither, and no table lets anyone work out what another withholds. Medians and percentiles follow their
group's count; percentages are worked out from the unrounded counts. A last check refuses the publication
if any published count is a true count of 1 to threshold - 1 or is not a multiple of the rounding base.
"""

from dataclasses import asdict, dataclass, fields

from django.conf import settings

from .disclosure import SUPPRESSED, DisclosurePolicy, Published, protect_percentage, protect_summary, protect_tables
from .errors import PublicationError
from .tables import Cell, Table, Tabulation

PROVISIONAL = "p"
REVISED = "r"
# The contract's floor (section 7): a non-zero count below 5 is never published, whatever a policy says.
MINIMUM_THRESHOLD = 5


class PolicyError(PublicationError, ValueError):
    """A disclosure policy that would publish what the contract forbids."""


@dataclass(frozen=True)
class PublicationPolicy(DisclosurePolicy):
    """The dashboards' rules (disclosure.DisclosurePolicy) and the publication's own: categories too rare to name."""

    version: str = "publication-2026-12-08"
    # A nationality or police force named in fewer referrals than this in the period is counted under "Other".
    min_category_count: int = 10
    # Secondary suppression of the cells' whole neighbourhood is checked by integer programming (disclosure.py).

    def validate(self) -> None:
        problems = []
        if self.threshold < MINIMUM_THRESHOLD:
            problems.append(
                f"threshold {self.threshold} would publish counts of {self.threshold} to {MINIMUM_THRESHOLD - 1}: "
                f"the contract (section 7) suppresses every non-zero count below {MINIMUM_THRESHOLD}"
            )
        if self.rounding_base < 1:
            problems.append(f"rounding base {self.rounding_base} must be 1 or more")
        if self.min_group_for_summary < self.threshold:
            problems.append(
                f"minimum group for a median or percentile ({self.min_group_for_summary}) is below the threshold "
                f"({self.threshold}): a median of fewer cases than the threshold would be published"
            )
        if self.min_percentage_base < self.threshold:
            problems.append(
                f"minimum base for a percentage ({self.min_percentage_base}) is below the threshold ({self.threshold})"
            )
        if self.min_category_count < self.threshold:
            problems.append(
                f"minimum count to name a category ({self.min_category_count}) is below the threshold ({self.threshold})"
            )
        if problems:
            raise PolicyError("The disclosure policy cannot be used:\n  " + "\n  ".join(problems))

    def as_dict(self) -> dict:
        return asdict(self)


def configured_policy() -> PublicationPolicy:
    """The policy of settings.STATISTICS_PUBLICATION_POLICY (a dict of PublicationPolicy's fields), else the default."""
    overrides = getattr(settings, "STATISTICS_PUBLICATION_POLICY", None) or {}
    known = {f.name for f in fields(PublicationPolicy)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise PolicyError(f"Unknown disclosure policy settings: {', '.join(unknown)}")
    policy = PublicationPolicy(**overrides)
    policy.validate()
    return policy


@dataclass
class Figure:
    table: str
    dims: tuple[tuple[str, str], ...]
    measure: str
    value: int | float | None
    obs_status: str  # "", "c", "p", "r", "z"

    @property
    def name(self) -> str:
        dims = ",".join(f"{d}={c}" for d, c in self.dims)
        return f"{self.table}|{dims}|{self.measure}"


@dataclass
class ProtectedPublication:
    figures: dict[str, list[Figure]]  # table id -> its figures, in the table's order
    ledger: list[dict]  # internal: each suppressed count, its true value, why, and the tables that show it
    released: dict[str, int | float | None]  # Figure.name -> value (None when suppressed), for the next version

    def cells(self):
        for figures in self.figures.values():
            yield from figures


def protect_publication(
    tabulation: Tabulation,
    policy: PublicationPolicy,
    *,
    provisional: bool = True,
    previous: dict[str, int | float | None] | None = None,
    quarters: list[tuple[dict, list[dict]]] | None = None,
) -> ProtectedPublication:
    """Protect every table at once. `quarters`: for a year, its four quarters' releases (figures, ledger), which
    anyone can add up: the year is protected so that no count they withheld can be worked out with it."""
    counts, lines = tabulation.counts, tabulation.lines
    before: dict = {}
    if quarters:
        extra_counts, extra_lines, before = quarter_links(tabulation, quarters)
        counts, lines = {**counts, **extra_counts}, [*lines, *extra_lines]
    try:
        published = protect_tables(counts, lines, policy=policy, published_before=before)
    except RuntimeError as error:  # the quarters' figures and the year's counts cannot all be true
        raise QuartersDisagree(
            "The year's data no longer agrees with its quarters' releases (the data changed after they were built): "
            f"revise the quarters first ({error})"
        )
    primary = {k for k, n in counts.items() if policy.is_small(n)}
    shown_in: dict = {}
    for table in tabulation.tables:
        for cell in table.cells:
            if cell.key is not None:
                shown_in.setdefault(cell.key, set()).add(table.id)

    figures: dict[str, list[Figure]] = {}
    released: dict[str, int | float | None] = {}
    for table in tabulation.tables:
        out = []
        for cell in table.cells:
            p = _protect_cell(cell, tabulation, published, policy)
            status = SUPPRESSED if p.suppressed else ""
            figure = Figure(table.id, cell.dims, cell.measure, p.value, status)
            if not p.suppressed:
                if p.value is None:
                    figure.obs_status = "z" if cell.summary and cell.summary[0] == "pct" else "x"
                elif previous is not None and figure.name in previous and previous[figure.name] != p.value:
                    figure.obs_status = REVISED
                elif provisional:
                    figure.obs_status = PROVISIONAL
            released[figure.name] = p.value
            out.append(figure)
        figures[table.id] = out

    ledger = [
        {
            "cell": _key_name(key),
            "true_count": counts[key],
            "reason": "primary: a count of 1 to threshold - 1"
            if key in primary
            else "secondary: protects a small count",
            "tables": sorted(shown_in.get(key, ())),
        }
        for key, p in sorted(published.items(), key=lambda kv: repr(kv[0]))
        if p.suppressed
    ]
    result = ProtectedPublication(figures, ledger, released)
    check_published(result, tabulation, published, policy)
    return result


class QuartersDisagree(PublicationError):
    pass


# Breakdowns recoded period by period ("Other" holds different nationalities and forces in a quarter and a year):
# their cells do not add up across periods, so they take no part in the quarter-to-year lines.
RECODED = {"nationality", "police_force"}


def quarter_links(tabulation: Tabulation, quarters: list[tuple[dict, list[dict]]]):
    """The quarters' published counts as fixed keys, each year count as the sum of its four, and the quarters' lines."""
    names: dict = {}
    for table in tabulation.tables:
        for cell in table.cells:
            if cell.key is not None and not any(d in RECODED for d, _ in cell.dims):
                names.setdefault(cell.key, Figure(table.id, cell.dims, cell.measure, None, "").name)
    extra_counts: dict = {}
    before: dict = {}
    for q, (figures, ledger) in enumerate(quarters, start=1):
        true_counts = {entry["cell"]: entry["true_count"] for entry in ledger}
        for key, name in names.items():
            if name not in figures:
                continue
            value = figures[name]
            if value is None:
                if _key_name(key) not in true_counts:
                    continue
                extra_counts[("quarter", q, key)] = true_counts[_key_name(key)]
                before[("quarter", q, key)] = True
            else:
                extra_counts[("quarter", q, key)] = int(value)
                before[("quarter", q, key)] = False
    extra_lines = []
    for key in names:
        parts = [("quarter", q, key) for q in range(1, len(quarters) + 1)]
        if all(p in extra_counts for p in parts):
            extra_lines.append((key, tuple(parts)))
    for total, cells in tabulation.lines:
        for q in range(1, len(quarters) + 1):
            members = [("quarter", q, k) for k in (total, *cells)]
            if all(m in extra_counts for m in members):
                extra_lines.append((members[0], tuple(members[1:])))
    return extra_counts, extra_lines, before


def _protect_cell(cell: Cell, tabulation: Tabulation, published: dict, policy: PublicationPolicy) -> Published:
    if cell.key is not None:
        return published[cell.key]
    kind = cell.summary[0]
    if kind == "pct":
        _, part, base = cell.summary
        return protect_percentage(
            tabulation.counts[part], tabulation.counts[base], base_published=published[base], policy=policy
        )
    _, summary_key, count_key, group = cell.summary
    value = tabulation.summaries[summary_key]
    if value is not None:
        value = round(value, 1)
    return protect_summary(value, group=group, group_published=published[count_key], policy=policy)


def _key_name(key) -> str:
    measure, dims = key
    return measure + ("(" + ",".join(f"{d}={c}" for d, c in dims) + ")" if dims else "(all)")


class DisclosureCheckFailed(PublicationError, RuntimeError):
    """A figure about to be published breaks the policy: nothing is published."""


def check_published(result: ProtectedPublication, tabulation: Tabulation, published: dict, policy) -> None:
    """The last line of defence before anything is written: every count rounded or suppressed, none small."""
    for key, p in published.items():
        if p.suppressed:
            continue
        true = tabulation.counts[key]
        if policy.is_small(true):
            raise DisclosureCheckFailed(f"{_key_name(key)} would publish a count below the threshold")
        if p.value % policy.rounding_base:
            raise DisclosureCheckFailed(
                f"{_key_name(key)} would publish {p.value}, not rounded to {policy.rounding_base}"
            )
    # The same count, suppressed in one table, is suppressed in every table that shows it (one key, one answer).
    by_key: dict = {}
    for table in tabulation.tables:
        for cell, figure in zip(table.cells, result.figures[table.id]):
            if cell.key is not None:
                by_key.setdefault(cell.key, set()).add(figure.obs_status == SUPPRESSED)
    inconsistent = [k for k, states in by_key.items() if len(states) > 1]
    if inconsistent:
        raise DisclosureCheckFailed(f"{_key_name(inconsistent[0])} is suppressed in one table and shown in another")


def table_by_id(tables: list[Table], table_id: str) -> Table:
    return next(t for t in tables if t.id == table_id)
