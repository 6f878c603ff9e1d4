"""Level-4 proposals towards other containers of the datastore: ``existsIn`` (a key
field found in another container), ``notExistsIn`` (disjoint identifier fields of related
containers) and ``dataDiff`` (a container that copies another).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from ..profile import ProfileResult
from .core import (
    COPY_WORDS,
    ID_SUFFIXES,
    MIN_SHARED_WORD,
    MIN_TRAINING_VALUES,
    UNIQUE_RATIO,
    InferenceOptions,
    Proposal,
    _available,
    _holds,
    split,
)
from .patterns import _as_text


def references_for(profile: ProfileResult, opts: InferenceOptions, own_container_id: int) -> list[Proposal]:
    """Level 4 proposals towards the other containers of the datastore (verified by the
    caller with a resolver): ``existsIn`` (below), ``notExistsIn`` (:func:`disjoint_keys`)
    and ``dataDiff`` (:func:`replicas`).

    ``existsIn``: a field that is not a key of its own container and whose name, or name
    after its ``x_`` prefix (``l_orderkey`` ~ ``o_orderkey``), equals that of a key field
    (every value present and distinct) of another container of the datastore, with the
    same type."""
    if opts.level < 4:
        return []
    out = disjoint_keys(profile, opts, own_container_id) + replicas(profile, opts, own_container_id)
    if not _available("existsIn"):
        return out

    def stem(n: str) -> str:
        return n.split("_", 1)[1].lower() if "_" in n else n.lower()

    for name, st in profile.raw.items():
        if not st.get("non_null_count"):
            continue
        if st.get("completeness") == 1 and (st.get("unique_distinct_ratio") or 0) >= UNIQUE_RATIO:
            continue  # a key of its own container, not a reference to another one
        ftype = profile.types.get(name)
        for cid, cname, ref_field, ref_type in opts.references:
            if cid == own_container_id or ref_type != ftype or ftype not in ("Integral", "String"):
                continue
            if ref_field == name or (
                stem(ref_field) == stem(name) and "_" in ref_field and "_" in name and len(stem(name)) >= 4
            ):
                out.append(
                    Proposal(
                        "existsIn",
                        [name],
                        {"ref_container_id": cid, "field_name": ref_field},
                        description=f"{name} values exist in {cname}.{ref_field}",
                    )
                )
                break
    return out


def _is_key(profile: ProfileResult, name: str) -> bool:
    st = profile.raw.get(name) or {}
    return (
        profile.types.get(name) in ("Integral", "String")
        and st.get("completeness") == 1
        and (st.get("unique_distinct_ratio") or 0) >= UNIQUE_RATIO
    )


def _is_identifier(name: str) -> bool:
    last = re.split(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])", name.strip())[-1].lower()
    return any(last == w or (len(last) >= 6 and last.endswith(w) and w in ("id", "key")) for w in ID_SUFFIXES)


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"[^A-Za-z]+", name.lower()) if len(w) >= MIN_SHARED_WORD}


def disjoint_keys(profile: ProfileResult, opts: InferenceOptions, own_container_id: int) -> list[Proposal]:
    """Level 4 ``notExistsIn``, conservatively: a key field (complete, distinct ratio ≥
    ``UNIQUE_RATIO``, Integral or String, named as an identifier: its last word is one of
    ``ID_SUFFIXES``, or has 6 letters or more and ends with ``id``/``key``) of this
    container and a key field with the **same name and type** of another container whose name shares a word of at least
    ``MIN_SHARED_WORD`` letters with this one (``orders_2023`` / ``orders_2024``,
    ``active_users`` / ``deleted_users``): the two containers split one entity, and an id
    must not be in both. Proposed on the container whose name sorts last (one check per
    pair) when no training value of the field is in the other container's sample and at
    most ``percent_testing_threshold`` of the hold-out values are; never between replicas
    (containers whose profiles match, see :func:`replicas`). Other field pairs are never
    proposed: disjoint values of unrelated fields are a coincidence, not a rule."""
    if not _available("notExistsIn") or profile.sample is None or not opts.container_name:
        return []
    training, holdout = split(profile.sample, opts.max_count_testing_sample)
    out = []
    words = _words(opts.container_name)
    for cid, cname, other in opts.others:
        if cid == own_container_id or cname >= opts.container_name or not (words & _words(cname)):
            continue
        if other.sample is None or _same_contents(profile, other):
            continue
        for name in profile.types:
            if not (
                _is_identifier(name)
                and _is_key(profile, name)
                and name in other.types
                and other.types[name] == profile.types[name]
                and _is_key(other, name)
                and name in training.columns
                and name in other.sample.columns
            ):
                continue
            theirs = set(other.sample[name].dropna().map(_as_text))
            if not theirs or training[name].dropna().map(_as_text).isin(theirs).any():
                continue
            ho = holdout[name]
            if _holds(ho.map(_as_text).isin(theirs), ho.notna(), opts.percent_testing_threshold):
                out.append(
                    Proposal(
                        "notExistsIn",
                        [name],
                        {"ref_container_id": cid, "field_name": name},
                        description=f"{name} values are not in {cname}.{name}",
                    )
                )
    return out


_COMPARED_STATS = (
    "field_type",
    "completeness",
    "approximate_distinct_values",
    "min",
    "max",
    "min_length",
    "max_length",
    "histogram_buckets",
)


def _same_contents(a: ProfileResult, b: ProfileResult) -> bool:
    """Whether two profiles describe the same rows: same record count (> 0), same field
    names and types, equal statistics (``_COMPARED_STATS`` exactly, mean and sum within a
    relative 1e-9) and, when both samples hold every row, the same multiset of rows."""
    if not a.records or a.records != b.records or a.types != b.types:
        return False
    for name in a.types:
        fa, fb = a.fields.get(name) or {}, b.fields.get(name) or {}
        if any(fa.get(k) != fb.get(k) for k in _COMPARED_STATS):
            return False
        for k in ("mean", "sum"):
            va, vb = fa.get(k), fb.get(k)
            if (va is None) != (vb is None) or (
                va is not None and vb is not None and not math.isclose(va, vb, rel_tol=1e-9)
            ):
                return False
    if a.sample is not None and b.sample is not None and len(a.sample) == len(b.sample) == a.records:
        return bool(np.array_equal(_row_hashes(a.sample[list(a.types)]), _row_hashes(b.sample[list(a.types)])))
    return True


def _row_hashes(df: pd.DataFrame) -> np.ndarray:
    h = np.zeros(len(df), dtype="uint64")
    for name in df.columns:
        col = pd.util.hash_pandas_object(
            df[name].map(_as_text).where(df[name].notna(), "\x00null"), index=False
        ).to_numpy()
        h = h * np.uint64(1_000_003) ^ col
    return np.sort(h)


def _is_copy_of(copy: str, original: str) -> bool:
    """Whether container ``copy`` is taken as the copy of ``original``: only ``copy``'s
    name has a word of ``COPY_WORDS``; or neither or both have, and ``copy``'s name is
    longer (equal lengths: sorts last)."""

    def marked(n: str) -> bool:
        return bool(set(re.split(r"[^a-z]+", n.lower())) & set(COPY_WORDS))

    if marked(copy) != marked(original):
        return marked(copy)
    return (len(copy), copy) > (len(original), original)


def replicas(profile: ProfileResult, opts: InferenceOptions, own_container_id: int) -> list[Proposal]:
    """Level 4 ``dataDiff``, conservatively: on a container whose profile matches that of
    another container of the datastore (:func:`_same_contents`: same row count, fields,
    types and statistics, same rows when the samples hold them all), towards the one it
    is a copy of (:func:`_is_copy_of`: ``orders_backup`` → ``orders``); compared on every
    field, without row identifiers. At most one per container, and none for containers of
    fewer than ``MIN_TRAINING_VALUES`` rows (small lookup tables match by coincidence)."""
    if not _available("dataDiff") or profile.records < MIN_TRAINING_VALUES:
        return []
    for cid, cname, other in opts.others:
        if cid == own_container_id or not _is_copy_of(opts.container_name, cname):
            continue
        if _same_contents(profile, other):
            return [
                Proposal(
                    "dataDiff",
                    list(profile.types),
                    {"ref_container_id": cid},
                    description=f"the container is a copy of {cname}",
                )
            ]
    return []
