"""Checking each new referral against every earlier one (ADR 0014).

The worker holds the engine's in-memory index of every referral's identity (`engine.Index`), built once per
process and then grown with the referrals that arrived since (`GrowingIndex.extend`), so one check costs what
the engine's query costs, not a rebuild. The referrals still to check are those without an `ArrivalCheck`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from django.utils import timezone

from opennrm.core import cache
from opennrm.referrals.models import Referral

from . import engine, normalise

_SEX = {"female": "F", "male": "M"}


def identity_row(
    pk: int, potential_victim: dict, local_authority: str, received_at: dt.datetime | None = None
) -> dict[str, str]:
    """A referral's identity as the engine's input row (contract section 6 columns)."""
    pv = potential_victim or {}
    dob = pv.get("date_of_birth") or ""
    precision = normalise.ENGINE_PRECISION.get(pv.get("date_of_birth_precision") or "day", "exact") if dob else ""
    if dob and pv.get("age_disputed") and precision in ("exact", "month", "year"):
        precision = "estimated"  # a disputed age: the date is a claim, to be compared loosely
    return {
        "record_id": str(pk),
        "given_names": pv.get("given_names") or "",
        "family_name": pv.get("family_name") or "",
        "aliases": ";".join(pv.get("aliases") or []),
        "names_in_original_script": pv.get("names_in_original_script") or "",
        "date_of_birth": dob,
        "date_of_birth_precision": precision,
        "sex": _SEX.get(pv.get("sex") or "", ""),
        "nationalities": ";".join(pv.get("nationalities") or []),
        "local_authority": local_authority or "",
        "referral_date": timezone.localdate(received_at).isoformat() if received_at else "",
    }


def referral_row(referral: Referral) -> dict[str, str]:
    return identity_row(referral.pk, referral.potential_victim, referral.local_authority, referral.received_at)


def identity_rows(queryset) -> list[dict[str, str]]:
    return [
        identity_row(pk, pv, la, received)
        for pk, pv, la, received in queryset.values_list(
            "pk", "potential_victim", "local_authority", "received_at"
        ).iterator(chunk_size=5000)
    ]


class GrowingIndex(engine.Index):
    """The engine's index, which can take new records without being rebuilt.

    New records are prepared in the existing token ids (names unseen so far get new ids), their blocking keys
    are inserted in the sorted key array, and the names' term-frequency weights are recounted (a few
    milliseconds at a million records). Queries are the engine's own.
    """

    def extend(self, rows: list[dict[str, str]]) -> None:
        if not rows:
            return
        old = self.prepared
        # The codes' dictionaries are shared, so the new records get the same ids (and new codes new ones).
        new = engine.prepare(rows, old.nationality_bits, old.authorities, old.prefix_ids)
        vocabulary = old.vocabulary
        remap = engine.id_map(new.vocabulary, lambda key: vocabulary.setdefault(key, len(vocabulary)))
        new.tokens, new.alias_tokens, new.given_key = remap[new.tokens], remap[new.alias_tokens], remap[new.given_key]
        spellings = old.spelling_vocabulary
        new.spellings = engine.id_map(new.spelling_vocabulary, lambda key: spellings.setdefault(key, len(spellings)))[
            new.spellings
        ]
        keys, owners = engine.blocking_keys(new)
        values = new.dob_lo[owners]
        owners = owners + old.n
        self._keep_own_keys(keys, owners, old.n, new.n)
        # The index is sorted by key, then date of birth, then record (engine.Index): each new key goes after the
        # existing entries with its key and date, since its record number is higher than theirs.
        order = np.lexsort((owners, values, keys))
        keys, owners, values = keys[order], owners[order], values[order]
        left = np.searchsorted(self.keys, keys, side="left")
        right = np.searchsorted(self.keys, keys, side="right")
        dates = values.astype(np.int64) - np.iinfo(np.int32).min
        within = right > left
        at = left.copy()
        at[within] = np.searchsorted(
            self.by_block_and_date, (self.block_of[left[within]] << np.int64(33)) + dates[within], side="right"
        )
        merged = {}
        for f in dataclasses.fields(old):
            a, b = getattr(old, f.name), getattr(new, f.name)
            if f.name in ("token_bits", "spelling_bits") or isinstance(
                a, dict
            ):  # recounted below; the shared code dictionaries
                merged[f.name] = a
            elif f.name == "n":
                merged[f.name] = a + b
            elif f.name == "population":
                merged[f.name] = 0  # counted again from all the records
            elif isinstance(a, np.ndarray):
                merged[f.name] = np.concatenate([a, b])
            else:
                merged[f.name] = list(a) + list(b)
        prepared = engine.Prepared(**merged)
        prepared.token_bits = engine.token_rarity(prepared.tokens, prepared.sex, prepared.dob_year_lo, len(vocabulary))
        prepared.spelling_bits = engine.token_rarity(
            prepared.tokens, prepared.sex, prepared.dob_year_lo, len(spellings), ids=prepared.spellings
        )
        self.keys, self.owners = np.insert(self.keys, at, keys), np.insert(self.owners, at, owners)
        self.prepared = prepared
        self._sort_keys()


class ProcessIndex:
    """This process's index of every referral's identity: built on first use, then grown (ADR 0014)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._index: GrowingIndex | None = None
        self._upto = 0  # the highest referral id read
        self._ids = np.zeros(0, dtype=np.int64)  # every referral id in the index, in index order

    @contextmanager
    def covering(self, referral_ids: list[int]) -> Iterator[GrowingIndex]:
        """The index, holding every referral up to now and those named (which may have committed out of id order),
        for this thread alone until the block ends: growing it while another thread queries it would mix arrays."""
        with self._lock:
            yield self._current(referral_ids)

    def _current(self, referral_ids: list[int]) -> GrowingIndex:
        if self._index is None:
            rows = identity_rows(Referral.objects.order_by("pk"))
            self._index = GrowingIndex(rows)
            self._ids = np.array([int(r["record_id"]) for r in rows], dtype=np.int64)
            self._upto = int(self._ids.max()) if len(self._ids) else 0
        else:
            named = np.asarray(referral_ids, dtype=np.int64)
            late = [int(pk) for pk in named[(named <= self._upto) & ~np.isin(named, self._ids)]]
            rows = identity_rows(Referral.objects.filter(pk__gt=self._upto).order_by("pk"))
            rows += identity_rows(Referral.objects.filter(pk__in=late)) if late else []
            if rows:
                self._index.extend(rows)
                added = np.array([int(r["record_id"]) for r in rows], dtype=np.int64)
                self._ids = np.concatenate([self._ids, added])
                self._upto = max(self._upto, int(added.max()))
        return self._index

    def forget(self) -> None:
        with self._lock:
            self._index, self._upto, self._ids = None, 0, np.zeros(0, dtype=np.int64)


process_index = ProcessIndex()
cache.register(process_index)


# --- Evidence, field by field ------------------------------------------------------------------------


@functools.cache
def thresholds() -> dict:
    """The model's decision thresholds (strong, review, review for the hard patterns) and how the review bands rise
    with the number of referrals, for pages that explain a score."""
    model = engine.Model.load()
    return {**dataclasses.asdict(model.config), "trained_n": model.trained_n}


def _evidence_dicts(items) -> list[dict]:
    out = [{"field": e.field, "label": e.label, "weight": round(float(e.weight), 2)} for e in items]
    return sorted(out, key=lambda e: -abs(e["weight"]))


def pair_evidence(row_a: dict[str, str], row_b: dict[str, str], index: GrowingIndex) -> tuple[float, list[dict]]:
    """The match weight of two identities and the evidence for and against, field by field, with names weighed by
    how common they are among all referrals (the engine's explain)."""
    score, items = engine.explain(row_a, row_b, index=index)
    return float(score), _evidence_dicts(items)


def match_evidence(match) -> list[dict]:
    return _evidence_dicts(match.evidence)
