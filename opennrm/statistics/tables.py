"""The publication's tables from the rows of a frozen extract: pure functions, no database (issue 24 point 1, ADR 0030).

Every count is a cell with a key that names what it counts, independent of the table it appears in: the
referrals of children are `("referrals", (("age_group", "child"),))` in each of the seven referral tables,
so that disclosure control sees one count where the tables share a total, and suppresses it (or not) in all of
them at once. `lines` say which counts add up to which ("this total is the sum of those cells").

Code lists are closed: a value the mapping does not know stops the build (`MappingError`), naming the records,
rather than being counted under a wrong heading.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .errors import PublicationError

MAPPING_VERSION = "2026-12-08"

TOTAL = "total"


class MappingError(PublicationError, ValueError):
    """Values the code lists do not know: the publication is not built (no partial publication)."""

    def __init__(self, problems: dict[tuple[str, str], list[str]]):
        self.problems = problems
        lines = [
            f"{field_name} {value!r} is not in the code list (records {', '.join(sorted(refs)[:5])}"
            + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
            + ")"
            for (field_name, value), refs in sorted(problems.items())
        ]
        super().__init__("Values the statistics mapping does not know:\n  " + "\n  ".join(lines))


# Code lists: code -> label, in the order published. "Not known" is a code of its own, never a blank.
AGE_GROUPS = {"child": "Child (17 or under)", "adult": "Adult (18 or over)", "unknown": "Age not known"}
SEXES = {"female": "Female", "male": "Male", "other": "Other", "unknown": "Not known"}
NATIONS = {"ENG": "England", "WLS": "Wales", "SCT": "Scotland", "NIR": "Northern Ireland"}
EXPLOITATION_TYPES = {
    "labour": "Labour",
    "sexual": "Sexual",
    "criminal": "Criminal (all)",
    "criminal_county_lines": "Criminal: county lines",
    "criminal_other": "Criminal: other than county lines",
    "domestic_servitude": "Domestic servitude",
    "organ_removal": "Organ removal",
    "other": "Other",
    "multiple": "More than one type",
}
EXPLOITATION_PARENTS = {"criminal": ("criminal_county_lines", "criminal_other")}
RAW_EXPLOITATION_TYPES = {"labour", "sexual", "criminal", "domestic_servitude", "organ_removal", "other"}
FIRST_RESPONDER_TYPES = {
    "police": "Police force",
    "local_authority": "Local authority",
    "ngo": "NGO or charity",
    "border_force": "Border Force or UK Visas and Immigration",
    "immigration_enforcement": "Immigration Enforcement",
    "other": "Other public body",
}
COMPETENT_AUTHORITIES = {
    "SCA": "Single Competent Authority",
    "IECA": "Immigration Enforcement Competent Authority",
    "LOCAL_PANEL": "Local authority multi-agency panel",
}
OUTCOMES = {"positive": "Positive", "negative": "Negative"}
STAGES = {"reasonable_grounds": "Reasonable Grounds", "conclusive_grounds": "Conclusive Grounds"}
NOT_KNOWN = "not_known"
OTHER = "other"


class ReferralRow(NamedTuple):
    ref: str  # the referral's reference (for messages and the internal file only; never published)
    person: str  # the person record of duplicate detection, or the referral itself when it has none
    age_group: str
    sex: str
    nationality: str  # ISO 3166-1 alpha-3 of the first nationality given, or "not_known"
    nation: str
    police_force: str  # as given by the referrer, or "not_known"
    first_responder_type: str
    competent_authority: str
    exploitation_type: str  # one of EXPLOITATION_TYPES' leaves (criminal split by the county lines flag)


class DecisionRow(NamedTuple):
    ref: str
    stage: str
    outcome: str
    age_group: str
    days: int  # calendar days from the day the referral was received to the day the decision took effect


class MissingRow(NamedTuple):
    ref: str
    person: str


class DutyToNotifyRow(NamedTuple):
    ref: str
    nation: str
    sex: str


@dataclass
class ExtractRows:
    referrals: list[ReferralRow] = field(default_factory=list)
    decisions: list[DecisionRow] = field(default_factory=list)
    missing: list[MissingRow] = field(default_factory=list)  # missing episodes of children that began in the period
    duty_to_notify: list[DutyToNotifyRow] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.referrals or self.decisions or self.missing or self.duty_to_notify)

    def counts(self) -> dict[str, int]:
        return {
            "referrals": len(self.referrals),
            "decisions": len(self.decisions),
            "missing_episodes": len(self.missing),
            "duty_to_notify": len(self.duty_to_notify),
        }


def exploitation_category(types: Iterable[str], county_lines: bool) -> str:
    """One category a referral: its type, "multiple" for more than one, criminal split by the county lines flag."""
    kinds = set(types)
    if len(kinds) > 1:
        return "multiple"
    if not kinds:
        return NOT_KNOWN
    (kind,) = kinds
    if kind == "criminal":
        return "criminal_county_lines" if county_lines else "criminal_other"
    return kind


def first_responder_type(organisation_kind: str) -> str:
    if organisation_kind in FIRST_RESPONDER_TYPES:
        return organisation_kind
    return OTHER


# ---------------------------------------------------------------------------------------------------------------
# Tables


Key = tuple  # (measure, ((dimension, code), ...)) with "total" codes left out


def cell_key(measure: str, dims: Sequence[tuple[str, str]]) -> Key:
    return (measure, tuple((d, c) for d, c in dims if c != TOTAL))


@dataclass
class Dimension:
    name: str  # the tidy CSV's column
    title: str  # the workbook's column heading
    codes: dict[str, str]  # code -> label, leaves and parents, in the order published
    parents: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def leaves(self) -> list[str]:
        return [c for c in self.codes if c not in self.parents]

    def label(self, code: str) -> str:
        return "Total" if code == TOTAL else self.codes[code]


@dataclass
class Cell:
    dims: tuple[tuple[str, str], ...]  # (dimension, code) in the table's order, "total" included
    measure: str
    key: Key | None  # the count's key; None for a summary (median, percentile, percentage)
    # For a summary: how it is worked out at protection time.
    summary: tuple | None = None


@dataclass
class Table:
    id: str  # also the CSV's name: "t01_referrals_by_exploitation_type"
    title: str
    description: str
    unit: str  # what a count counts: "referrals", "decisions", "children", ...
    dimensions: list[Dimension]
    cells: list[Cell]
    notes: list[str] = field(default_factory=list)  # note numbers (NOTES) that apply


@dataclass
class Tabulation:
    tables: list[Table]
    counts: dict[Key, int]
    lines: list[tuple[Key, tuple[Key, ...]]]
    summaries: dict[tuple, float | None]  # ("median", stage, age) -> days; computed from unrounded data
    measures: dict[str, str]  # measure -> label


MEASURES = {
    "referrals": "Referrals",
    "decisions": "Decisions",
    "percentage_positive": "Positive decisions (%)",
    "median_days": "Median days to decision",
    "p90_days": "90th percentile days to decision",
    "reports": "Duty to Notify reports",
    "children_referred": "Children referred (each child once)",
    "children_missing": "Children referred who went missing (each child once)",
    "missing_episodes": "Missing episodes",
}

NOTES = {
    1: "Counts are rounded to the nearest 5. Totals are rounded from the unrounded figures, so parts may not add up "
    "to their total.",
    2: "[c] marks a count suppressed to protect confidentiality: a count of 1 to 4, or a count withheld so that such "
    "a count cannot be worked out from the others (secondary suppression). A cell is suppressed in every table that "
    "shows it.",
    3: "Children are counted once in a period: referrals of the same child, linked by duplicate detection, count as "
    "one child. Referrals are counted each time, so a child referred twice is two referrals.",
    4: "Age group is as referred: 'Age not known' is the form's 'not sure', and is treated as a child (presumption "
    "of age, Modern Slavery Act 2015 s.51).",
    5: "A referral of more than one exploitation type is counted once, under 'More than one type'. 'Criminal (all)' "
    "is the sum of county lines and other criminal exploitation.",
    6: "Nationality is the first nationality given. Nationalities with fewer referrals in the period than the "
    "policy's minimum are counted under 'Other'.",
    7: "A decision is counted in the period it took effect: a positive one when it was made, a negative one when a "
    "second decision maker confirmed it. Only the first decision of each stage on a referral counts.",
    8: "Days to decision: calendar days from the day the referral was received to the day the decision took effect. "
    "Median and 90th percentile by linear interpolation; not shown for fewer decisions than the policy's minimum "
    "group, nor where the count of decisions is suppressed ([c]).",
    9: "Percentages are worked out from unrounded counts, and shown only over at least the policy's minimum base.",
    10: "Police force is the force the referrer named; forces named in fewer referrals than the policy's minimum are "
    "counted under 'Other'.",
    11: "Missing episodes of children referred (at any time) that began in the period.",
}


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks (as ADR 0008)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _recode_rare(values: list[str], minimum: int, keep: Iterable[str] = ()) -> dict[str, str]:
    """Each value to itself, or to "other" when fewer than `minimum` rows have it."""
    counts = Counter(values)
    kept = set(keep)
    return {v: (v if n >= minimum or v in kept else OTHER) for v, n in counts.items()}


def check_codes(rows: ExtractRows, countries: Iterable[str]) -> None:
    """Every value in a closed code list; raises MappingError naming the records otherwise."""
    known_countries = set(countries)
    problems: dict[tuple[str, str], list[str]] = defaultdict(list)
    checks = [
        ("age_group", AGE_GROUPS),
        ("sex", SEXES),
        ("nation", NATIONS),
        ("competent_authority", COMPETENT_AUTHORITIES),
        ("first_responder_type", FIRST_RESPONDER_TYPES),
    ]
    for r in rows.referrals:
        for name, codes in checks:
            value = getattr(r, name)
            if value not in codes:
                problems[(name, value)].append(r.ref)
        if r.exploitation_type not in (*EXPLOITATION_TYPES, NOT_KNOWN) or r.exploitation_type in EXPLOITATION_PARENTS:
            problems[("exploitation_type", r.exploitation_type)].append(r.ref)
        if r.nationality != NOT_KNOWN and r.nationality not in known_countries:
            problems[("nationality", r.nationality)].append(r.ref)
    for d in rows.decisions:
        if d.stage not in STAGES:
            problems[("stage", d.stage)].append(d.ref)
        if d.outcome not in OUTCOMES:
            problems[("outcome", d.outcome)].append(d.ref)
        if d.age_group not in AGE_GROUPS:
            problems[("age_group", d.age_group)].append(d.ref)
    for n in rows.duty_to_notify:
        if n.nation not in NATIONS:
            problems[("nation", n.nation)].append(n.ref)
        if n.sex not in SEXES:
            problems[("sex", n.sex)].append(n.ref)
    if problems:
        raise MappingError(dict(problems))


class _Builder:
    def __init__(self):
        self.counts: dict[Key, int] = {}
        self.lines: list[tuple[Key, tuple[Key, ...]]] = []
        self._lines_seen: set = set()

    def add_line(self, total: Key, cells: Sequence[Key]) -> None:
        line = (total, tuple(cells))
        if line not in self._lines_seen:
            self._lines_seen.add(line)
            self.lines.append(line)

    def crosstab(self, measure: str, rows: Iterable[tuple[str, str]], a: Dimension, b: Dimension | None) -> list[Cell]:
        """Counts of `rows` ((code of a, code of b) each) with every margin, and the lines that tie them together."""
        tally = Counter(rows)  # at C speed: a million rows' pairs a table in well under a second
        a_codes = [*a.codes, TOTAL]
        b_codes = [*b.codes, TOTAL] if b else [TOTAL]
        a_leaves = a.leaves
        b_leaves = b.leaves if b else []

        def members(dim: Dimension | None, code: str) -> list[str]:
            if code == TOTAL:
                return dim.leaves if dim else []
            return list(dim.parents.get(code, (code,))) if dim else []

        cells = []
        for ac in a_codes:
            for bc in b_codes:
                dims = ((a.name, ac),) + (((b.name, bc),) if b else ())
                key = cell_key(measure, dims)
                a_set = set(members(a, ac)) if ac != TOTAL else set(a_leaves)
                b_set = (set(members(b, bc)) if bc != TOTAL else set(b_leaves)) if b else None
                self.counts[key] = sum(n for (x, y), n in tally.items() if x in a_set and (b_set is None or y in b_set))
                cells.append(Cell(dims, measure, key))
        # Lines: along a for each code of b (and the total), along b for each code of a; parents are sums of children.
        for bc in b_codes:
            bdim = ((b.name, bc),) if b else ()
            self.add_line(
                cell_key(measure, ((a.name, TOTAL), *bdim)), [cell_key(measure, ((a.name, x), *bdim)) for x in a_leaves]
            )
            for parent, children in a.parents.items():
                self.add_line(
                    cell_key(measure, ((a.name, parent), *bdim)),
                    [cell_key(measure, ((a.name, x), *bdim)) for x in children],
                )
        if b:
            for ac in a_codes:
                adim = ((a.name, ac),)
                self.add_line(
                    cell_key(measure, (*adim, (b.name, TOTAL))),
                    [cell_key(measure, (*adim, (b.name, x))) for x in b_leaves],
                )
                for parent, children in b.parents.items():
                    self.add_line(
                        cell_key(measure, (*adim, (b.name, parent))),
                        [cell_key(measure, (*adim, (b.name, x))) for x in children],
                    )
        return cells


def tabulate(rows: ExtractRows, *, countries: dict[str, str], min_category: int) -> Tabulation:
    """Every table of the publication from the extract's rows (the codes already checked)."""
    b = _Builder()
    tables: list[Table] = []
    summaries: dict[tuple, float | None] = {}
    age = Dimension("age_group", "Age group", AGE_GROUPS)

    # The referrals' columns, once: each table then counts pairs of columns (zip and Counter run at C speed).
    columns = dict(zip(ReferralRow._fields, zip(*rows.referrals))) if rows.referrals else {}
    column = lambda name: columns.get(name, ())  # noqa: E731
    nationality_map = _recode_rare(list(column("nationality")), min_category, keep=[NOT_KNOWN])
    nationality_codes = sorted({v for v in nationality_map.values() if v not in (OTHER, NOT_KNOWN)})
    nationality = Dimension(
        "nationality",
        "Nationality",
        {**{c: countries.get(c, c) for c in nationality_codes}, OTHER: "Other", NOT_KNOWN: "Not known"},
    )
    force_map = _recode_rare(list(column("police_force")), min_category, keep=[NOT_KNOWN])
    force_codes = sorted({v for v in force_map.values() if v not in (OTHER, NOT_KNOWN)})
    force = Dimension(
        "police_force",
        "Police force",
        {**{c: c for c in force_codes}, OTHER: "Other", NOT_KNOWN: "Not recorded"},
    )
    exploitation = Dimension(
        "exploitation_type",
        "Exploitation type",
        {**EXPLOITATION_TYPES, NOT_KNOWN: "Not known"},
        parents=EXPLOITATION_PARENTS,
    )
    referral_tables = [
        ("t01", "exploitation_type", exploitation, column("exploitation_type"), [3, 4, 5]),
        ("t02", "nationality", nationality, map(nationality_map.__getitem__, column("nationality")), [4, 6]),
        ("t03", "sex", Dimension("sex", "Sex", SEXES), column("sex"), [4]),
        ("t04", "nation", Dimension("nation", "Nation", NATIONS), column("nation"), [4]),
        ("t05", "police_force", force, map(force_map.__getitem__, column("police_force")), [4, 10]),
        (
            "t06",
            "first_responder_type",
            Dimension("first_responder_type", "First responder type", FIRST_RESPONDER_TYPES),
            column("first_responder_type"),
            [4],
        ),
        (
            "t07",
            "competent_authority",
            Dimension("competent_authority", "Competent authority", COMPETENT_AUTHORITIES),
            column("competent_authority"),
            [4],
        ),
    ]
    for number, name, dim, values, notes in referral_tables:
        cells = b.crosstab("referrals", zip(column("age_group"), values), age, dim)
        tables.append(
            Table(
                f"{number}_referrals_by_{name}",
                f"Referrals by age group and {dim.title.lower()}",
                f"NRM referrals received in the period, by the potential victim's age group and {dim.title.lower()}.",
                "referrals",
                [age, dim],
                cells,
                [1, 2, *notes],
            )
        )

    nation = Dimension("nation", "Nation", NATIONS)
    cells = b.crosstab("reports", [(n.nation, None) for n in rows.duty_to_notify], nation, None)
    tables.append(
        Table(
            "t08_duty_to_notify_by_nation",
            "Duty to Notify reports by nation",
            "Duty to Notify reports (adults who did not consent to a referral) received in the period, by nation.",
            "reports",
            [nation],
            cells,
            [1, 2],
        )
    )

    outcome = Dimension("outcome", "Outcome", OUTCOMES)
    for number, stage in (("t09", "reasonable_grounds"), ("t10", "conclusive_grounds")):
        decisions = [d for d in rows.decisions if d.stage == stage]
        measure = f"decisions_{stage}"
        cells = b.crosstab(measure, [(d.age_group, d.outcome) for d in decisions], age, outcome)
        for ac in [*AGE_GROUPS, TOTAL]:
            positive = cell_key(measure, ((age.name, ac), (outcome.name, "positive")))
            base = cell_key(measure, ((age.name, ac),))
            cells.append(
                Cell(((age.name, ac), (outcome.name, TOTAL)), "percentage_positive", None, ("pct", positive, base))
            )
        for c in cells:
            if c.measure == measure:
                c.measure = "decisions"
        tables.append(
            Table(
                f"{number}_{stage}_decisions",
                f"{STAGES[stage]} decisions by outcome and age group",
                f"{STAGES[stage]} decisions that took effect in the period, by outcome and the age group as referred.",
                "decisions",
                [age, outcome],
                cells,
                [1, 2, 4, 7, 9],
            )
        )

    stage_dim = Dimension("stage", "Stage", STAGES)
    cells = []
    days_by: dict[tuple[str, str], list[int]] = defaultdict(list)
    for d in rows.decisions:
        days_by[(d.stage, d.age_group)].append(d.days)
    for stage in STAGES:
        for ac in [*AGE_GROUPS, TOTAL]:
            if ac == TOTAL:
                days = [n for a in AGE_GROUPS for n in days_by[(stage, a)]]
            else:
                days = days_by[(stage, ac)]
            dims = (("stage", stage), (age.name, ac))
            count_key = cell_key(f"decisions_{stage}", ((age.name, ac),))
            cells.append(Cell(dims, "decisions", count_key))
            for measure, fraction in (("median_days", 0.5), ("p90_days", 0.9)):
                summaries[(measure, stage, ac)] = percentile_cont(days, fraction)
                cells.append(Cell(dims, measure, None, ("summary", (measure, stage, ac), count_key, len(days))))
    tables.append(
        Table(
            "t11_time_to_decision",
            "Days from referral to decision, by stage and age group",
            "Median and 90th percentile of the calendar days from referral to decision, over the decisions that took "
            "effect in the period.",
            "days",
            [stage_dim, age],
            cells,
            [1, 2, 7, 8],
        )
    )

    children = {r.person for r in rows.referrals if r.age_group in ("child", "unknown")}
    missing_children = {m.person for m in rows.missing}
    summary_counts = {
        "children_referred": len(children),
        "children_missing": len(missing_children),
        "missing_episodes": len(rows.missing),
    }
    cells = []
    for measure, n in summary_counts.items():
        key = cell_key(measure, ())
        b.counts[key] = n
        cells.append(Cell((), measure, key))
    tables.append(
        Table(
            "t12_children_and_missing_episodes",
            "Children referred, children who went missing, and missing episodes",
            "Children (each counted once) referred in the period; children referred who went missing in the period; "
            "missing episodes that began in the period.",
            "children",
            [],
            cells,
            [1, 2, 3, 4, 11],
        )
    )
    return Tabulation(tables, b.counts, b.lines, summaries, MEASURES)
