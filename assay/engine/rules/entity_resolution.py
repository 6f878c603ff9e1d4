from __future__ import annotations

import unicodedata
from typing import Any

import ibis
from pydantic import BaseModel, ConfigDict, Field

from ..exact import needs_key, text_key
from . import register
from ._reference import ApartResult, stream, total
from .base import TEXT, AggregateRule, show

#: Distinct values an entityResolution check reads at most (more: the check is unasserted).
MAX_DISTINCT = 100_000
#: Distinct normalised values compared pairwise at most when ``similarity_threshold`` is set.
MAX_FUZZY = 20_000
#: Rows of the pairwise similarity matrix computed at once (memory bound: rows × distinct).
_FUZZY_CHUNK = 256


class EntityResolutionProperties(BaseModel):
    """Optional ``similarity_threshold`` in (0, 1]: two normalised values whose
    Jaro-Winkler similarity reaches it are the same entity (without it, only equal
    normalised values are)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    similarity_threshold: float | None = Field(None, gt=0, le=1, description="Jaro-Winkler similarity, 0 < s <= 1")


def normalise(value: str) -> str:
    """The entity key of a value: Unicode NFKD, accents dropped, case-folded, and only
    letters and digits kept (``'ACME, Inc.'`` and ``'acme inc'`` → ``'acmeinc'``)."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


@register
class EntityResolution(AggregateRule[EntityResolutionProperties]):
    """Each entity is written one way only: fails when two or more DISTINCT values of the
    field are the same entity.

    Similarity measure: values are normalised (:func:`normalise`: case, accents,
    whitespace and punctuation ignored); two distinct values are the same entity when
    their normalised forms are equal, or — with ``similarity_threshold`` — when the
    Jaro-Winkler similarity of the normalised forms is at least the threshold (groups are
    closed transitively). NULLs and values with no letter or digit are skipped.

    Computed in Python (rapidfuzz) over the field's distinct values and their row counts,
    read in batches (at most ``MAX_DISTINCT`` distinct values, and ``MAX_FUZZY`` distinct
    normalised values with a threshold; beyond, the check is unasserted). One shape
    anomaly whose record count is the number of rows holding a value of such an entity.
    """

    name = "entityResolution"
    description = "Asserts that every distinct entity is written in one way only."
    fields = "single"
    field_types = TEXT
    Properties = EntityResolutionProperties
    apart = True

    def metrics(self, t, where):
        return {}

    def evaluate_apart(self, t, where, *, batch_size, example_limit, on_query):
        base = t if where is None else t.filter(where)
        v = base[self.field_name]
        values = base.select(v=v.cast("string")).filter(ibis._.v.notnull())
        if needs_key(values.v):
            # MySQL/MariaDB: group by the exact bytes, not the (case-insensitive) collation
            counts = values.mutate(k=text_key(values.v)).group_by("k").aggregate(v=ibis._.v.min(), n=ibis._.count())
        else:
            counts = values.group_by("v").aggregate(n=ibis._.count())
        on_query("distinct values")
        distinct = total(counts.count())
        if distinct > MAX_DISTINCT:
            raise ValueError(
                f"entityResolution reads at most {MAX_DISTINCT} distinct values; {self.field_list} has {distinct}"
            )
        groups: dict[str, list[tuple[str, int]]] = {}
        for i, batch in enumerate(stream(counts.order_by("v"), batch_size), start=1):
            on_query(f"distinct values, batch {i}")
            for row in batch.to_pylist():
                key = normalise(row["v"])
                if key:
                    groups.setdefault(key, []).append((row["v"], int(row["n"])))
        entities = self._entities(groups)
        clashes = [members for members in entities if len(members) > 1]
        failed = sum(n for members in clashes for _, n in members)
        examples = [" ~ ".join(show(value) for value, _ in sorted(members)[:3]) for members in clashes[:3]]
        return ApartResult(
            metrics={
                "entities": len(clashes),
                "values": sum(len(m) for m in clashes),
                "failed": failed,
                "examples": examples,
            }
        )

    def _entities(self, groups: dict[str, list[tuple[str, int]]]) -> list[list[tuple[str, int]]]:
        """Lists of (value, rows) that are one entity, in order of their first key."""
        keys = sorted(groups)
        threshold = self.props.similarity_threshold
        if threshold is None or len(keys) < 2:
            return [groups[k] for k in keys]
        if len(keys) > MAX_FUZZY:
            raise ValueError(
                f"entityResolution with similarity_threshold compares at most {MAX_FUZZY} "
                f"normalised values; {self.field_list} has {len(keys)}"
            )
        from rapidfuzz import process
        from rapidfuzz.distance import JaroWinkler

        parent = list(range(len(keys)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for start in range(0, len(keys), _FUZZY_CHUNK):
            rows = keys[start : start + _FUZZY_CHUNK]
            scores = process.cdist(
                rows, keys, scorer=JaroWinkler.normalized_similarity, score_cutoff=threshold, workers=1
            )
            for r, c in zip(*scores.nonzero(), strict=False):
                i, j = start + int(r), int(c)
                if i < j:
                    a, b = find(i), find(j)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        merged: dict[int, list[tuple[str, int]]] = {}
        for i, key in enumerate(keys):
            merged.setdefault(find(i), []).extend(groups[key])
        return [merged[root] for root in sorted(merged)]

    def assess(self, values: dict[str, Any]) -> str | None:
        entities = int(values.get("entities") or 0)
        if not entities:
            return None
        return (
            f"{entities} entities of {self.field_list} are written in more than one way "
            f"({values['values']} distinct values in {values['failed']} records), e.g. "
            + "; ".join(values.get("examples") or [])
        )

    def failed_records(self, values: dict[str, Any]) -> int:
        return int(values.get("failed") or 0)
