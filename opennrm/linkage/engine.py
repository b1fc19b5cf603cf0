"""The linkage engine: blocking, field comparisons, a Fellegi–Sunter score, clustering with a guard.

Pipeline (every step vectorised with numpy over arrays, so that a million records fit the time budget):

1. `prepare`: each record's names become integer token keys (see normalise.py) with term-frequency
   weights, log2(N / records carrying the key); dates of birth become intervals.
2. `candidate_pairs`: blocking on several keys, OR-ed: (token, birth year) for every token and every year
   the date-of-birth interval touches; (token, token) pairs with no date (age disputes); the same pairs
   within a birth year when a (token, token) block is too big (very common names); (exact date, sex).
   In blocks bigger than `max_block` records are paired with their neighbours by date of birth, and records
   without one with all the block's records up to `undated_max_block`.
3. `compare`: a comparison *level* per field: names (order-free token overlap graded by how rare the shared
   tokens are, jointly with whether the given names agree or conflict: the sibling pattern), date of birth
   (exact, day/month swap, near, overlapping intervals, ≤ 1 year, ≤ 6 years when estimated), sex,
   nationality (with the confusions ERI/ETH, SDN/SSD…), local authority; and raw measures beside them
   (words shared, spelling similarity, days apart, precision, one side named only in its original script).
4. `score`: gradient-boosted trees (LightGBM) over the levels and measures, in log2 odds that the pair is one
   child, fitted on labelled candidate pairs of synthetic training seeds (caseworker decisions later) and
   stored in model.json + model.lgb.txt; the evidence per field is its features' exact contributions
   (TreeSHAP). ADR 0015.
   Then a second stage weighs each pair's score against its two records' rivals (each one's best other
   candidate, and how well that rival matches the partner): a common name with a year of birth points to this
   record only when no other record matches as well (`with_rivals`, ADR 0021).
5. `cluster`: automatic links (score ≥ auto threshold) merged strongest first, but never merging two
   clusters between which any scored pair is strong evidence *against* (below `cannot_link`): this stops
   chains through twins and siblings. Pairs in the review band across clusters flag both records; the
   hard patterns (across scripts, an assessed age) have a lower band of their own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from . import normalise

MODEL_PATH = Path(__file__).with_name("model.json")
MAX_TOKENS = 6
# An assessed age is often years off the claimed one (linkage.md §4: claimed 15, assessed 19).
DISPUTE_YEARS = 7
NATIONALITY_CONFUSIONS = [
    ("ERI", "ETH"),
    ("SDN", "SSD"),
    ("AFG", "IRN"),
    ("SYR", "IRQ"),
    ("AFG", "PAK"),
    ("IRQ", "KWT"),
]


# A threshold no score reaches: the band or pass it sets is off.
OFF = 1e9


@dataclass(frozen=True)
class Config:
    """Decision thresholds, fixed in advance (on the training seed), in match weight (log2 odds)."""

    auto_link: float = 14.0
    review: float = 6.0
    # A lower review threshold for the pairs whose evidence is weakest by nature, where a person's judgement is
    # worth most: one record named only in the original script, or a date of birth estimated years older (an
    # age assessment). Fitted with `review` on the same budget (see fit_thresholds).
    review_hard: float = 6.0
    cannot_link: float = 14.0
    max_block: int = 80
    window: int = 5  # in a bigger block, each record is paired with its next `window` by date of birth
    # A record without a date of birth has no place in a bigger block's order: in one of up to this many records it is
    # paired with all of them (ADR 0026).
    undated_max_block: int = 2000
    # Cluster-level pass (off at OFF): two clusters whose strongest link is at least `best_link` and is each other's
    # best by at least `margin` (no other cluster comes close for either) are one child.
    best_link: float = 14.0
    margin: float = 4.0
    # Bits taken off every score per doubling of the data beyond the training size: with more records each
    # one has more look-alikes than the name rarity accounts for (fuzzy spellings, shared dates).
    scale_penalty: float = 0.0
    # Bits added to both review thresholds at each of these numbers of records, on top of the scale penalty, as
    # (records, bits): the penalty keeps automatic links precise, but with more records more of them have a
    # look-alike in the lower band of the hard patterns, and the review queue would outgrow its budget (see
    # fit_scale). Between two sizes the raise is interpolated in log2 N, from 0 at the training size; beyond the
    # last it stays. The queue does not grow as a straight line in log2 N: one slope fitted at a million left too
    # many in review at 100,000 (ADR 0020), one fitted at 100,000 too many at 50,000 (ADR 0023).
    review_shifts: tuple[tuple[int, float], ...] = ()
    # Bits added to `auto_link` per doubling of the record pairs between two clusters (|A|·|B|) an automatic
    # link would join: a wrong merge costs that many false pairs, and the strongest pair between two clusters of
    # several records is the best of many, so it overstates the evidence for the merge (ADR 0019).
    merge_size: float = 0.0
    # Bits added to `merge_size` per doubling beyond the training size (negative: taken off), fitted at a million with
    # the scale penalty: there the penalty already holds big merges back, and 1.5 bits per doubling on top of it left
    # a tenth of the true pairs above the automatic bar outside their child's cluster (ADR 0023).
    merge_size_scale: float = 0.0
    # A referral already in review is shown with every other child it may be, not only the one that sent it there:
    # its strongest pair with each other cluster scoring at least this (log2 odds, not shifted with the review bands:
    # the scale penalty keeps the scores calibrated at any size; REVIEW_ALONGSIDE when trained). The queue stays as it
    # is: it counts referrals, and these are in it already.
    review_alongside: float = OFF


@dataclass
class Prepared:
    n: int
    record_ids: list[str]
    tokens: np.ndarray  # (n, MAX_TOKENS) int32, -1 = none
    alias_tokens: np.ndarray  # (n, MAX_TOKENS) int32
    prefixes: np.ndarray  # (n, MAX_TOKENS) int32: the first two letters of the word behind each token
    initials: np.ndarray  # (n, MAX_TOKENS) int8: normalise.initial_class of the word behind each token
    token_bits: np.ndarray  # (vocabulary,) float32: how rare each name key is (see `token_rarity`)
    spellings: (
        np.ndarray
    )  # (n, MAX_TOKENS) int32: each token's spelling, its key with the word's first two letters; -1 = none
    spelling_bits: np.ndarray  # (spellings,) float32: how rare each spelling is
    given_key: np.ndarray  # (n,) int32: the rarest given-name token, -1 when unknown
    given_latin: np.ndarray  # (n,) object: given names in ASCII
    family_latin: np.ndarray  # (n,) object: the family name in ASCII ("" when not given in Latin script)
    full_latin: np.ndarray  # (n,) object: all name words in ASCII, sorted
    dob_point: np.ndarray  # (n,) int32 days since 1970; INT32_MIN when missing
    dob_lo: np.ndarray
    dob_hi: np.ndarray
    dob_exact: np.ndarray  # (n,) bool
    dob_estimated: np.ndarray  # (n,) bool
    dob_year_lo: np.ndarray
    dob_year_hi: np.ndarray
    dob_month: np.ndarray
    dob_day: np.ndarray
    sex: np.ndarray  # 0 unknown, 1 M, 2 F
    nationality_mask: np.ndarray  # int64 bit per nationality code
    confusion_mask: np.ndarray  # int64: bits of nationalities commonly confused with this record's
    local_authority: np.ndarray  # int32, -1 unknown
    script_only: np.ndarray  # (n,) bool: named only in the original script (no Latin given or family name)
    referral_day: np.ndarray  # (n,) int32 days since 1970 of the referral; MISSING when not known
    vocabulary: dict[str, int] = field(repr=False, default_factory=dict)
    nationality_bits: dict[str, int] = field(repr=False, default_factory=dict)
    authorities: dict[str, int] = field(repr=False, default_factory=dict)
    prefix_ids: dict[str, int] = field(repr=False, default_factory=dict)
    spelling_vocabulary: dict[tuple[str, str], int] = field(repr=False, default_factory=dict)
    # The population the model weighs these records in (its `n`): 0 = count it from the records (`effective_population`).
    population: int = 0

    def __post_init__(self):
        if not self.population:
            self.population = effective_population(self.n, self.dob_year_lo[self.dob_point != MISSING])


MISSING = np.iinfo(np.int32).min
# How common a name is, in bits: log2(population / records carrying it), with a pseudo-population of
# PRIOR_RECORDS records added in which every name is carried once. Among a million records this changes
# nothing; among a handful (a new installation, a test) the counts alone would make every name look as common
# as the one record carrying it, and no match could be told from chance.
PRIOR_RECORDS = 64


def name_bits(counts: np.ndarray, n: int) -> np.ndarray:
    return np.log2((n + PRIOR_RECORDS) / (np.asarray(counts, dtype=np.float64) + 1)).astype(np.float32)


def token_rarity(
    tokens: np.ndarray, sex: np.ndarray, birth_year: np.ndarray, vocabulary_size: int, ids: np.ndarray | None = None
) -> np.ndarray:
    """How rare each name key (or, given `ids` beside the tokens, each spelling) is, in bits (`name_bits`),
    counting the records that carry it once per identity (the same name keys in any order, sex and first possible
    year of birth) rather than once per record: a child referred seven times would otherwise make its own name
    look seven times as common as it is, and its own records look less alike (term frequencies counted in
    duplicated data are biased, linkage.md §1). Namesakes with the same sex and year of birth count once too;
    the model cannot tell those apart anyway."""
    identity = _hash(*np.sort(tokens, axis=1).T, sex, birth_year)
    valid = tokens >= 0
    token = (tokens if ids is None else ids)[valid]
    codes = _hash(token, np.repeat(identity, valid.sum(1)))
    _, first = np.unique(codes, return_index=True)
    counts = np.bincount(token[first], minlength=vocabulary_size)
    return name_bits(counts, len(np.unique(identity)))


# How many years the births of the model's sets are spread over: 1 / the chance that two of their dated records share
# a first possible year of birth (12.5 to 12.8 measured on sets of 1,500 to 200,000 records, ADR 0026). A set within
# a tenth of it is as spread as the model's own.
BIRTH_YEARS_TRAINED = 12.6


def effective_population(n: int, birth_years: np.ndarray) -> int:
    """How many records the model should weigh `n` records as: n, or fewer when their births are spread over more
    years than its sets' were (BIRTH_YEARS_TRAINED), in proportion. A child's namesakes and look-alikes are born
    about when it was, so a referral stream that grows by adding years of children does not make each child harder
    to tell apart, as one that grows by adding children born in the same years does: the scale of names' rarity,
    the scale penalty and the review bands follow how many records share a record's year of birth (ADR 0026)."""
    if not len(birth_years):
        return n
    share = np.bincount(birth_years - birth_years.min()) / len(birth_years)
    spread = 1.0 / float((share * share).sum())
    return n if spread <= 1.1 * BIRTH_YEARS_TRAINED else max(1, round(n * BIRTH_YEARS_TRAINED / spread))


def population_bits(n: int) -> float:
    """The bits of a name no record carries: log2 of the (pseudo-)population."""
    return math.log2(n + PRIOR_RECORDS)


def _list(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def prepare(
    rows: Sequence[dict[str, str]],
    nationality_bits: dict[str, int] | None = None,
    authorities: dict[str, int] | None = None,
    prefix_ids: dict[str, int] | None = None,
) -> Prepared:
    """Arrays for `rows` (dicts with the contract's input columns). Raises normalise.BadDate on bad dates."""
    n = len(rows)
    vocabulary: dict[str, int] = {}
    tokens = np.full((n, MAX_TOKENS), -1, dtype=np.int32)
    alias_tokens = np.full((n, MAX_TOKENS), -1, dtype=np.int32)
    given_keys: list[list[int]] = []
    given_latin = np.empty(n, dtype=object)
    family_latin = np.empty(n, dtype=object)
    full_latin = np.empty(n, dtype=object)
    dob = np.full((7, n), MISSING, dtype=np.int64)
    dob_flags = np.zeros((2, n), dtype=bool)
    sex = np.zeros(n, dtype=np.int8)
    nationality_mask = np.zeros(n, dtype=np.int64)
    confusion_mask = np.zeros(n, dtype=np.int64)
    local_authority = np.full(n, -1, dtype=np.int32)
    script_only = np.zeros(n, dtype=bool)
    referral_day = np.full(n, MISSING, dtype=np.int32)
    nationality_bits = {} if nationality_bits is None else nationality_bits
    authorities = {} if authorities is None else authorities

    def intern(key: str) -> int:
        index = vocabulary.get(key)
        if index is None:
            index = vocabulary[key] = len(vocabulary)
        return index

    def bit(code: str) -> int:
        # Up to 62 distinct codes get their own bit; beyond that codes share bits (rarely matters).
        return 1 << nationality_bits.setdefault(code, len(nationality_bits) % 62)

    prefixes = np.full((n, MAX_TOKENS), -1, dtype=np.int32)
    initials = np.zeros((n, MAX_TOKENS), dtype=np.int8)
    prefix_ids = {} if prefix_ids is None else prefix_ids
    spellings = np.full((n, MAX_TOKENS), -1, dtype=np.int32)
    spelling_vocabulary: dict[tuple[str, str], int] = {}
    for row_index, row in enumerate(rows):
        given_parts = normalise.name_parts(row.get("given_names", ""))
        given = [key for key, _ in given_parts]
        family_parts = normalise.name_parts(row.get("family_name", ""), family=True)
        original_parts = normalise.name_parts(row.get("names_in_original_script", ""))
        given_text = row.get("given_names", "")
        script_only[row_index] = not given_parts and not family_parts and bool(original_parts)
        if not given and original_parts:
            # Named only in the original script: the given name is its first word, or its last in a Latin
            # script (Vietnamese writes the family name first).
            words = normalise.name_words(row["names_in_original_script"])
            last = normalise.is_latin(row["names_in_original_script"])
            given = [original_parts[-1 if last else 0][0]]
            given_text = words[-1 if last else 0] if words else ""
        first_prefix: dict[str, tuple[str, int]] = {}
        original_latin = normalise.is_latin(row.get("names_in_original_script", ""))
        for source, source_parts in ((True, given_parts + family_parts), (original_latin, original_parts)):
            for key, prefix in source_parts:
                # A word written in another script has no Latin first letter to compare.
                first_prefix.setdefault(key, (prefix, normalise.initial_class(key, prefix) if source else 0))
        parts = list(first_prefix.items())[:MAX_TOKENS]
        primary = [key for key, _ in parts]
        prefixes[row_index, : len(parts)] = [prefix_ids.setdefault(prefix, len(prefix_ids)) for _, (prefix, _) in parts]
        spellings[row_index, : len(parts)] = [
            spelling_vocabulary.setdefault((key, prefix), len(spelling_vocabulary)) for key, (prefix, _) in parts
        ]
        initials[row_index, : len(parts)] = [initial for _, (_, initial) in parts]
        ids = [intern(key) for key in primary]
        tokens[row_index, : len(ids)] = ids
        alias = list(dict.fromkeys(k for a in _list(row.get("aliases", "")) for k in normalise.name_keys(a)))[
            :MAX_TOKENS
        ]
        alias_tokens[row_index, : len(alias)] = [intern(key) for key in alias]
        given_keys.append([intern(key) for key in given])
        given_latin[row_index] = normalise.latin_form(given_text)
        family_latin[row_index] = normalise.latin_form(row.get("family_name", ""), family=True)
        words = " ".join(
            normalise.latin_form(row.get(column, ""), family=column == "family_name")
            for column in ("given_names", "family_name", "names_in_original_script")
        ).split()
        full_latin[row_index] = " ".join(sorted(set(words)))
        birth = _birth_columns(row.get("date_of_birth", ""), row.get("date_of_birth_precision", ""))
        if birth is not None:
            dob[:, row_index], dob_flags[:, row_index] = birth
        sex[row_index] = {"M": 1, "F": 2}.get((row.get("sex") or "").strip().upper()[:1], 0)
        for code in _list(row.get("nationalities", "")):
            code = code.upper()
            nationality_mask[row_index] |= bit(code)
            for a, b in NATIONALITY_CONFUSIONS:
                if code == a:
                    confusion_mask[row_index] |= bit(b)
                elif code == b:
                    confusion_mask[row_index] |= bit(a)
        authority = (row.get("local_authority") or "").strip().lower()
        if authority:
            local_authority[row_index] = authorities.setdefault(authority, len(authorities))
        referred = normalise.parse_day(row.get("referral_date", ""))
        if referred is not None:
            referral_day[row_index] = referred

    token_bits = token_rarity(tokens, sex, dob[3], len(vocabulary))
    spelling_bits = token_rarity(tokens, sex, dob[3], len(spelling_vocabulary), ids=spellings)
    given_key = np.full(n, -1, dtype=np.int32)
    for row_index, keys in enumerate(given_keys):
        if keys:
            given_key[row_index] = max(keys, key=lambda k: token_bits[k])  # the most distinctive given name
    return Prepared(
        n=n,
        record_ids=[row.get("record_id", "") for row in rows],
        tokens=tokens,
        alias_tokens=alias_tokens,
        prefixes=prefixes,
        initials=initials,
        token_bits=token_bits,
        spellings=spellings,
        spelling_bits=spelling_bits,
        given_key=given_key,
        given_latin=given_latin,
        family_latin=family_latin,
        full_latin=full_latin,
        dob_point=dob[0].astype(np.int32),
        dob_lo=dob[1].astype(np.int32),
        dob_hi=dob[2].astype(np.int32),
        dob_exact=dob_flags[0],
        dob_estimated=dob_flags[1],
        dob_year_lo=dob[3].astype(np.int32),
        dob_year_hi=dob[4].astype(np.int32),
        dob_month=dob[5].astype(np.int32),
        dob_day=dob[6].astype(np.int32),
        sex=sex,
        nationality_mask=nationality_mask,
        confusion_mask=confusion_mask,
        local_authority=local_authority,
        script_only=script_only,
        referral_day=referral_day,
        vocabulary=vocabulary,
        nationality_bits=nationality_bits,
        authorities=authorities,
        prefix_ids=prefix_ids,
        spelling_vocabulary=spelling_vocabulary,
    )


@lru_cache(maxsize=200_000)
def _birth_columns(value: str, precision: str) -> tuple[tuple[int, ...], tuple[bool, bool]] | None:
    """(point, lo, hi, first year, last year, month, day) and (exact, estimated) of a date of birth."""
    birth = normalise.parse_birth_date(value, precision)
    if birth is None:
        return None
    day = birth.date
    first, last = normalise.day_to_date(birth.lo), normalise.day_to_date(birth.hi)
    return (birth.point, birth.lo, birth.hi, first.year, last.year, day.month, day.day), (
        birth.precision == "exact",
        birth.precision == "estimated",
    )


# Prepared's arrays indexed by vocabulary, not by record: `take` keeps them whole.
_VOCABULARY_ARRAYS = ("token_bits", "spelling_bits")


def take(p: Prepared, records: np.ndarray) -> Prepared:
    """The records `records` of p as a Prepared of their own (the same vocabularies), to query them against p's index."""
    from dataclasses import fields

    values = {}
    for f in fields(p):
        value = getattr(p, f.name)
        if f.name == "n":
            value = len(records)
        elif f.name == "record_ids":
            value = [value[i] for i in records.tolist()]
        elif isinstance(value, np.ndarray) and f.name not in _VOCABULARY_ARRAYS:
            value = value[records]
        values[f.name] = value
    return Prepared(**values)


def prepare_like(rows: Sequence[dict[str, str]], existing: Prepared) -> Prepared:
    """New records in `existing`'s token ids and codes, for comparing them with it; names unseen there
    get one id no existing record carries. `existing` is not changed."""
    q = prepare(rows, dict(existing.nationality_bits), dict(existing.authorities), dict(existing.prefix_ids))
    remap = id_map(q.vocabulary, lambda key: existing.vocabulary.get(key, len(existing.token_bits)))
    q.tokens, q.alias_tokens, q.given_key = remap[q.tokens], remap[q.alias_tokens], remap[q.given_key]
    q.spellings = id_map(
        q.spelling_vocabulary, lambda key: existing.spelling_vocabulary.get(key, len(existing.spelling_bits))
    )[q.spellings]
    return q


def id_map(own: dict, target_id) -> np.ndarray:
    """An array taking the ids of `own` (key → id) to `target_id(key)`, with a trailing -1 so that -1 (none) stays -1."""
    return np.array([target_id(key) for key in sorted(own, key=own.get)] + [-1], dtype=np.int32)


# ---------------------------------------------------------------- blocking

_MIX = np.uint64(0x9E3779B97F4A7C15)


def _hash(*columns: np.ndarray) -> np.ndarray:
    """One 64-bit key per row from several integer columns (a multiply-xor mix; collisions only add pairs)."""
    key = np.zeros(len(columns[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            key = (key ^ column.astype(np.uint64)) * _MIX
            key ^= key >> np.uint64(29)
    return key


def blocking_keys(p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """(key, record index) for every blocking key of every record."""
    keys: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    has_dob = p.dob_point != MISSING
    all_tokens = np.concatenate([p.tokens, p.alias_tokens], axis=1)
    rows = np.repeat(np.arange(p.n), all_tokens.shape[1])
    flat = all_tokens.ravel()
    valid = flat >= 0
    rows, flat = rows[valid], flat[valid]
    # (token, birth year) for each year the interval touches.
    year_lo, year_hi = p.dob_year_lo[rows], p.dob_year_hi[rows]
    dated = has_dob[rows]
    span = np.where(dated, year_hi - year_lo + 1, 0)
    rep_rows = np.repeat(rows, span)
    rep_tokens = np.repeat(flat, span)
    offsets = np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    rep_years = np.repeat(year_lo, span) + offsets
    keys.append(_hash(np.full(len(rep_rows), 1), rep_tokens, rep_years))
    owners.append(rep_rows)
    # (token, token) without the date, and within the birth year for big blocks.
    k = p.tokens.shape[1]
    for i in range(k):
        for j in range(i + 1, k):
            a, b = p.tokens[:, i], p.tokens[:, j]
            ok = (a >= 0) & (b >= 0)
            lo_t, hi_t = np.minimum(a, b)[ok], np.maximum(a, b)[ok]
            idx = np.nonzero(ok)[0]
            keys.append(_hash(np.full(len(idx), 2), lo_t, hi_t))
            owners.append(idx)
            dated_idx = idx[has_dob[idx]]
            keys.append(
                _hash(
                    np.full(len(dated_idx), 3),
                    np.minimum(a, b)[dated_idx],
                    np.maximum(a, b)[dated_idx],
                    p.dob_year_lo[dated_idx],
                )
            )
            owners.append(dated_idx)
            # An estimated (assessed) date may be years older than the claimed one: its records also sit in
            # the blocks of the years after it, up to DISPUTE_YEARS.
            est = dated_idx[p.dob_estimated[dated_idx]]
            span = p.dob_year_hi[est] - p.dob_year_lo[est] + DISPUTE_YEARS
            rep = np.repeat(est, span)
            years = (
                np.repeat(p.dob_year_lo[est], span)
                + (np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span))
                + 1
            )
            keys.append(_hash(np.full(len(rep), 3), np.minimum(a, b)[rep], np.maximum(a, b)[rep], years))
            owners.append(rep)
    # One name shared exactly, another only by its first two letters, no date needed: a typo or a variant
    # (Klevis/Klevi, Hoxha/Hoxhaj) with the date missing or years off.
    # With the birth year too, for when the blocks without it are too big (many records, common names).
    for i in range(k):
        for j in range(k):
            if i != j:
                a, b = p.tokens[:, i], p.prefixes[:, j]
                idx = np.nonzero((a >= 0) & (b >= 0))[0]
                keys.append(_hash(np.full(len(idx), 5), a[idx], b[idx]))
                owners.append(idx)
                idx = idx[has_dob[idx]]
                span = p.dob_year_hi[idx] - p.dob_year_lo[idx] + 1
                rep = np.repeat(idx, span)
                years = np.repeat(p.dob_year_lo[idx], span) + (
                    np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
                )
                keys.append(_hash(np.full(len(rep), 6), a[rep], b[rep], years))
                owners.append(rep)
    # The real name given as an alias on one referral and as the name on another.
    for i in range(k):
        for j in range(i + 1, k):
            a, b = p.alias_tokens[:, i], p.alias_tokens[:, j]
            idx = np.nonzero((a >= 0) & (b >= 0))[0]
            keys.append(_hash(np.full(len(idx), 2), np.minimum(a, b)[idx], np.maximum(a, b)[idx]))
            owners.append(idx)
    # Exact date of birth and sex: names transliterated beyond recognition.
    idx = np.nonzero(has_dob & p.dob_exact)[0]
    keys.append(_hash(np.full(len(idx), 4), p.dob_point[idx], p.sex[idx]))
    owners.append(idx)
    return np.concatenate(keys), np.concatenate(owners).astype(np.int64)


def pairs_from_blocks(
    keys: np.ndarray,
    owners: np.ndarray,
    max_block: int,
    order_by: np.ndarray | None = None,
    window: int = 0,
    undated_max_block: int = 0,
) -> np.ndarray:
    """All distinct (i < j) pairs sharing a key: (m, 2) int32. In a block bigger than `max_block` (a
    common name among many records) only neighbours are paired: each record with the next `window`
    records in `order_by` order (the date of birth), a sorted neighbourhood, so that pairs grow linearly;
    and in one of up to `undated_max_block` records, each record whose `order_by` is MISSING (no date: it would
    meet only the other undated records and the oldest) with every other record."""
    order_by = np.zeros(int(owners.max(initial=0)) + 1, dtype=np.int32) if order_by is None else order_by
    order = np.lexsort((owners, order_by[owners], keys))
    keys, owners = keys[order], owners[order]
    # Drop repeated (key, owner) entries.
    keep = np.ones(len(keys), dtype=bool)
    keep[1:] = (keys[1:] != keys[:-1]) | (owners[1:] != owners[:-1])
    keys, owners = keys[keep], owners[keep]
    del order, keep
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    owners = owners.astype(np.uint64)
    codes: list[np.ndarray] = []
    big = sizes > max_block
    if window and big.any():
        st, sz = starts[big], sizes[big]
        position = np.repeat(st - np.cumsum(np.r_[0, sz[:-1]]), sz) + np.arange(sz.sum())
        code = _pair_codes(owners, position, np.minimum(window, np.repeat(st + sz, sz) - 1 - position))
        code.sort()
        codes.append(code[np.r_[True, code[1:] != code[:-1]]] if len(code) else code)
        del code
    undated = big & (sizes <= undated_max_block)
    if undated.any():
        # Sorted by date within each block, the undated records come first.
        st, sz = starts[undated], sizes[undated]
        count = np.add.reduceat((order_by[owners.astype(np.int64)] == MISSING).astype(np.int64), starts)[undated]
        st, sz, count = st[count > 0], sz[count > 0], count[count > 0]
        position = _spans(st, count)
        codes.append(_pair_codes(owners, position, np.repeat(st + sz, count) - 1 - position))
    usable = (sizes >= 2) & (sizes <= max_block)
    starts, sizes = starts[usable], sizes[usable]
    # Pairs block by block in slices of about `slice_pairs`, so that the temporaries stay small at 1M records.
    slice_pairs = 8_000_000
    block_pairs = sizes * (sizes - 1) // 2
    bounds = np.searchsorted(
        np.cumsum(block_pairs), np.arange(slice_pairs, block_pairs.sum() + slice_pairs, slice_pairs), side="right"
    )
    first = 0
    for last in [*bounds.tolist(), len(starts)]:
        if last <= first:
            continue
        st, sz = starts[first:last], sizes[first:last]
        position = np.repeat(st - np.cumsum(np.r_[0, sz[:-1]]), sz) + np.arange(sz.sum())  # each block's members
        code = _pair_codes(owners, position, np.repeat(st + sz, sz) - 1 - position)
        code.sort()
        codes.append(code[np.r_[True, code[1:] != code[:-1]]] if len(code) else code)
        first = last
    code = np.concatenate(codes) if codes else np.zeros(0, dtype=np.uint64)
    del codes
    code.sort()  # sort and drop repeats (np.unique's hash path is several times slower here)
    code = code[np.r_[True, code[1:] != code[:-1]]] if len(code) else code
    out = np.empty((len(code), 2), dtype=np.int32)  # record numbers < 2^31; half the memory at 1M
    out[:, 0] = code >> np.uint64(32)
    out[:, 1] = code & np.uint64(0xFFFFFFFF)
    return out


def _pair_codes(owners: np.ndarray, position: np.ndarray, partners: np.ndarray) -> np.ndarray:
    """Each record at `position` (in the block-sorted `owners`) paired with the `partners` records after it, as codes
    (lower record << 32 | higher record)."""
    left, right = np.repeat(position, partners), _spans(position + 1, partners)
    a, b = owners[left], owners[right]
    del left, right
    code = np.minimum(a, b) << np.uint64(32)
    code |= np.maximum(a, b)
    return code


def candidate_pairs(p: Prepared, config: Config) -> np.ndarray:
    keys, owners = blocking_keys(p)
    return pairs_from_blocks(keys, owners, config.max_block, p.dob_lo, config.window, config.undated_max_block)


# ---------------------------------------------------------------- comparisons

NAME_LEVELS = 11
GIVEN_LEVELS = 4
# Comparison levels per field (see `compare`): what a person reads in the evidence.
FIELDS = {
    "name_given": NAME_LEVELS * GIVEN_LEVELS,
    "dob": 13,
    "sex": 3,
    "nationality": 4,
    "local_authority": 2,
    "sibling": 4,
}
# Raw measures beside the levels, which the model also weighs: how many name words each side has and how
# many agree, how similar the spellings are, how far apart the dates of birth are and how precise they are.
MEASURES = {
    "n_match": np.int8,
    "n_a": np.int8,
    "n_b": np.int8,
    "fuzzy": np.float32,
    "given_similarity": np.float32,
    "dob_gap": np.int32,
    "dob_diff": np.int32,
    "dob_estimated": np.int8,
    "dob_older": np.int8,
    "dob_width": np.int32,
    "dob_exact": np.int8,
    "cross_script": np.int8,
    "referral_gap": np.int32,
    "n_same_start": np.int8,
    "family_similarity": np.float32,
    "alias_match": np.int8,
    "alias_rarity": np.float32,
}


def compare(
    p: Prepared, pairs: np.ndarray, chunk: int = 500_000, q: Prepared | None = None, progress=None
) -> dict[str, np.ndarray]:
    """Comparison levels per field for each pair (level 0 = a value missing).

    Pairs index `p` on the left and `q` (by default `p` itself) on the right; `q` must share `p`'s token ids
    and codes (see `prepare_like`)."""
    q = p if q is None else q
    out = {name: np.zeros(len(pairs), dtype=np.int16) for name in FIELDS}
    out["name_bits"] = np.zeros(len(pairs), dtype=np.float32)
    out["together"] = np.zeros(len(pairs), dtype=bool)
    out["twin_names"] = np.zeros(len(pairs), dtype=bool)
    out.update({name: np.zeros(len(pairs), dtype=dtype) for name, dtype in MEASURES.items()})
    log_n = population_bits(p.population)
    for start in range(0, len(pairs), chunk):
        i, j = pairs[start : start + chunk, 0], pairs[start : start + chunk, 1]
        sl = slice(start, start + len(i))
        a, b = p.tokens[i], q.tokens[j]
        # Token columns actually used by these pairs (most names have two to four words).
        width = max(1, int(max((a >= 0).sum(1).max(initial=0), (b >= 0).sum(1).max(initial=0))))
        a, b = a[:, :width], b[:, :width]
        n_match, bits, n_a, n_b, n_same_start = _overlap(
            a,
            b,
            p.token_bits,
            p.prefixes[i, :width],
            q.prefixes[j, :width],
            p.spelling_bits[np.maximum(p.spellings[i, :width], 0)],
        )
        shorter = np.maximum(np.minimum(n_a, n_b), 1)
        full = (n_match == np.minimum(n_a, n_b)) & (n_match >= 2)
        # The costlier comparisons only where the cheaper ones leave the level open.
        open_level = (n_a > 0) & (n_b > 0) & ~full & ~((n_match >= 2) & (n_match * 2 >= shorter))
        fuzzy = np.full(len(i), -1.0, dtype=np.float64)  # -1: not computed, every word of the shorter name agrees
        k = np.flatnonzero((n_a > 0) & (n_b > 0) & ~full)
        if len(k):
            # full_latin holds the words sorted, so a plain ratio is the token-sort ratio.
            fuzzy[k] = process.cpdist(list(p.full_latin[i[k]]), list(q.full_latin[j[k]]), scorer=fuzz.ratio, workers=1)
        # One referral's alias is the other's name: words shared that way, and how rare they are (the name an
        # exploiter gave, or the child's own, given as the alias on the other referral; often both ways at once).
        alias_match = np.zeros(len(i), dtype=np.int64)
        alias_rarity = np.zeros(len(i), dtype=np.float32)
        k = np.flatnonzero(open_level & ((p.alias_tokens[i, 0] >= 0) | (q.alias_tokens[j, 0] >= 0)))
        if len(k):
            ab_match, ab_bits = _overlap(p.alias_tokens[i[k]], b[k], p.token_bits)[:2]
            ba_match, ba_bits = _overlap(a[k], q.alias_tokens[j[k]], p.token_bits)[:2]
            alias_match[k] = np.maximum(ab_match, ba_match)
            # As `_rarity` weighs the name's own words: bits − log2 N.
            alias_rarity[k] = np.where(
                alias_match[k] > 0, np.clip(np.maximum(ab_bits, ba_bits) - log_n, *RARITY_RANGE), 0.0
            )
        name = np.select(
            [
                (n_a == 0) | (n_b == 0),
                full & (bits >= log_n + 8),
                full & (bits >= log_n + 3),
                full & (bits >= log_n - 2),
                full,
                (n_match >= 2) & (n_match * 2 >= shorter),
                (alias_match >= 2) & (alias_match > n_match),
                fuzzy >= 90,
                (n_match == 1) & (fuzzy >= 75),
                n_match == 1,
            ],
            [0, 1, 2, 3, 4, 5, 9, 6, 7, 8],
            default=10,
        )
        ga, gb = p.given_key[i], q.given_key[j]
        known = (ga >= 0) & (gb >= 0)
        ia, ib = p.initials[i, :width], q.initials[j, :width]
        given_shared = _given_shared(a, b, ga, ia, ib) | _given_shared(b, a, gb, ib, ia)
        similarity = np.where(known, 1.0, -1.0)
        k = np.flatnonzero(known & ~given_shared)
        if len(k):
            similarity[k] = process.cpdist(
                list(p.given_latin[i[k]]),
                list(q.given_latin[j[k]]),
                scorer=JaroWinkler.normalized_similarity,
                workers=1,
            )
        given = np.select([~known, given_shared, similarity >= 0.88], [0, 1, 2], default=3)
        # How alike the family names are spelled, whether or not their keys agree (Tingfield and Tingfiedl differ
        # by a transposition; Elcroft and Ellcroft agree, but the other words had left the comparison settled).
        family_a, family_b = p.family_latin[i], q.family_latin[j]
        family_similarity = np.full(len(i), -1.0)
        known_family = (family_a != "") & (family_b != "")
        same_family = known_family & (family_a == family_b)
        family_similarity[same_family] = 1.0  # most candidate pairs; Jaro–Winkler would say the same, slower
        k = np.flatnonzero(known_family & ~same_family)
        if len(k):
            family_similarity[k] = process.cpdist(
                list(family_a[k]), list(family_b[k]), scorer=JaroWinkler.normalized_similarity, workers=1
            )
        out["name_given"][sl] = name * GIVEN_LEVELS + given
        out["name_bits"][sl] = bits
        out["dob"][sl] = dob = _dob_levels(p, q, i, j)
        for name, values in (
            ("n_match", n_match),
            ("n_a", n_a),
            ("n_b", n_b),
            ("n_same_start", n_same_start),
            ("fuzzy", fuzzy),
            ("given_similarity", similarity),
            ("alias_match", alias_match),
            ("alias_rarity", alias_rarity),
            ("family_similarity", family_similarity),
            ("cross_script", p.script_only[i] != q.script_only[j]),
            *_dob_measures(p, q, i, j).items(),
        ):
            out[name][sl] = values
        # Evidence against: the given names conflict while another name is shared and the dates are close
        # (a sibling), or the same (a twin). Learnt as its own field because it is an interaction.
        eligible = ((n_match - given_shared.astype(np.int64)) >= 1) & (dob >= 1) & (dob <= 11) & (given > 0)
        pattern = eligible & (given == 3)
        out["sibling"][sl] = np.select([pattern & (dob == 1), pattern, eligible], [1, 2, 3], default=0)
        # Twins referred together: the same day, by the same authority, given names alike but not the same (Lacey
        # and Laley). One child referred twice that day is spelled alike far more often than it is spelled apart.
        together_day = (p.referral_day[i] != MISSING) & (p.referral_day[i] == q.referral_day[j])
        same_authority = (p.local_authority[i] >= 0) & (p.local_authority[i] == q.local_authority[j])
        out["together"][sl] = eligible & (given == 2) & together_day & same_authority
        out["twin_names"][sl] = _twin_names(p.given_latin[i], q.given_latin[j], same_family & (dob == 1))
        sa, sb = p.sex[i], q.sex[j]
        out["sex"][sl] = np.select([(sa == 0) | (sb == 0), sa == sb], [0, 1], default=2)
        na, nb = p.nationality_mask[i], q.nationality_mask[j]
        out["nationality"][sl] = np.select(
            [
                (na == 0) | (nb == 0),
                (na & nb) != 0,
                ((p.confusion_mask[i] & nb) != 0) | ((q.confusion_mask[j] & na) != 0),
            ],
            [0, 1, 2],
            default=3,
        )
        la, lb = p.local_authority[i], q.local_authority[j]
        out["local_authority"][sl] = ((la >= 0) & (la == lb)).astype(np.int16)
        ra, rb = p.referral_day[i], q.referral_day[j]
        out["referral_gap"][sl] = np.where((ra == MISSING) | (rb == MISSING), -1, np.abs(ra.astype(np.int64) - rb))
        if progress and (start // chunk) % 10 == 9:
            progress(f"scored {start + len(i):,} of {len(pairs):,} pairs")
    return out


def _twin_names(given_a: np.ndarray, given_b: np.ndarray, same_day_and_family: np.ndarray) -> np.ndarray:
    """Twins named alike: the same date of birth and family name, two given names or more on one side, and no given
    name on one side spelled like one on the other (Jaro–Winkler under 0.88), though their keys may agree (Kayla and
    Grace Kelee share kl, Danie Lena and Lauen ln), so the given names did not conflict. A child referred under its
    other given name keeps a spelling of it (Thi Chi and Chi, Manh Minh and Minh). Evidence against one child where
    clustering reads it (`sibling_pattern`), not a model input: the trees never learnt it (ADR 0026)."""
    out = np.zeros(len(given_a), dtype=bool)
    for k in np.flatnonzero(same_day_and_family).tolist():
        words_a, words_b = given_a[k].split(), given_b[k].split()
        if words_a and words_b and max(len(words_a), len(words_b)) >= 2:
            out[k] = max(JaroWinkler.normalized_similarity(u, v) for u in words_a for v in words_b) < 0.88
    return out


def _given_shared(
    a: np.ndarray, b: np.ndarray, given: np.ndarray, initials_a: np.ndarray, initials_b: np.ndarray
) -> np.ndarray:
    """Whether the given-name token `given` of each left record is among the right record's tokens, with a
    first sound that agrees (see normalise.initial_class; 0 agrees with any)."""
    at = a == given[:, None]
    initial = np.where(at.any(1), initials_a[np.arange(len(a)), at.argmax(1)], 0)[:, None]
    agrees = (initials_b == initial) | (initials_b == 0) | (initial == 0)
    return ((b == given[:, None]) & (given[:, None] >= 0) & agrees).any(1)


def _overlap(
    a: np.ndarray,
    b: np.ndarray,
    token_bits: np.ndarray,
    prefix_a: np.ndarray | None = None,
    prefix_b: np.ndarray | None = None,
    spelling_bits_a: np.ndarray | None = None,
):
    """Name keys in common, their bits, the keys on each side; with the words' prefixes, also how many of the
    keys in common are written with the same first two letters (Chifora and Okafor share the key kfr), and the
    bits of a key in common written alike are those of its spelling (`spelling_bits_a`, per token of `a`): the
    key vn is Van, one of the commonest Vietnamese names, and Viion, which no one else is called."""
    valid_a = a >= 0
    equal = (a[:, :, None] == b[:, None, :]) & valid_a[:, :, None]
    matched = equal.any(2)
    key_bits = np.where(matched, token_bits[np.maximum(a, 0)], 0)
    if prefix_a is None:
        return matched.sum(1), key_bits.sum(1), valid_a.sum(1), (b >= 0).sum(1)
    same_start = (equal & (prefix_a[:, :, None] == prefix_b[:, None, :])).any(2)
    bits = np.where(same_start, spelling_bits_a, key_bits).sum(1)
    return matched.sum(1), bits, valid_a.sum(1), (b >= 0).sum(1), same_start.sum(1)


def _dob_levels(p: Prepared, q: Prepared, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    pa, pb = p.dob_point[i], q.dob_point[j]
    missing = (pa == MISSING) | (pb == MISSING)
    both_exact = p.dob_exact[i] & q.dob_exact[j]
    gap = np.maximum(0, np.maximum(p.dob_lo[i], q.dob_lo[j]) - np.minimum(p.dob_hi[i], q.dob_hi[j]))
    ya, yb = p.dob_year_lo[i], q.dob_year_lo[j]
    ma, mb, da, db = p.dob_month[i], q.dob_month[j], p.dob_day[i], q.dob_day[j]
    swapped = both_exact & (ya == yb) & (ma == db) & (da == mb) & (ma != mb)
    one_part_off = both_exact & (((ya == yb) & (ma == mb)) | ((ya == yb) & (da == db)) | ((ma == mb) & (da == db)))
    estimated = p.dob_estimated[i] | q.dob_estimated[j]
    width = np.maximum(p.dob_hi[i] - p.dob_lo[i], q.dob_hi[j] - q.dob_lo[j])
    overlap = gap == 0
    # An age assessment makes a child older than claimed: the estimated interval lies wholly before the other.
    assessed_older = (p.dob_estimated[i] & (p.dob_hi[i] < q.dob_lo[j])) | (
        q.dob_estimated[j] & (q.dob_hi[j] < p.dob_lo[i])
    )
    return np.select(
        [
            missing,
            both_exact & (pa == pb),
            swapped,
            one_part_off,
            overlap & (width <= 31),
            overlap & (width <= 366),
            overlap,
            gap <= 31,
            gap <= 366,
            assessed_older & (gap <= DISPUTE_YEARS * 366),
            estimated & (gap <= 6 * 366),
            gap <= 6 * 366,
        ],
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        default=12,
    ).astype(np.int16)


def _dob_measures(p: Prepared, q: Prepared, i: np.ndarray, j: np.ndarray) -> dict[str, np.ndarray]:
    """Days between the intervals and between the points (-1 when a date is missing), how many of the two
    dates are estimated or exact, whether the estimated one is the older (an age assessment), the wider
    interval's width."""
    missing = (p.dob_point[i] == MISSING) | (q.dob_point[j] == MISSING)
    gap = np.maximum(0, np.maximum(p.dob_lo[i], q.dob_lo[j]).astype(np.int64) - np.minimum(p.dob_hi[i], q.dob_hi[j]))
    diff = np.abs(p.dob_point[i].astype(np.int64) - q.dob_point[j])
    older = (p.dob_estimated[i] & (p.dob_point[i] < q.dob_point[j])) | (
        q.dob_estimated[j] & (q.dob_point[j] < p.dob_point[i])
    )
    width = np.maximum(p.dob_hi[i] - p.dob_lo[i], q.dob_hi[j] - q.dob_lo[j])
    return {
        "dob_gap": np.where(missing, -1, gap),
        "dob_diff": np.where(missing, -1, diff),
        "dob_estimated": p.dob_estimated[i].astype(np.int8) + q.dob_estimated[j],
        "dob_older": older & ~missing,
        "dob_width": np.where(missing, -1, width),
        "dob_exact": p.dob_exact[i].astype(np.int8) + q.dob_exact[j],
    }


# ---------------------------------------------------------------- the model

# Where compiled trees are kept between runs (compiling the main trees takes about 8 s; loading them, a fraction).
TREE_CACHE = Path(
    os.environ.get("OPENNRM_TREE_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "opennrm" / "trees"
)


class Forest:
    """The raw scores (log odds) of one LightGBM model, from the trees compiled to machine code by lleaves where it
    is installed: 8 to 9 times LightGBM's own prediction on the same rows, equal to 1e-13 (ADR 0022). Compiled once
    per model, CPU and lleaves version, and kept in TREE_CACHE; without lleaves, or when compiling fails, LightGBM
    scores."""

    def __init__(self, text: str):
        self.text = text
        self._compiled = None
        self._booster = None
        try:
            self._compiled = _compiled_trees(text)
        except Exception:
            logging.getLogger(__name__).warning("linkage trees not compiled; scoring with LightGBM", exc_info=True)

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    @property
    def booster(self):
        """The LightGBM booster (for contributions, which compiled trees do not give)."""
        if self._booster is None:
            import lightgbm

            self._booster = lightgbm.Booster(model_str=self.text)
        return self._booster

    def raw(self, x: np.ndarray, threads: int = 1) -> np.ndarray:
        if self._compiled is not None:
            return self._compiled.predict(np.ascontiguousarray(x, dtype=np.float64), n_jobs=threads)
        return self.booster.predict(x, raw_score=True, num_threads=threads)


def _compiled_trees(text: str):
    """lleaves' compiled model of the LightGBM model `text`, from TREE_CACHE when compiled before; None without lleaves."""
    try:
        import lleaves
        import llvmlite.binding as llvm
    except ImportError:
        return None
    # Compiled code is for this CPU's instruction set: the key names the CPU, its features and the compiler.
    from importlib.metadata import version

    key = hashlib.sha256(
        "\n".join(
            [
                text,
                version("lleaves"),
                version("llvmlite"),
                llvm.get_host_cpu_name(),
                llvm.get_host_cpu_features().flatten(),
            ]
        ).encode()
    )
    key = key.hexdigest()[:32]
    folder = TREE_CACHE
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="opennrm-trees-"))
    source, binary = folder / f"{key}.txt", folder / f"{key}.bin"
    if not source.exists():
        _write_whole(source, lambda path: path.write_text(text))
    compiled = lleaves.Model(model_file=str(source))
    if binary.exists():
        compiled.compile(cache=str(binary), raw_score=True)
    else:
        _write_whole(binary, lambda path: compiled.compile(cache=str(path), raw_score=True))
    return compiled


def _write_whole(path: Path, write) -> None:
    """`write(a path)` to a file of its own, then moved to `path`: two processes or threads may write at once (the
    test workers), and a file under `path` is always whole."""
    written = path.with_name(f"{path.stem}.{uuid.uuid4().hex}{path.suffix}")
    write(written)
    os.replace(written, path)


@dataclass
class Model:
    """Gradient-boosted trees (LightGBM) over the comparison levels and raw measures of a pair; the score is
    their raw output in log2 odds that the pair is one child.

    Why trees and not one weight per level (Fellegi–Sunter, or the logistic fit this replaced; ADR 0015): the
    evidence interacts. An agreeing date of birth is worth much more when the names are rare than when they are
    Nguyen Thi Anh; an estimated date years older is strong evidence against unless the names are rare and all
    agree; a given name that differs is a sibling when the family name is shared and the dates are close. On the
    same training pairs, trees find 8 to 10 points more of the true pairs at the same false-match count. The
    evidence stays readable field by field: each field's part is the sum of its features' SHAP contributions
    (TreeSHAP, exact for trees), and the parts with the base value add up to the score."""

    booster_text: str  # the trees for pairs with some names in common beyond one word (LightGBM's text format)
    screen_text: str  # smaller trees for the rest, four pairs in five, which are almost never one child
    trained_n: int
    config: Config
    # The second stage's trees over each pair's rivals (`rival_features`), one model per round, each over the scores
    # of the round before; () for none.
    rival_texts: tuple[str, ...] = ()
    _forests: tuple = field(default=(), repr=False, compare=False)

    @property
    def forests(self) -> tuple[Forest, ...]:
        """The main trees, the screen's, then one per round of the second stage."""
        if not self._forests:
            self._forests = (Forest(self.booster_text), Forest(self.screen_text), *map(Forest, self.rival_texts))
        return self._forests

    def _predict(self, levels: dict[str, np.ndarray], n: int, contributions: bool = False) -> np.ndarray:
        """Raw scores (natural log odds) of the pairs, or with `contributions` their TreeSHAP contributions; on one
        thread (a batch run scores two chunks at once, `first_scores`)."""
        x = features(levels, n)
        screened = screened_pairs(levels)
        out = None
        for forest, rows in zip(self.forests[:2], (np.flatnonzero(~screened), np.flatnonzero(screened))):
            if len(rows):
                if contributions:
                    values = forest.booster.predict(x[rows], pred_contrib=True, num_threads=1)
                else:
                    values = forest.raw(x[rows])
                if out is None:
                    out = np.empty((len(x), *values.shape[1:]), dtype=np.float64)
                out[rows] = values
        return out

    def doublings(self, n: int) -> float:
        """How many times `n` records double the training size (0 at or under it)."""
        return max(0.0, math.log2(max(n, 1) / self.trained_n))

    def _prior_shift(self, n: int) -> float:
        return self.config.scale_penalty * self.doublings(n)

    def review_shift(self, n: int) -> float:
        """Bits added to the review bands among `n` records (`Config.review_shifts`)."""
        knots = sorted(self.config.review_shifts)
        return float(
            np.interp(
                self.doublings(n), [0.0, *(self.doublings(k) for k, _ in knots)], [0.0, *(bits for _, bits in knots)]
            )
        )

    def config_for(self, n: int) -> Config:
        """The thresholds for deciding among `n` records: the review bands raised by `review_shift(n)`; `merge_size`
        changed by `merge_size_scale` per doubling."""
        doublings = self.doublings(n)
        shift = self.review_shift(n)
        return replace(
            self.config,
            review=self.config.review + shift,
            review_hard=self.config.review_hard + shift,
            merge_size=max(0.0, self.config.merge_size + self.config.merge_size_scale * doublings),
        )

    def first(self, levels: dict[str, np.ndarray], n: int) -> np.ndarray:
        """The first stage: the pair's own evidence in log2 odds, before the scale penalty."""
        if not len(levels["name_given"]):
            return np.zeros(0, dtype=np.float32)
        return (self._predict(levels, n) / math.log(2)).astype(np.float32)

    def score(self, levels: dict[str, np.ndarray], n: int) -> np.ndarray:
        """The pair on its own evidence, without its rivals (see `with_rivals`)."""
        return self.first(levels, n) - np.float32(self._prior_shift(n))

    def with_rivals(self, pairs: np.ndarray, first: np.ndarray, n: int, vagueness: np.ndarray) -> np.ndarray:
        """The scores of `pairs` (record numbers of one set of records) given each record's other candidates: the
        second stage's trees over `rival_features` where the first stage's score is above RIVAL_FLOOR (the pair
        alone below it), round after round, less the scale penalty for `n` records. `vagueness`: `dob_vagueness`
        per record number."""
        out = first.astype(np.float32, copy=True)
        plausible = np.flatnonzero(first > RIVAL_FLOOR)
        if len(plausible):
            subset, current = pairs[plausible], out[plausible]
            for rivals in self.forests[2:]:
                x = rival_features(subset, current, n, vagueness)
                current = (rivals.raw(x, threads=1 if len(x) < 100_000 else 2) / math.log(2)).astype(np.float32)
            out[plausible] = current
        return out - np.float32(self._prior_shift(n))

    def contributions(self, levels: dict[str, np.ndarray], n: int) -> np.ndarray:
        """(pairs, features + 1) contributions in log2 odds; the last column is the base value (with the scale shift)."""
        out = self._predict(levels, n, contributions=True) / math.log(2)
        for name in PRIOR_FEATURES:
            column = FEATURES.index(name)
            out[:, -1] += out[:, column]
            out[:, column] = 0.0
        out[:, -1] -= self._prior_shift(n)
        return out

    def save(self, path: Path = MODEL_PATH) -> None:
        data = {
            "trained_n": self.trained_n,
            "config": asdict(self.config),
            "features": FEATURES,
            "rival_features": RIVAL_FEATURES,
            "rival_rounds": len(self.rival_texts),
        }
        path.write_text(json.dumps(data, indent=1) + "\n")
        path.with_suffix(".lgb.txt").write_text(self.booster_text)
        path.with_suffix(".screen.lgb.txt").write_text(self.screen_text)
        for round_number, text in enumerate(self.rival_texts, start=1):
            _rivals_path(path, round_number).write_text(text)

    @classmethod
    def load(cls, path: Path = MODEL_PATH, second_stage: bool = True) -> Model:
        """The model saved at `path`; without its second stage when `second_stage` is false (to fit a new one)."""
        data = json.loads(path.read_text())
        if data.get("features") != FEATURES:
            raise ValueError(f"{path} was trained on other features; retrain it (python -m opennrm.linkage.engine)")
        if second_stage and data.get("rival_features") != RIVAL_FEATURES:
            raise ValueError(
                f"{path} has no second stage over these rival features; retrain it (python -m opennrm.linkage.engine --second-stage-only)"
            )
        rounds = data.get("rival_rounds", 1) if second_stage else 0
        return cls(
            path.with_suffix(".lgb.txt").read_text(),
            path.with_suffix(".screen.lgb.txt").read_text(),
            data["trained_n"],
            Config(**{**data["config"], "review_shifts": tuple(map(tuple, data["config"].get("review_shifts", ())))}),
            tuple(_rivals_path(path, round_number).read_text() for round_number in range(1, rounds + 1)),
        )


def _rivals_path(path: Path, round_number: int) -> Path:
    """Where the second stage's trees of round `round_number` (from 1) are kept beside model.json."""
    return path.with_suffix(".rivals.lgb.txt" if round_number == 1 else f".rivals.{round_number}.lgb.txt")


RARITY_RANGE = (-8.0, 16.0)
# The model's inputs, in column order. rarity = bits of the shared name words − log2 N: minus log2 of how many
# other records would carry them by chance, so it does not drift with N (unlike the bits themselves).
# population = log2 N: among more records, each has more look-alikes on every field, not only on its name words
# (a shared date of birth, authority or spelling variant is worth less among a million than among 20,000); the
# trees learn by how much from training sets of several sizes (ADR 0020).
FEATURES = ["name", "given", *[name for name in FIELDS if name != "name_given"], "rarity", *MEASURES, "population"]
# Which evidence field each feature's contribution counts towards.
FEATURE_FIELD = {
    "name": "Names",
    "given": "Names",
    "rarity": "Names",
    "n_match": "Names",
    "n_a": "Names",
    "n_b": "Names",
    "fuzzy": "Names",
    "given_similarity": "Names",
    "cross_script": "Names",
    "dob": "Date of birth",
    "dob_gap": "Date of birth",
    "dob_diff": "Date of birth",
    "dob_estimated": "Date of birth",
    "dob_older": "Date of birth",
    "dob_width": "Date of birth",
    "dob_exact": "Date of birth",
    "sex": "Sex",
    "nationality": "Nationality",
    "local_authority": "Local authority",
    "sibling": "Sibling pattern",
    "referral_gap": "Referral dates",
    "n_same_start": "Names",
    "family_similarity": "Names",
    "alias_match": "Names",
    "alias_rarity": "Names",
}
# Features that are no field's evidence: their part is the prior, counted with the base value.
PRIOR_FEATURES = ("population",)
# Evidence that only goes one way, so the trees may not learn noise against it: rarer shared names (or alias words)
# and more similar spellings never count against a match.
MONOTONE = {
    "rarity": 1,
    "fuzzy": 1,
    "given_similarity": 1,
    "n_same_start": 1,
    "family_similarity": 1,
    "alias_rarity": 1,
}


def _rarity(levels: dict[str, np.ndarray], n: int) -> np.ndarray:
    """How unlikely it is that the shared name tokens are shared by chance: bits − log2 N, clipped; 0 when
    no token is shared exactly."""
    bits = levels["name_bits"]
    return np.where(bits > 0, np.clip(bits - population_bits(n), *RARITY_RANGE), 0.0).astype(np.float32)


def features(levels: dict[str, np.ndarray], n: int) -> np.ndarray:
    """The model's input matrix (pairs × FEATURES) from `compare`'s output for a population of `n` records."""
    columns = {
        "name": levels["name_given"] // GIVEN_LEVELS,
        "given": levels["name_given"] % GIVEN_LEVELS,
        "rarity": _rarity(levels, n),
        "population": population_bits(n),
        **{name: levels[name] for name in FEATURES if name in levels},
    }
    x = np.empty((len(levels["name_given"]), len(FEATURES)), dtype=np.float32)
    for index, name in enumerate(FEATURES):
        x[:, index] = columns[name]
    return x


# The second stage (ADR 0021). A pair's own evidence says how well two records agree; whether they are one child
# also depends on who else is there: a year of birth and a common name point to this record only when no other
# record matches as well. So the first stage's score is weighed against each record's best other candidate (its
# rival) and against how well that rival matches the partner (a strong match there means the rival is likely the
# same child again, not a look-alike). Pairs the first stage puts under RIVAL_FLOOR are neither rescored nor anyone's
# rival: nothing decides among them (the lowest threshold, review for the hard patterns, is −2.5 bits at 20,000
# records and rises with more).
RIVAL_FLOOR = -10.0
RIVAL_FEATURES = [
    "first",
    "margin_low",
    "margin_high",
    "rival_partner_low",
    "rival_partner_high",
    "second_margin_low",
    "second_margin_high",
    "support_low",
    "support_high",
    "near_low",
    "near_high",
    "candidates_low",
    "candidates_high",
    "vague_low",
    "vague_high",
    "population",
]
# The second stage's inputs that never lower the score as they rise.
RISING_RIVAL_FEATURES = (
    "first",
    "margin_low",
    "margin_high",
    "second_margin_low",
    "second_margin_high",
    "support_low",
    "support_high",
)
# How many of each record's best other candidates are looked at for support (a record matching both of the pair's).
SUPPORT_CANDIDATES = 3
# Candidates within this many bits of the pair's score count as near it (how crowded the record's neighbourhood is).
NEAR_BITS = 3.0

# 300 trees of 31 leaves: on the training pairs of three sizes (eight million) they find 1.5 to 2.5 points more of
# the true pairs at 0.995 pair precision than 150 of 15 (seed 1008 at 20,000, 100,000 and 1,000,000; ADR 0020).
TREE_PARAMETERS = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_data_in_leaf": 100,
    "lambda_l2": 1.0,
    "seed": 1,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbose": -1,
}
TREES = 300
# The screen: pairs sharing one name word with the others different (or none), given names not merely similar:
# 81% of candidate pairs, 1% of the true ones (seed 1, 20k). Smaller trees of their own (80 of 7 leaves) score
# them in a third of the time, with the same true/false counts above the thresholds as the big trees (ADR 0015).
SCREEN_PARAMETERS = {**TREE_PARAMETERS, "num_leaves": 7}
SCREEN_TREES = 80
RIVAL_PARAMETERS = {**TREE_PARAMETERS, "num_leaves": 15}
RIVAL_TREES = 150
# A second round over the first round's scores: a record's rivals and supporters are then weighed by their own
# rivals (pair recall at 0.995 precision, seeds 3003, 3004, 3002: 0.951 → 0.959 at 20,000 records, 0.934 → 0.940 at
# 50,000, 0.893 → 0.905 at 100,000; ADR 0022).
RIVAL_ROUNDS = 2


def dob_vagueness(p: Prepared) -> np.ndarray:
    """Per record, how little its date of birth narrows its candidates: 0 a date (exact, month or year), 1 estimated
    (an assessed age: blocked over the years after it too), 2 none (blocked on names alone)."""
    return np.where(p.dob_point == MISSING, 2, p.dob_estimated.astype(np.int8)).astype(np.int8)


def rival_features(pairs: np.ndarray, first: np.ndarray, n: int, vagueness: np.ndarray) -> np.ndarray:
    """The second stage's input (pairs × RIVAL_FEATURES) for candidate pairs `pairs` (record numbers) with scores
    `first` (the first stage's, all above RIVAL_FLOOR, or the round before's): every candidate of a record there must
    be in `pairs`, or its rivals are missed. For each side (the side with the smaller margin first for the first four
    and the last; the smaller value first for the rest):
    - the margin over its rival (its best other candidate; RIVAL_FLOOR when it has none), and the rival's score with
      the partner (RIVAL_FLOOR when they were not compared);
    - the margin over its second-best other candidate;
    - support: the most that one of its SUPPORT_CANDIDATES best other candidates matches both records (the lesser
      of its two scores): a third referral of the same child vouches for the pair;
    - log(1 + its other candidates within NEAR_BITS of the pair's score), and log(1 + all its candidates);
    - its `dob_vagueness` (per record number): a record without a date of birth has many more candidates, and
      close ones, than a dated one; crowded is then its ordinary state, not a sign of look-alikes."""
    m = len(pairs)
    a, b = pairs[:, 0], pairs[:, 1]  # int32 in a batch run: at a million records, tens of millions of pairs
    ends, partners, values = np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([first, first])
    order = np.lexsort((-values, ends))
    ends, partners, values = ends[order], partners[order], values[order]
    del order
    starts = np.flatnonzero(np.r_[True, ends[1:] != ends[:-1]]) if len(ends) else np.zeros(0, dtype=np.int64)
    records = ends[starts]
    degree = np.diff(np.r_[starts, len(ends)])
    # Each record's candidates, best first, as one sorted key: its number, then its score descending (scores lie
    # within ±500 bits, so one record's never reach the next's).
    ranked = ends.astype(np.float64) * 1024 + (512 - values.astype(np.float64))
    del ends

    codes = np.minimum(a, b).astype(np.int64) * (1 << 32) + np.maximum(a, b)
    code_order = np.argsort(codes, kind="stable")
    sorted_codes = codes[code_order]
    del codes

    def score_of(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The first-stage score of (x, y) when they are among `pairs`, else RIVAL_FLOOR."""
        wanted = np.minimum(x, y).astype(np.int64) * (1 << 32) + np.maximum(x, y)
        at = np.minimum(np.searchsorted(sorted_codes, wanted), max(m - 1, 0))
        found = (y >= 0) & (sorted_codes[at] == wanted) if m else np.zeros(len(x), dtype=bool)
        return np.where(found, first[code_order[at]], RIVAL_FLOOR).astype(np.float32)

    def side(x: np.ndarray, partner: np.ndarray, score: np.ndarray) -> dict[str, np.ndarray]:
        """x's view of its pair with `partner` (scored `score`): its best other candidates (the partner left out)."""
        at = np.searchsorted(records, x)
        start, count = starts[at], degree[at]
        width = SUPPORT_CANDIDATES + 1  # the partner is among x's best SUPPORT_CANDIDATES + 1 at most once
        offsets = np.arange(width)
        present = offsets[None, :] < count[:, None]
        index = np.minimum(start[:, None] + offsets[None, :], max(len(partners) - 1, 0))
        other = np.where(present, partners[index], -1)
        other_score = np.where(present, values[index], RIVAL_FLOOR).astype(np.float32)
        keep = present & (other != partner[:, None])
        rank = np.cumsum(keep, axis=1) - 1
        best = np.full((len(x), SUPPORT_CANDIDATES), -1, dtype=np.int64)
        best_score = np.full((len(x), SUPPORT_CANDIDATES), RIVAL_FLOOR, dtype=np.float32)
        rows, columns = np.nonzero(keep & (rank < SUPPORT_CANDIDATES))
        best[rows, rank[rows, columns]] = other[rows, columns]
        best_score[rows, rank[rows, columns]] = other_score[rows, columns]
        support = np.full(len(x), RIVAL_FLOOR, dtype=np.float32)
        for k in range(SUPPORT_CANDIDATES):
            support = np.maximum(support, np.minimum(best_score[:, k], score_of(partner, best[:, k])))
        # Candidates at least (score − NEAR_BITS): the pair itself is one of them.
        at_least = (
            np.searchsorted(
                ranked, x.astype(np.float64) * 1024 + (512 - (score.astype(np.float64) - NEAR_BITS)), side="right"
            )
            - start
        )
        return {
            "margin": score - best_score[:, 0],
            "rival_partner": score_of(partner, best[:, 0]),
            "second_margin": score - best_score[:, 1],
            "support": support,
            "near": np.log1p(np.maximum(at_least - 1, 0)).astype(np.float32),
            "candidates": np.log1p(count).astype(np.float32),
        }

    def whole_side(x: np.ndarray, partner: np.ndarray, chunk: int = 1_000_000) -> dict[str, np.ndarray]:
        # A chunk at a time: the (pairs × candidates) tables would take gigabytes at a million records.
        parts = [
            side(x[start : start + chunk], partner[start : start + chunk], first[start : start + chunk])
            for start in range(0, max(m, 1), chunk)
        ]
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

    left, right = whole_side(a, b), whole_side(b, a)
    a_lower = left["margin"] <= right["margin"]
    columns = {"first": first, "population": np.full(m, population_bits(n), dtype=np.float32)}
    left["vague"], right["vague"] = vagueness[a], vagueness[b]
    for name in ("margin", "rival_partner", "vague"):
        columns[f"{name}_low"] = np.where(a_lower, left[name], right[name])
        columns[f"{name}_high"] = np.where(a_lower, right[name], left[name])
    for name in ("second_margin", "support", "near", "candidates"):
        columns[f"{name}_low"] = np.minimum(left[name], right[name])
        columns[f"{name}_high"] = np.maximum(left[name], right[name])
    x = np.empty((m, len(RIVAL_FEATURES)), dtype=np.float32)
    for index, name in enumerate(RIVAL_FEATURES):
        x[:, index] = columns[name]
    return x


class _RivalSet(NamedTuple):
    """One training set of the second stage: its plausible pairs, their scores so far, whether each is one child,
    each pair's weight, the set's size and its records' `dob_vagueness`."""

    pairs: np.ndarray
    scores: np.ndarray
    same: np.ndarray
    weight: np.ndarray
    n: int
    vagueness: np.ndarray


def train_rivals(model: Model, sets: Iterable[tuple[Prepared, np.ndarray]], progress=None) -> Model:
    """The model with its second stage fitted on labelled sets the first stage never saw (on its own training pairs the
    first stage is surer than on new ones, and the second would learn to trust it too much): RIVAL_ROUNDS rounds,
    each over the scores of the round before on the same sets. Weighted per set as `train` weighs them; the pairs
    under RIVAL_FLOOR are left out, as they are in use."""
    import lightgbm

    scored: list[_RivalSet] = []
    for p, person in sets:
        pairs = candidate_pairs(p, model.config)
        first, _ = first_scores(p, pairs, model, progress=progress)
        plausible = first > RIVAL_FLOOR
        pairs, first = pairs[plausible], first[plausible]
        same = person[pairs[:, 0]] == person[pairs[:, 1]]
        weight = np.full(len(pairs), math.sqrt(model.trained_n / p.n), dtype=np.float32)
        scored.append(_RivalSet(pairs, first, same.astype(np.float32), weight, p.population, dob_vagueness(p)))
    # A better pair, a larger margin over its rivals or more support never lowers the score.
    monotone = [1 if name in RISING_RIVAL_FEATURES else 0 for name in RIVAL_FEATURES]
    texts = []
    for round_number in range(1, RIVAL_ROUNDS + 1):
        xs = [rival_features(s.pairs, s.scores, s.n, s.vagueness) for s in scored]
        data = lightgbm.Dataset(
            np.concatenate(xs),
            np.concatenate([s.same for s in scored]),
            weight=np.concatenate([s.weight for s in scored]),
            feature_name=RIVAL_FEATURES,
            free_raw_data=True,
        )
        booster = lightgbm.train(
            {**RIVAL_PARAMETERS, "monotone_constraints": monotone}, data, num_boost_round=RIVAL_TREES
        )
        texts.append(booster.model_to_string())
        del data
        if round_number < RIVAL_ROUNDS:
            # The next round's scores, from the same inputs the trees were fitted on.
            scored = [
                s._replace(scores=(booster.predict(x, raw_score=True) / math.log(2)).astype(np.float32))
                for x, s in zip(xs, scored, strict=True)
            ]
        del xs
        if progress:
            progress(f"second stage, round {round_number} of {RIVAL_ROUNDS}: fitted")
    return replace(model, rival_texts=tuple(texts), _forests=())


def screened_pairs(levels: dict[str, np.ndarray]) -> np.ndarray:
    name, given = levels["name_given"] // GIVEN_LEVELS, levels["name_given"] % GIVEN_LEVELS
    return ((name == 8) | (name == 10)) & (given != 2)


# A training set with more candidate pairs than this is sampled: all its true pairs, and its other pairs at the
# rate that leaves about this many, each weighted up by the inverse of the rate (a million records have 80 million).
TRAINING_PAIRS = 5_000_000


def train(sets: Iterable[tuple[Prepared, np.ndarray]], config: Config) -> Model:
    """Trees fitted on the labelled candidate pairs of synthetic training sets (other seeds than any
    evaluation; caseworker decisions later). Fitting on candidate pairs (those blocking produces) learns the
    odds where they are used. The sets may be of several sizes (the `population` input tells them apart); the
    first one's is the size the thresholds are fitted at (`Model.trained_n`). Each set weighs sqrt(its size /
    the first's) times as much as the first: the big sets teach what density does, but in proportion to their
    pairs a million records would drown the rest. `sets` is read once, so it may prepare each set as it goes."""
    import lightgbm

    xs, ys, weights, screens, sizes = [], [], [], [], []
    for p, person in sets:
        sizes.append(p.n)
        pairs = candidate_pairs(p, config)
        same = person[pairs[:, 0]] == person[pairs[:, 1]]
        rate = min(1.0, TRAINING_PAIRS / max(len(pairs), 1))
        if rate < 1.0:
            kept = same | (np.random.default_rng(p.n).random(len(pairs)) < rate)
            pairs, same = pairs[kept], same[kept]
        levels = compare(p, pairs)
        xs.append(features(levels, p.population))
        ys.append(same.astype(np.float32))
        weights.append((np.where(same, 1.0, 1.0 / rate) * math.sqrt(sizes[0] / p.n)).astype(np.float32))
        screens.append(screened_pairs(levels))
    x, y, weight, screened = np.concatenate(xs), np.concatenate(ys), np.concatenate(weights), np.concatenate(screens)
    monotone = [MONOTONE.get(name, 0) for name in FEATURES]
    texts = []
    for parameters, trees, rows in ((TREE_PARAMETERS, TREES, ~screened), (SCREEN_PARAMETERS, SCREEN_TREES, screened)):
        data = lightgbm.Dataset(x[rows], y[rows], weight=weight[rows], feature_name=FEATURES, free_raw_data=True)
        texts.append(
            lightgbm.train(
                {**parameters, "monotone_constraints": monotone}, data, num_boost_round=trees
            ).model_to_string()
        )
    return Model(*texts, sizes[0], config)


def first_scores(
    p: Prepared, pairs: np.ndarray, model: Model, q: Prepared | None = None, chunk: int = 500_000, progress=None
):
    """First-stage scores of `pairs` (`Model.first`) and their sibling/twin levels (all that clustering needs), a
    chunk at a time, so that the comparison measures of 80 million pairs never sit in memory together."""
    scores = np.empty(len(pairs), dtype=np.float32)
    sibling = np.empty(len(pairs), dtype=np.int16)
    hard = np.empty(len(pairs), dtype=bool)
    together = np.empty(len(pairs), dtype=bool)
    twin_names = np.empty(len(pairs), dtype=bool)
    n = p.population if q is None or q is p else p.population + 1
    model.forests  # noqa: B018  (compiled or loaded once, before the threads need them)

    def score_chunk(start: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        levels = compare(p, pairs[start : start + chunk], q=q)
        return (
            start,
            model.first(levels, n),
            levels["sibling"],
            levels["together"],
            levels["twin_names"],
            hard_pattern(levels),
        )

    # Two chunks at a time, one per core: numpy, rapidfuzz and the compiled trees release the GIL for most of the
    # work (1.4 times one thread's speed on two cores; ADR 0022).
    with ThreadPoolExecutor(max_workers=2) as pool:
        for number, (start, chunk_scores, chunk_sibling, chunk_together, chunk_twin_names, chunk_hard) in enumerate(
            pool.map(score_chunk, range(0, len(pairs), chunk))
        ):
            end = start + len(chunk_scores)
            scores[start:end], sibling[start:end], together[start:end] = chunk_scores, chunk_sibling, chunk_together
            twin_names[start:end], hard[start:end] = chunk_twin_names, chunk_hard
            if progress and number % 10 == 9:
                progress(f"scored {end:,} of {len(pairs):,} pairs")
    return scores, {"sibling": sibling, "together": together, "twin_names": twin_names, "hard": hard}


def score_pairs(p: Prepared, pairs: np.ndarray, model: Model, chunk: int = 500_000, progress=None):
    """Scores of all candidate pairs `pairs` among p's records (each pair's first-stage score weighed against its
    records' rivals, `Model.with_rivals`), and their sibling/twin levels."""
    first, levels = first_scores(p, pairs, model, chunk=chunk, progress=progress)
    return model.with_rivals(pairs, first, p.population, dob_vagueness(p)), levels


def hard_pattern(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Pairs with the review band of `Config.review_hard`: across scripts, or an estimated date of birth more than
    a month older than the other (an age assessment)."""
    return (levels["cross_script"] == 1) | ((levels["dob_older"] == 1) & ((levels["dob"] == 8) | (levels["dob"] == 9)))


# ---------------------------------------------------------------- clustering


@dataclass
class Result:
    record_ids: list[str]
    cluster: np.ndarray  # (n,) int64 cluster number per record
    needs_review: np.ndarray  # (n,) bool
    pairs: np.ndarray  # scored candidate pairs
    scores: np.ndarray
    review_pairs: np.ndarray  # pairs in the review band that ended up in different clusters
    timings: dict[str, float] = field(default_factory=dict)


def cluster(n: int, pairs: np.ndarray, scores: np.ndarray, against: np.ndarray, config: Config) -> np.ndarray:
    """Union of automatic links, strongest first, refusing merges across strong evidence against, and merges
    bigger than the link's score allows (`Config.merge_size`).

    `against` marks pairs showing the sibling/twin pattern; with a score under `cannot_link` such a pair
    may not end up in one cluster through a chain of other links. A low score alone does not forbid a
    merge: an assessed age makes the claimed and assessed records of one child score low.
    """
    parent = list(range(n))  # a list: the loop below reads it item by item, where numpy's scalars are slow
    members: dict[int, list[int]] = {}
    auto = np.flatnonzero(scores >= config.auto_link)
    # Only records some automatic link touches are ever merged, so only their guards are needed (at a million
    # records about a quarter of all pairs show the sibling pattern: as Python lists they would take gigabytes).
    linked = np.zeros(n, dtype=bool)
    linked[pairs[auto].ravel()] = True
    guarded = pairs[against & (scores < config.cannot_link) & linked[pairs[:, 0]] & linked[pairs[:, 1]]]
    # Each record's guarded partners, side by side: cannot[start[x]:start[x + 1]].
    ends, partners = np.concatenate([guarded[:, 0], guarded[:, 1]]), np.concatenate([guarded[:, 1], guarded[:, 0]])
    order = np.argsort(ends, kind="stable")
    cannot = partners[order].tolist()
    start = np.r_[0, np.cumsum(np.bincount(ends, minlength=n))].tolist()

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    auto = auto[np.argsort(-scores[auto], kind="stable")]
    # The most record pairs each link may join (see Config.merge_size): |A|·|B| ≤ 2 ** ((score − auto_link) / merge_size).
    most = (
        np.exp2((scores[auto] - config.auto_link) / config.merge_size)
        if config.merge_size
        else np.full(len(auto), np.inf)
    )
    for a, b, limit in zip(pairs[auto, 0].tolist(), pairs[auto, 1].tolist(), most.tolist()):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        group_a, group_b = members.get(ra, [ra]), members.get(rb, [rb])
        if len(group_a) * len(group_b) > limit:
            continue
        if len(group_a) > len(group_b):
            ra, rb, group_a, group_b = rb, ra, group_b, group_a
        if any(find(other) == rb for x in group_a for other in cannot[start[x] : start[x + 1]]):
            continue
        parent[ra] = rb
        members[rb] = group_b + group_a
        members.pop(ra, None)
    roots = np.array(parent, dtype=np.int64)
    while True:  # every record to its root, a level of the trees at a time
        up = roots[roots]
        if np.array_equal(up, roots):
            return roots
        roots = up


def _cluster_links(roots: np.ndarray, pairs: np.ndarray, scores: np.ndarray, against: np.ndarray, floor: float):
    """The strongest pair between each two clusters linked by a pair scoring at least `floor` or showing
    the sibling/twin pattern: (cluster a, cluster b, best score, its pair index, whether any pair between
    them shows the pattern), one row per cluster pair."""
    # Only the pairs that qualify are looked up (at a million records, 80 million pairs' clusters would take 1.3 GB).
    candidates = np.flatnonzero((scores >= floor) | against)
    ra, rb = roots[pairs[candidates, 0]], roots[pairs[candidates, 1]]
    apart = ra != rb
    across, ra, rb = candidates[apart], ra[apart], rb[apart]
    lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
    order = np.lexsort((-scores[across], hi, lo))
    lo, hi, index = lo[order], hi[order], across[order]
    first = np.flatnonzero(np.r_[len(lo) > 0, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])])
    guarded = (
        np.maximum.reduceat(against[index].astype(np.int8), first).astype(bool)
        if len(first)
        else np.zeros(0, dtype=bool)
    )
    return lo[first], hi[first], scores[index[first]], index[first], guarded


def _mutual_best(
    roots: np.ndarray, pairs: np.ndarray, scores: np.ndarray, against: np.ndarray, config: Config
) -> np.ndarray:
    """Merge clusters that are each other's clear best partner (see Config.best_link); returns new roots."""
    if config.best_link >= OFF:
        return roots  # the pass is off (the fit may turn it off, ADR 0019): finding the links between clusters costs seconds
    a, b, best, _, guarded = _cluster_links(
        roots, pairs, scores, against, min(config.best_link, config.review) - config.margin
    )
    if not len(a):
        return roots
    # Each cluster's best and second-best partner score, over both directions.
    ends = np.concatenate([a, b])
    partner = np.concatenate([b, a])
    value = np.concatenate([best, best])
    order = np.lexsort((-value, ends))
    ends, partner, value = ends[order], partner[order], value[order]
    starts = np.flatnonzero(np.r_[True, ends[1:] != ends[:-1]])
    top_partner = np.full(len(roots), -1, dtype=np.int64)
    top_value = np.full(len(roots), -np.inf, dtype=np.float32)
    second = np.full(len(roots), -np.inf, dtype=np.float32)
    top_partner[ends[starts]] = partner[starts]
    top_value[ends[starts]] = value[starts]
    has_second = np.r_[starts[1:], len(ends)] - starts >= 2
    second[ends[starts[has_second]]] = value[starts[has_second] + 1]
    chosen = (
        (best >= config.best_link)
        & ~guarded
        & (top_partner[a] == b)
        & (top_partner[b] == a)
        & (second[a] <= best - config.margin)
        & (second[b] <= best - config.margin)
    )
    merged = roots.copy()
    target = np.arange(len(roots))
    target[b[chosen]] = a[chosen]  # a matching: every cluster appears in at most one chosen pair
    return target[merged]


def sibling_pattern(levels: dict[str, np.ndarray]) -> np.ndarray:
    """The pairs showing the twin or sibling pattern (sibling levels 1 and 2), twins referred together or twins named
    alike (`_twin_names`): evidence against one child."""
    return (levels["sibling"] == 1) | (levels["sibling"] == 2) | levels["together"] | levels["twin_names"]


def decide(
    n: int,
    pairs: np.ndarray,
    scores: np.ndarray,
    levels: dict[str, np.ndarray],
    config: Config,
    referral_day: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clusters (a number per record), who needs review, and the review pairs, from scored pairs.

    Automatic links first (strongest first, with the sibling/twin guard), then clusters that are each
    other's clear best match; then the strongest pair between two clusters still apart, when in the
    review band, goes to review (one pair per two clusters: a person reviews clusters, not every pair), with
    the referral's other possible matches beside it (Config.review_alongside).
    The record that needs review is the newer of each review pair, as in the service, where a possible
    match is found when the newer referral arrives and is queued with it (`referral_day` orders them; the
    input order where a date is not known).
    `levels`: the pairs' sibling/twin levels and hard-pattern flags, as `score_pairs` returns them."""
    against = sibling_pattern(levels)
    roots = _clusters(n, pairs, scores, against, config)
    review_pairs = _review(
        *_review_links(roots, pairs, scores, against, levels["hard"], min(config.review, config.review_hard)),
        pairs,
        config,
    )
    needs_review, review_pairs = _in_review(
        n, roots, review_pairs, pairs, scores, referral_day, config.review_alongside
    )
    _, cluster_number = np.unique(roots, return_inverse=True)
    return cluster_number, needs_review, review_pairs


def newer_records(pairs: np.ndarray, referral_day: np.ndarray | None) -> np.ndarray:
    """The newer record of each pair: the later referral date, else (same day, or a date not known) the later in the input."""
    a, b = pairs[:, 0], pairs[:, 1]
    later_in_input = a > b
    if referral_day is None:
        return np.where(later_in_input, a, b)
    day_a, day_b = referral_day[a], referral_day[b]
    dated = (day_a != MISSING) & (day_b != MISSING) & (day_a != day_b)
    return np.where(np.where(dated, day_a > day_b, later_in_input), a, b)


def _clusters(n: int, pairs: np.ndarray, scores: np.ndarray, against: np.ndarray, config: Config) -> np.ndarray:
    return _mutual_best(cluster(n, pairs, scores, against, config), pairs, scores, against, config)


def _review_links(
    roots: np.ndarray, pairs: np.ndarray, scores: np.ndarray, against: np.ndarray, hard: np.ndarray, floor: float
):
    """`_cluster_links` over all pairs, and over the pairs of the hard patterns alone: two clusters may be
    joined by a hard pair in its lower band while their strongest pair is an ordinary one under the review band."""
    hard_scores = np.where(hard, scores, -np.inf).astype(np.float32)
    return _cluster_links(roots, pairs, scores, against, floor), _cluster_links(
        roots, pairs, hard_scores, np.zeros_like(against), floor
    )


def _review(links, hard_links, pairs: np.ndarray, config: Config) -> np.ndarray:
    """One review pair per two clusters still apart: their strongest pair when in the review band, else their
    strongest hard pair when in the lower band of the hard patterns."""
    from .evaluate import _codes

    lo, hi, best, index, _ = links
    chosen = best >= config.review
    hard_lo, hard_hi, hard_best, hard_index, _ = hard_links
    hard_chosen = hard_best >= config.review_hard
    # The hard pairs of cluster pairs that their strongest pair has not already sent to review.
    taken = _codes(np.stack([lo[chosen], hi[chosen]], axis=1))
    extra = hard_chosen.copy()
    extra[hard_chosen] = ~np.isin(_codes(np.stack([hard_lo[hard_chosen], hard_hi[hard_chosen]], axis=1)), taken)
    return pairs[np.concatenate([index[chosen], hard_index[extra]])]


def _in_review(
    n: int,
    roots: np.ndarray,
    review_pairs: np.ndarray,
    pairs: np.ndarray,
    scores: np.ndarray,
    referral_day: np.ndarray | None,
    floor: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Who needs review (the newer record of each review pair), and the review pairs with the other possible matches
    of those referrals added (Config.review_alongside): for each two clusters not already joined by a review pair,
    their strongest pair (of `pairs`, scored `scores`) that scores at least `floor` and whose newer record is in review."""
    from .evaluate import _codes

    needs_review = np.zeros(n, dtype=bool)
    needs_review[newer_records(review_pairs, referral_day)] = True
    near = np.flatnonzero(scores >= floor)
    near = near[needs_review[newer_records(pairs[near], referral_day)]]
    lo, hi, _, index, _ = _cluster_links(roots, pairs[near], scores[near], np.zeros(len(near), dtype=bool), floor)
    reviewed = _codes(np.sort(roots[review_pairs], axis=1)) if len(review_pairs) else np.zeros(0, dtype=np.int64)
    return needs_review, np.concatenate(
        [review_pairs, pairs[near[index[~np.isin(_codes(np.stack([lo, hi], axis=1)), reviewed)]]]]
    )


# The pairwise precision the thresholds are fitted to on the training sets, above the 0.995 target: on sets never
# used in fitting it came out up to 0.0022 lower (fitted to 0.997: 0.9948 to 0.9983 on seven validation seeds;
# ADR 0018).
FITTED_PRECISION = 0.9975
# Config.merge_size for training: on validation seeds 2001–2003, 0 / 0.5 / 1 / 1.5 / 2 bits per doubling gave recall
# with review 0.940 / 0.951 / 0.964 / 0.973 / 0.973 and B-cubed F1 0.969 / 0.970 / 0.973 / 0.976 / 0.973 (ADR 0019).
MERGE_SIZE = 1.5
# At a million records (fit_scale): on seeds 1, 1008 and 3001 the precision of automatic links at one config
# differed by under 0.0002 (20,000-record seeds: up to 0.0022), so the margin over the 0.995 target can be a fifth
# of FITTED_PRECISION's. The merge sizes tried there: on seed 1008 at precision 0.996, 0 / 0.25 / 0.5 / 1 / 1.5 bits
# per doubling found 0.694 / 0.713 / 0.715 (just under 0.996) / 0.702 / 0.686 of the true pairs (ADR 0023).
FITTED_PRECISION_AT_SCALE = 0.996
MERGE_SIZES_AT_SCALE = (0.0, 0.25, 0.5, 1.0, MERGE_SIZE)
# Config.review_alongside as trained: odds of one in three (the scores are log2 odds, and between clusters still
# apart they are calibrated at every size measured; ADR 0025).
REVIEW_ALONGSIDE = -1.0


def fit_thresholds(
    sets: Sequence[tuple[Prepared, np.ndarray]],
    model: Model,
    precision: float = FITTED_PRECISION,
    review_share: float = 0.028,
    hard_weight: float = 0.5,
) -> Config:
    """Decision thresholds fixed on labelled training sets (prepared records, person per record), before
    any evaluation data exists; precision is pooled over the sets (it varies a lot between seeds: one merge
    of two big clusters costs many pairs, so the more sets the steadier the thresholds).

    auto_link (the bar for two lone records; bigger merges need more, `Config.merge_size` as the model has it):
    the lowest at which automatic links alone reach `precision` pairwise (after clustering), a
    margin above the 0.995 target; then the (best_link, margin) of the cluster-level pass with the best
    recall that keeps that precision; then the two review thresholds (review, review_hard ≤ review) that keep
    the records flagged for review under `review_share`, under the 3% target, with the best recall of
    automatic-or-review links (the review pairs with the other possible matches of the referrals in review,
    REVIEW_ALONGSIDE) over all true pairs plus `hard_weight` times that over the true pairs of the hard
    patterns (these are few: without their own term, cross-script and age-disputed recall fell under their targets;
    with the same weight as all pairs, the budget went to them even where ordinary pairs would have found more
    children: ADR 0018)."""
    from .evaluate import _codes, _pairs_within, found_with_review, pairwise

    config = model.config
    scored = []
    for p, person in sets:
        pairs = candidate_pairs(p, config)
        scores, levels = score_pairs(p, pairs, model)
        scored.append((p.n, person, pairs, levels, scores, p.referral_day))
    grid = np.arange(-4.0, 20.01, 0.25)

    def trial(**values) -> tuple[float, float]:
        """Precision over the sets pooled (false pairs over all pairs linked) and mean recall, of automatic links."""
        linked, hits, recalls = 0, 0.0, []
        for n, person, pairs, levels, scores, _ in scored:
            clusters, _, _ = decide(n, pairs, scores, levels, replace(config, **values))
            found_precision, found_recall, _ = pairwise(person, clusters)
            sizes = np.bincount(clusters).astype(np.int64)
            count = int((sizes * (sizes - 1) // 2).sum())
            linked, hits = linked + count, hits + found_precision * count
            recalls.append(found_recall)
        return (hits / linked if linked else 1.0), float(np.mean(recalls))

    off = {"best_link": OFF, "review": OFF, "review_hard": OFF}
    # The sibling/twin guard holds at any score the grid reaches: two different given names with the family
    # names and the date of birth shared are almost never one child, however rare the family names (the
    # training sets hold a handful such true pairs for hundreds of twins and siblings).
    guard = float(grid[-1])
    auto = next(
        (float(t) for t in grid if trial(auto_link=float(t), cannot_link=guard, **off)[0] >= precision), float(grid[-1])
    )
    best = (trial(auto_link=auto, cannot_link=guard, **off)[1], OFF, 0.0)
    for best_link in grid[(grid < auto) & (grid >= auto - 6)]:
        for margin in (2.0, 4.0, 6.0, 8.0):
            found_precision, found_recall = trial(
                auto_link=auto,
                cannot_link=guard,
                best_link=float(best_link),
                margin=margin,
                review=OFF,
                review_hard=OFF,
            )
            if found_precision >= precision and found_recall > best[0]:
                best = (found_recall, float(best_link), margin)
    chosen = replace(
        config, auto_link=auto, cannot_link=guard, best_link=best[1], margin=best[2], review_alongside=REVIEW_ALONGSIDE
    )

    # The clusters do not depend on the review thresholds: cluster once per set, then try the bands.
    fixed = []
    for n, person, pairs, levels, scores, referral_day in scored:
        against = sibling_pattern(levels)
        roots = _clusters(n, pairs, scores, against, chosen)
        true_pairs = _pairs_within(person)
        codes = _codes(pairs.astype(np.int64))  # sorted: pairs_from_blocks returns them in code order
        at = np.minimum(np.searchsorted(codes, _codes(true_pairs)), len(codes) - 1)
        true_hard = (codes[at] == _codes(true_pairs)) & levels["hard"][at]
        # The pairs that could be shown alongside a referral in review, whichever referrals the bands put there.
        near = np.flatnonzero(scores >= REVIEW_ALONGSIDE)
        near = near[roots[pairs[near, 0]] != roots[pairs[near, 1]]]
        fixed.append(
            (
                n,
                true_pairs,
                true_hard,
                pairs,
                roots,
                _review_links(roots, pairs, scores, against, levels["hard"], float(grid[0])),
                referral_day,
                pairs[near],
                scores[near],
            )
        )

    def bands(review: float, review_hard: float) -> tuple[float, float]:
        """Mean recall of automatic-or-review links (all true pairs + those of the hard patterns) and the worst
        share of records flagged."""
        results = []
        for n, true_pairs, true_hard, pairs, roots, links, referral_day, near_pairs, near_scores in fixed:
            review_pairs = _review(*links, pairs, replace(chosen, review=review, review_hard=review_hard))
            in_review, review_pairs = _in_review(
                n, roots, review_pairs, near_pairs, near_scores, referral_day, REVIEW_ALONGSIDE
            )
            found = found_with_review(true_pairs, roots, review_pairs)
            results.append(
                (
                    found.mean() + hard_weight * (found[true_hard].mean() if true_hard.any() else 1.0),
                    in_review.sum() / n,
                )
            )
        found = np.array(results)
        return float(found[:, 0].mean()), float(found[:, 1].max())

    best_bands = (bands(auto, auto)[0], auto, auto)
    for review in grid[grid <= auto][::-1]:
        if bands(float(review), float(review))[1] > review_share:
            break
        for review_hard in grid[grid <= review][::-1]:
            recall, share = bands(float(review), float(review_hard))
            if share > review_share:
                break
            if recall > best_bands[0]:
                best_bands = (recall, float(review), float(review_hard))
    return replace(chosen, review=best_bands[1], review_hard=best_bands[2])


def fit_scale(
    large: tuple[Prepared, np.ndarray],
    model: Model,
    middle: Sequence[tuple[Prepared, np.ndarray]] = (),
    precision: float = FITTED_PRECISION_AT_SCALE,
    review_share: float = 0.028,
    progress=None,
) -> Config:
    """The model's config with `scale_penalty`, `merge_size_scale` and `review_shifts` fitted on labelled training
    sets of the sizes the engine is measured at (ADR 0017, ADR 0023): on the `large` set, for each merge size of
    MERGE_SIZES_AT_SCALE the smallest penalty with which automatic links keep `precision`, and of those the pair
    that finds the most true pairs; then, at the size of each `middle` set and of the large one, the smallest raise
    of the review bands that keeps the records needing review under `review_share`. Fitted on a set five times the
    weights' size and extrapolated to a million records, one penalty for both took 4 bits off every score there,
    and automatic links found one true pair in twenty."""
    from .evaluate import pairwise

    say = progress or (lambda message: None)
    config = replace(model.config, review_shifts=())  # the bands are fitted afresh below, from the unshifted ones
    p, person = large
    pairs = candidate_pairs(p, config)
    unshifted, levels = score_pairs(
        p, pairs, replace(model, config=replace(config, scale_penalty=0.0)), progress=progress
    )
    against = sibling_pattern(levels)
    doublings = model.doublings(p.population)
    penalties = np.arange(0.0, 2.01, 0.0625).tolist()
    best = None  # (recall, penalty, merge size, scores, roots)
    # A set no bigger than the training size cannot move the merge size away from the trained one.
    for merge_size in MERGE_SIZES_AT_SCALE if doublings else (config.merge_size,):
        trial_config = replace(config, merge_size=merge_size)
        tried = {}

        def trial(at: int, tried=tried, trial_config=trial_config, merge_size=merge_size):
            if at not in tried:
                scores = unshifted - np.float32(penalties[at] * doublings)
                roots = _clusters(p.n, pairs, scores, against, trial_config)
                found_precision, found_recall, _ = pairwise(person, roots)
                say(
                    f"merge size {merge_size}, scale penalty {penalties[at]}: precision {found_precision:.4f}, recall {found_recall:.4f}"
                )
                tried[at] = (found_precision, found_recall, scores, roots)
            return tried[at]

        # Precision rises with the penalty.
        low = _first_passing(len(penalties), lambda at: trial(at)[0] >= precision)
        found_precision, found_recall, scores, roots = trial(low)
        if found_precision >= precision and (best is None or found_recall > best[0]):
            best = (found_recall, penalties[low], merge_size, scores, roots)
    if best is None:
        raise ValueError(
            f"no scale penalty up to {penalties[-1]} bits per doubling keeps precision {precision} at {p.n:,} records"
        )
    _, penalty, merge_size, scores, roots = best
    config = replace(
        config,
        scale_penalty=penalty,
        merge_size_scale=(merge_size - config.merge_size) / doublings if doublings else 0.0,
    )
    scaled = replace(model, config=config)
    shifts = []
    for q, _ in middle:
        middle_config = scaled.config_for(q.population)
        middle_pairs = candidate_pairs(q, config)
        middle_scores, middle_levels = score_pairs(q, middle_pairs, scaled)
        middle_roots = _clusters(q.n, middle_pairs, middle_scores, sibling_pattern(middle_levels), middle_config)
        shifts.append(
            (
                q.population,
                _review_shift(
                    q, middle_pairs, middle_scores, middle_levels, middle_roots, middle_config, review_share, say
                ),
            )
        )
    shifts.append(
        (
            p.population,
            _review_shift(p, pairs, scores, levels, roots, scaled.config_for(p.population), review_share, say),
        )
    )
    return replace(config, review_shifts=tuple(sorted(shifts)))


def _first_passing(count: int, passes) -> int:
    """The lowest index of range(count) for which `passes(index)` holds, by halving, for a `passes` that is false up
    to some index and true from it on; count - 1 when it never holds."""
    low, high = 0, count - 1
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if passes(middle) else (middle + 1, high)
    return low


def _review_shift(
    p: Prepared,
    pairs: np.ndarray,
    scores: np.ndarray,
    levels: dict[str, np.ndarray],
    roots: np.ndarray,
    config: Config,
    review_share: float,
    say,
    lowest: float = -3.0,
    highest: float = 8.0,
) -> float:
    """The smallest raise of the review bands (bits, in sixteenths; negative: lowered) that keeps the records of p
    needing review under `review_share`, given the clusters (`roots`)."""
    against = sibling_pattern(levels)
    # The clusters do not depend on the review bands: find the links between them once, then raise the bands.
    links = _review_links(
        roots, pairs, scores, against, levels["hard"], min(config.review, config.review_hard) + lowest
    )
    shifts = np.arange(lowest, highest + 0.01, 0.0625).tolist()

    def share(shift: float) -> float:
        review_pairs = _review(
            *links, pairs, replace(config, review=config.review + shift, review_hard=config.review_hard + shift)
        )
        return np.unique(newer_records(review_pairs, p.referral_day)).size / p.n

    # The queue shrinks as the bands rise.
    low = _first_passing(len(shifts), lambda at: share(shifts[at]) <= review_share)
    say(f"{p.n:,} records: review bands raised {shifts[low]} bits, review {share(shifts[low]):.2%}")
    return shifts[low]


def link(rows: Sequence[dict[str, str]], model: Model | None = None, progress=None) -> Result:
    """Cluster `rows` (contract input columns): one cluster per person, and who needs review."""
    import time

    model = model or Model.load()
    say = progress or (lambda message: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    say(f"preparing {len(rows):,} records")
    p = prepare(rows)
    config = model.config_for(p.population)
    timings["prepare"] = time.perf_counter() - started
    say(f"blocking ({timings['prepare']:.1f} s preparing)")
    mark = time.perf_counter()
    pairs = candidate_pairs(p, config)
    timings["blocking"] = time.perf_counter() - mark
    say(f"scoring {len(pairs):,} candidate pairs ({timings['blocking']:.1f} s blocking)")
    mark = time.perf_counter()
    first, levels = first_scores(p, pairs, model, progress=say if len(pairs) > 5_000_000 else None)
    timings["scoring"] = time.perf_counter() - mark
    say(f"weighing pairs against their rivals ({timings['scoring']:.1f} s scoring)")
    mark = time.perf_counter()
    scores = model.with_rivals(pairs, first, p.population, dob_vagueness(p))
    del first
    timings["rivals"] = time.perf_counter() - mark
    say(f"clustering ({timings['rivals']:.1f} s with the rivals)")
    mark = time.perf_counter()
    cluster_number, needs_review, review_pairs = decide(p.n, pairs, scores, levels, config, p.referral_day)
    timings["clustering"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    return Result(p.record_ids, cluster_number, needs_review, pairs, scores, review_pairs, timings)


def labelled(size: int, seed: int) -> tuple[Prepared, np.ndarray]:
    """A synthetic training set: its records prepared, and the person behind each."""
    from . import synthetic

    records = list(synthetic.generate(size, seed))
    return prepare([r.row for r in records]), np.array([int(r.truth["person_id"]) for r in records])


def train_main(argv: Iterable[str] | None = None) -> None:
    """Train the model (model.json and model.lgb.txt) on synthetic sets of seeds the evaluation never uses."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Fit the linkage model and its thresholds on labelled synthetic training sets."
    )
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument(
        "--seed",
        type=int,
        default=1001,
        help=(
            "trees on this seed and the next, on the ninth and tenth (at --scale-size and five times --size) and the sixteenth "
            "(two and a half times --size); their second stage on the twelfth to the fourteenth (at --size, five times --size and "
            "--scale-size) and the seventeenth (two and a half times --size); thresholds on the third to the seventh; the scale "
            "on the eighth (at --scale-size), the eleventh (five times --size) and the fifteenth (two and a half times --size)"
        ),
    )
    parser.add_argument(
        "--scale-size",
        type=int,
        default=1_000_000,
        help="records in the set the scale penalty, the merge size and the review bands are fitted on",
    )
    parser.add_argument(
        "--second-stage-only",
        action="store_true",
        help=(
            "keep the first stage's trees (model.lgb.txt, model.screen.lgb.txt); fit the second stage, the thresholds and the scale again"
        ),
    )
    parser.add_argument(
        "--thresholds-only",
        action="store_true",
        help=("keep both stages' trees; fit the thresholds and the scale again"),
    )
    parser.add_argument(
        "--scale-only",
        action="store_true",
        help=(
            "keep both stages' trees and the thresholds at --size; fit the scale penalty, the merge size and the review bands again"
        ),
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    seeds = range(args.seed, args.seed + 17)
    large = args.scale_size
    # Trees on sets of four sizes, so that they learn what density does to each field's evidence (ADR 0020); two and a
    # half times --size is about the UK's own density (ADR 0025).
    middle = 5 * args.size // 2
    tree_sets = [
        (args.size, seeds[0]),
        (args.size, seeds[1]),
        (middle, seeds[15]),
        (5 * args.size, seeds[9]),
        (large, seeds[8]),
    ]
    rival_sets = [(args.size, seeds[11]), (middle, seeds[16]), (5 * args.size, seeds[12]), (large, seeds[13])]
    if args.scale_only:
        model = Model.load()
    elif args.thresholds_only:
        model = replace(Model.load(), config=Config(merge_size=MERGE_SIZE))
    elif args.second_stage_only:
        model = replace(Model.load(second_stage=False), config=Config(merge_size=MERGE_SIZE))
    else:
        model = train((labelled(size, seed) for size, seed in tree_sets), Config(merge_size=MERGE_SIZE))
    if not (args.scale_only or args.thresholds_only):
        # The second stage on sets of the same sizes that the first never saw (ADR 0021).
        print(
            f"first stage trained; the second on {', '.join(f'{size:,} records of seed {seed}' for size, seed in rival_sets)}",
            flush=True,
        )
        model = train_rivals(
            model, (labelled(size, seed) for size, seed in rival_sets), progress=partial(print, flush=True)
        )
    if not args.scale_only:
        # Thresholds on sets the trees never saw: trees fit their own training pairs more closely than new ones.
        model.config = fit_thresholds([labelled(args.size, seed) for seed in seeds[2:7]], model)
        print(f"thresholds {model.config}", flush=True)
    print(f"fitting the scale on {large:,} records of seed {seeds[7]}", flush=True)
    # Between the thresholds' size and a million, the review bands are fitted at five times --size and at two and a half
    # times (where the raise interpolated from 100,000 alone left 3.04% in review; ADR 0023).
    middle_sets = [labelled(5 * args.size, seeds[10]), labelled(middle, seeds[14])]
    model.config = fit_scale(labelled(large, seeds[7]), model, middle=middle_sets, progress=partial(print, flush=True))
    model.save()
    print(f"thresholds: {model.config}")
    print(
        f"trees on {', '.join(f'{size:,} records of seed {seed}' for size, seed in tree_sets)}; the second stage on "
        f"{', '.join(f'{size:,} records of seed {seed}' for size, seed in rival_sets)}; thresholds on seeds {seeds[2]}–{seeds[6]}; "
        f"the scale penalty, the merge size and the review bands on {large:,} records of seed {seeds[7]}, the review bands also on "
        f"{5 * args.size:,} records of seed {seeds[10]} and {middle:,} of seed {seeds[14]}; wrote {MODEL_PATH}"
    )


if __name__ == "__main__":
    train_main()


# ---------------------------------------------------------------- checking one new referral


@dataclass(frozen=True)
class Evidence:
    """One field's part in a match score, for a person deciding: the field, the comparison level in plain
    English, and the log2 match weight that level contributed (positive for, negative against)."""

    field: str
    label: str
    weight: float


# Plain-English labels of the comparison levels, by field and level (see `compare`); keep in step with it.
NAME_LABELS = [
    "a name is missing",
    "all names agree; rare names",
    "all names agree; uncommon names",
    "all names agree",
    "all names agree; common names",
    "most names agree",
    "names spelled similarly",
    "one name agrees, the others spelled similarly",
    "one name agrees, the others differ",
    "names agree with an alias",
    "names differ",
]
GIVEN_LABELS = ["given name not known", "given name agrees", "given names spelled similarly", "given names differ"]
FIELD_LABELS: dict[str, tuple[str, list[str]]] = {
    "dob": (
        "Date of birth",
        [
            "not known",
            "same date",
            "day and month swapped",
            "one of day, month or year differs",
            "intervals overlap (within a month)",
            "intervals overlap (within a year)",
            "intervals overlap (age estimated or disputed)",
            "within a month of each other",
            "within a year of each other",
            "estimated date older by up to seven years (age disputed)",
            "within six years (age estimated)",
            "within six years",
            "more than six years apart",
        ],
    ),
    "sex": ("Sex", ["not known", "same", "different"]),
    "nationality": (
        "Nationality",
        ["not known", "a nationality in common", "nationalities commonly confused (e.g. ERI/ETH)", "different"],
    ),
    "local_authority": ("Local authority", ["different or not known", "same"]),
    "sibling": (
        "Sibling pattern",
        [
            "no sibling pattern",
            "twin pattern: same date of birth, family name shared, given names differ",
            "sibling pattern: close dates of birth, family name shared, given names differ",
            "family name shared, close dates of birth, given names do not conflict",
        ],
    ),
}


FIELD_LABELS_ORDER = ("Names", *(title for title, _ in FIELD_LABELS.values()), "Referral dates")


def referral_gap_label(days: int) -> str:
    """How far apart two referrals were made: the same child's referrals come in runs (missing, found,
    referred again), a namesake's at any time."""
    if days < 0:
        return "a referral date not known"
    if days < 60:
        return f"made {days} days apart"
    return f"made {days / 30.44:.0f} months apart" if days < 730 else f"made {days / 365.25:.1f} years apart"


def evidence(
    levels: dict[str, np.ndarray], ks: Sequence[int], model: Model, n: int, rivals: np.ndarray | None = None
) -> list[list[Evidence]]:
    """The evidence, field by field, for pairs `ks` of `levels` (as `compare` returns them) among `n` records:
    each field's level in words and its part of the score (the SHAP contributions of its features); with `rivals`
    (per pair in ks: the score less the pair's own evidence, see `Model.with_rivals`), what the other candidates did."""
    ks = np.asarray(ks, dtype=np.int64)
    if not len(ks):
        return []
    picked = {name: values[ks] for name, values in levels.items()}
    parts = model.contributions(picked, n)
    by_field = np.zeros((len(ks), len(FIELD_LABELS_ORDER)))
    for column, name in enumerate(FEATURES):
        if name in FEATURE_FIELD:
            by_field[:, list(FIELD_LABELS_ORDER).index(FEATURE_FIELD[name])] += parts[:, column]
    out = []
    for row in range(len(ks)):
        name_level, given_level = divmod(int(picked["name_given"][row]), GIVEN_LEVELS)
        labels = [f"{NAME_LABELS[name_level]}; {GIVEN_LABELS[given_level]}"]
        labels += [FIELD_LABELS[name][1][int(picked[name][row])] for name in FIELD_LABELS]
        labels.append(referral_gap_label(int(picked["referral_gap"][row])))
        items = [
            Evidence(title, label, round(float(weight), 2))
            for title, label, weight in zip(FIELD_LABELS_ORDER, labels, by_field[row], strict=True)
        ]
        if rivals is not None:
            items.append(Evidence(RIVALS_FIELD, rivals_label(float(rivals[row])), round(float(rivals[row]), 2)))
        out.append(items)
    return out


RIVALS_FIELD = "Other possible matches"


def rivals_label(weight: float) -> str:
    """What the other candidates of the two records did to the score (`weight` bits), in words."""
    if weight >= 0.5:
        return "no other record matches either of them as well, or another record matches both: the same child again"
    if weight > -0.5:
        return "the other candidates change little"
    return "another record matches one of them almost as well or better: a look-alike, or the same child again"


def explain(
    row_a: dict[str, str], row_b: dict[str, str], model: Model | None = None, index: Index | None = None
) -> tuple[float, list[Evidence]]:
    """The match weight of two input rows (contract section 6 columns) on their own evidence, field by field (the first
    stage: without the rivals a query weighs them against).

    How common a name is comes from `index` (the existing records) when given; without it the two rows
    are all there is, so every name counts as one of ordinary frequency in a population of the model's
    training size (1 record in 64): a shared full name is then 'uncommon' rather than 'rare'."""
    model = model or (index.model if index is not None else Model.load())
    if index is not None:
        reference = index.prepared
        both = prepare_like([row_a, row_b], reference)
        unseen = np.float32(population_bits(reference.n))
        a = replace(
            both,
            n=reference.n,
            population=reference.population,
            token_bits=np.append(reference.token_bits, unseen),
            spelling_bits=np.append(reference.spelling_bits, unseen),
        )
        n = reference.population + 1
    else:
        both = prepare([row_a, row_b])
        n = model.trained_n
        ordinary = population_bits(n) - 6
        a = replace(
            both,
            n=n,
            population=n,
            token_bits=np.full(len(both.token_bits), ordinary, dtype=np.float32),
            spelling_bits=np.full(len(both.spelling_bits), ordinary, dtype=np.float32),
        )
    levels = compare(a, np.array([[0, 1]], dtype=np.int64), q=a)
    score = float(model.score(levels, n)[0])
    return score, evidence(levels, [0], model, n)[0]


@dataclass
class Match:
    record_id: str
    score: float
    decision: str  # "auto" or "review"
    evidence: list[Evidence] = field(default_factory=list)


def _spans(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions start, start + 1, … of each span (start, length), spans one after another."""
    return np.repeat(starts, lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))


class Index:
    """The existing records held in memory for checking new referrals one at a time.

    Keeps the prepared arrays and the blocking keys (about 15 per record) sorted by key then date of birth;
    a query computes the new record's keys, finds its candidates by binary search, and scores them with the
    batch code. In a block bigger than `max_block` only the `window` records either side of the new one's
    date of birth are candidates, as the batch run pairs neighbours there, and, in one of up to
    `undated_max_block` records, the records without a date of birth (all of them when the new one has none).
    """

    def __init__(self, rows: Sequence[dict[str, str]], model: Model | None = None):
        self.model = model or Model.load()
        self.prepared = prepare(rows)
        keys, owners = blocking_keys(self.prepared)
        self._keep_own_keys(keys, owners, 0, self.prepared.n)
        order = np.lexsort((owners, self.prepared.dob_lo[owners], keys))
        self.keys, self.owners = keys[order], owners[order]
        self._sort_keys()

    def _keep_own_keys(self, keys: np.ndarray, owners: np.ndarray, first_owner: int, records: int) -> None:
        """Each record's own blocking keys, record by record (own_keys[own_start[x]:own_start[x + 1]]), appended for the
        `records` records from `first_owner` on (a record may have none): an existing record is queried in turn to find
        its rivals (`_with_rivals`)."""
        order = np.argsort(owners, kind="stable")
        counts = np.bincount(owners - first_owner, minlength=records)
        if first_owner == 0:
            self.own_keys, self.own_start = keys[order], np.r_[0, np.cumsum(counts)]
        else:
            self.own_keys = np.concatenate([self.own_keys, keys[order]])
            self.own_start = np.r_[self.own_start, self.own_start[-1] + np.cumsum(counts)]

    def _vagueness(self) -> np.ndarray:
        """`dob_vagueness` of the existing records and a last place for the new record's, kept while the records are
        (computing it is a pass over every record); each query writes its new record's into a copy of its own."""
        if getattr(self, "_vagueness_of", None) is not self.prepared:
            self._vagueness_of, self._vagueness_cache = (
                self.prepared,
                np.append(dob_vagueness(self.prepared), np.int8(0)),
            )
        return self._vagueness_cache

    def _sort_keys(self) -> None:
        """Each key's place and date of birth as one sortable number, so that finding where a date falls in its block is
        one binary search for a whole batch of keys: block number × 2^33 + date (shifted to be positive)."""
        block = (
            np.cumsum(np.r_[False, self.keys[1:] != self.keys[:-1]]) if len(self.keys) else np.zeros(0, dtype=np.int64)
        )
        self.block_of = block.astype(np.int64)
        self.by_block_and_date = (self.block_of << np.int64(33)) + (
            self.prepared.dob_lo[self.owners].astype(np.int64) - np.iinfo(np.int32).min
        )

    def query(self, row: dict[str, str]) -> list[Match]:
        """Existing records that may be the same child, strongest first (auto-link or review band, and beside a review
        match the other candidates down to Config.review_alongside)."""
        return self.query_many([row])[0]

    def query_many(self, rows: Sequence[dict[str, str]]) -> list[list[Match]]:
        """`query` for each of several new records, in one pass: the blocking keys, the comparisons and the scores
        are computed for the whole batch at once (per record, most of a single query's time is numpy's fixed cost).
        A new record already in the index (the same record id) is not its own match.

        The rivals (see `rival_features`) are found as the batch run finds them: the new record's are its other
        candidates; an existing record's are its candidates among the existing records (found by querying it in
        turn) and the new records that found it."""
        n = self.prepared.population + 1
        config = self.model.config_for(n)
        results: list[list[Match]] = [[] for _ in rows]
        if not rows:
            return results
        q = prepare_like(list(rows), self.prepared)
        pairs, levels, first = self._candidates(q)
        ids = self.prepared.record_ids
        itself = np.array([ids[e] == q.record_ids[j] for e, j in pairs.tolist()], dtype=bool)
        already = np.full(len(rows), -1, dtype=np.int64)  # each new record's own number in the index, if it is there
        if itself.any():
            already[pairs[itself, 1]] = pairs[itself, 0]
            pairs, levels, first = (
                pairs[~itself],
                {name: values[~itself] for name, values in levels.items()},
                first[~itself],
            )
        if not len(pairs):
            return results
        scores = self._with_rivals(pairs, first, already, dob_vagueness(q))
        banded = (scores >= config.review) | (hard_pattern(levels) & (scores >= config.review_hard))
        # As in a batch run, the twin or sibling pattern keeps a pair from an automatic link unless it is overwhelming.
        automatic = (scores >= config.auto_link) & ~(sibling_pattern(levels) & (scores < config.cannot_link))
        # A new record in review is offered with its other possible matches (Config.review_alongside).
        in_review = np.zeros(len(rows), dtype=bool)
        in_review[pairs[banded & ~automatic, 1]] = True
        keep = np.flatnonzero(banded | (in_review[pairs[:, 1]] & (scores >= config.review_alongside)))
        keep = keep[np.argsort(-scores[keep], kind="stable")]
        rivals = scores[keep] - (first[keep] - np.float32(self.model._prior_shift(n)))
        found = evidence(levels, keep, self.model, n, rivals=rivals)
        for k, found_evidence in zip(keep.tolist(), found, strict=True):
            results[int(pairs[k, 1])].append(
                Match(
                    self.prepared.record_ids[pairs[k, 0]],
                    float(scores[k]),
                    "auto" if automatic[k] else "review",
                    found_evidence,
                )
            )
        return results

    def _candidates(
        self, q: Prepared, keys: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """The candidate pairs (existing record, record of q) of q's records, their comparison levels and first-stage
        scores; `keys`: q's blocking keys and their owners when known."""
        config = self.model.config
        keys, key_owners = keys if keys is not None else blocking_keys(q)
        left = np.searchsorted(self.keys, keys, side="left")
        right = np.searchsorted(self.keys, keys, side="right")
        big = np.flatnonzero(right - left > config.max_block)
        extra_left, extra_owners = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        extra_lengths = np.zeros(0, dtype=np.int64)
        if len(big):
            # In a big block, the `window` records either side of where the record's date of birth falls.
            dates = q.dob_lo[key_owners[big]].astype(np.int64) - np.iinfo(np.int32).min
            block = self.block_of[left[big]] << np.int64(33)
            middle = np.searchsorted(self.by_block_and_date, block + dates)
            whole_left, whole_right = left[big], right[big]
            left[big], right[big] = (
                np.maximum(whole_left, middle - config.window),
                np.minimum(whole_right, middle + config.window),
            )
            # As in a batch run (pairs_from_blocks), in a block of up to `undated_max_block` records an undated record
            # meets all of them, and a dated one also the undated ones (first in the block: their date sorts lowest).
            small = whole_right - whole_left <= config.undated_max_block
            undated = small & (dates == 0)
            left[big[undated]], right[big[undated]] = whole_left[undated], whole_right[undated]
            dated = small & (dates != 0)
            extra_left = whole_left[dated]
            extra_lengths = np.searchsorted(self.by_block_and_date, block[dated] + 1) - extra_left
            extra_owners = key_owners[big[dated]]
        lengths = np.r_[np.maximum(right - left, 0), extra_lengths]
        if not lengths.sum():
            return (
                np.zeros((0, 2), dtype=np.int64),
                compare(self.prepared, np.zeros((0, 2), dtype=np.int64), q=q),
                np.zeros(0, dtype=np.float32),
            )
        positions = _spans(np.r_[left, extra_left], lengths)
        # Each (existing record, new record) pair once.
        codes = np.unique(
            np.repeat(np.r_[key_owners, extra_owners], lengths) * self.prepared.n + self.owners[positions]
        )
        pairs = np.stack([codes % self.prepared.n, codes // self.prepared.n], axis=1)
        levels = compare(self.prepared, pairs, q=q)
        return pairs, levels, self.model.first(levels, self.prepared.population + 1)

    def _with_rivals(
        self, pairs: np.ndarray, first: np.ndarray, already: np.ndarray, new_vagueness: np.ndarray
    ) -> np.ndarray:
        """`Model.with_rivals` for the (existing, new) pairs: a new record's rivals are its other candidates, an existing
        record's its candidates among the existing records (found by querying it in turn). Each new record is weighed
        on its own, as if it had come alone: new records are not each other's rivals, nor their own (`already`: a new
        record's number in the index when it is there too, else -1; `new_vagueness`: `dob_vagueness` of the new records).

        Existing records are only queried for their rivals when a pair of theirs could be offered: scored as if
        they had no rival (the most a rival can take is nothing), it is at least the lowest threshold. The rest are
        not matches. (A third record matching both could still lift such a pair, `support`; but then the new record
        matches that third record well itself, and is offered it.)"""
        n = self.prepared.n
        population = self.prepared.population + 1
        config = self.model.config_for(population)
        lowest = min(config.review, config.review_hard, config.review_alongside)
        by_new = [(new, np.flatnonzero(pairs[:, 1] == new)) for new in np.unique(pairs[:, 1]).tolist()]
        vagueness = self._vagueness().copy()

        def rescore(mine: np.ndarray, own_pairs: np.ndarray, own_first: np.ndarray) -> np.ndarray:
            # One numbering: existing records keep theirs, the new record is number n.
            together = np.concatenate([np.stack([pairs[mine, 0], np.full(len(mine), n)], axis=1), own_pairs]).astype(
                np.int64
            )
            vagueness[n] = new_vagueness[pairs[mine[0], 1]]
            return self.model.with_rivals(together, np.concatenate([first[mine], own_first]), population, vagueness)[
                : len(mine)
            ]

        no_pairs, no_first = np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = np.empty(len(pairs), dtype=np.float32)
        for _, mine in by_new:
            scores[mine] = rescore(mine, no_pairs, no_first)
        existing = np.unique(pairs[scores >= lowest, 0])
        if not len(existing) or not self.model.rival_texts:
            return scores
        lengths = self.own_start[existing + 1] - self.own_start[existing]
        positions = _spans(self.own_start[existing], lengths)
        own_keys = (self.own_keys[positions], np.repeat(np.arange(len(existing)), lengths))
        own_pairs, _, own_first = self._candidates(take(self.prepared, existing), own_keys)
        own_pairs = np.stack([own_pairs[:, 0], existing[own_pairs[:, 1]]], axis=1)
        real = (own_pairs[:, 0] != own_pairs[:, 1]) & (own_first > RIVAL_FLOOR)
        own_pairs, own_first = own_pairs[real], own_first[real]
        # Each pair of existing records once, whichever of the two was queried.
        _, once = np.unique(
            np.minimum(own_pairs[:, 0], own_pairs[:, 1]) * n + np.maximum(own_pairs[:, 0], own_pairs[:, 1]),
            return_index=True,
        )
        own_pairs, own_first = own_pairs[once], own_first[once]
        for new, mine in by_new:
            # Its own pairs that could reach a band (not those another new record's could): as if it had come alone.
            found = pairs[mine[scores[mine] >= lowest], 0]
            if len(found):
                theirs = (np.isin(own_pairs[:, 0], found) | np.isin(own_pairs[:, 1], found)) & (
                    own_pairs != already[new]
                ).all(axis=1)
                scores[mine] = rescore(mine, own_pairs[theirs], own_first[theirs])
        return scores
