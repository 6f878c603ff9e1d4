from __future__ import annotations

from typing import Any, ClassVar

import ibis
import pyarrow as pa
from pydantic import Field

from ..exact import exact_group, exact_in, exact_isin
from . import register
from ._reference import (
    ApartResult,
    CrossContainerMixin,
    ReferenceProperties,
    Scratch,
    aligned,
    memtable,
    stream,
    takes_memtables,
    total,
)
from .base import RowRule


class ExistsInProperties(ReferenceProperties):
    """``ref_container_id``, optional ``ref_datastore_id`` and ``field_name``: the field of
    the reference container whose values are looked up."""

    ref_field: str = Field(alias="field_name", min_length=1, description="the field of the reference container")


class _Membership(CrossContainerMixin[ExistsInProperties], RowRule[ExistsInProperties]):
    """A non-NULL value is looked up among the non-NULL values of the reference field.

    Values compare as they are when both fields are numeric, both text or both temporal
    (timestamps as UTC instants); otherwise both sides are compared as text. Text compares
    byte for byte (case, accents and trailing spaces count) on every engine and between
    engines, MySQL/MariaDB case-insensitive collations included: there membership, and
    the distinct keys of the two-backend path, are keyed by ``HEX(text)``
    (``engine.exact``). NULLs in the
    checked field are skipped; NULLs in the reference field are ignored. The check's
    ``filter`` applies to the checked container only.

    Same backend: ``value [NOT] IN (SELECT field FROM reference WHERE field IS NOT NULL)``
    inside the container's fused query. Two backends: the side with fewer distinct keys
    is streamed in batches of ``batch_size`` keys into the other engine (memtable
    semi-join); failing rows are counted exactly from per-key row counts, and the example
    rows are the rows of the first failing keys in key order. A side on an engine that
    takes no memtables (a read-only PostgreSQL session) is joined through a copy of its
    distinct keys in an in-process DuckDB database (``_reference.Scratch``), and its
    example rows are read with the failing keys as literals.
    """

    on_incremental = (
        "checks the values of the rows the scan reads (on an incremental scan, the new rows) "
        "against every value of the reference field"
    )
    fields = "single"
    Properties = ExistsInProperties
    absent_fails: ClassVar[bool] = True  # existsIn: a value absent from the reference fails

    def _keys(self, v):
        r = self.ref_column(self.props.ref_field)
        v2, r2 = aligned(v, r)
        return v2, self.ref.select(k=r2).filter(ibis._.k.notnull())

    def failing(self, t, key):
        v = t[self.field_name]
        v2, ref_keys = self._keys(v)
        inside = exact_in(v2, ref_keys, "k")
        return v.notnull() & (~inside if self.absent_fails else inside)

    # -- two engines -------------------------------------------------------------------
    def evaluate_apart(self, t, where, *, batch_size, example_limit, on_query):
        base = t if where is None else t.filter(where)
        v = base[self.field_name]
        v2, ref_keys = self._keys(v)
        ref_keys = exact_group(ref_keys, "k")
        target_keys = exact_group(base.select(k=v2).filter(ibis._.k.notnull()), "k", n=ibis._.count())
        on_query("rows and distinct keys of the checked container")
        row = base.aggregate(rows=base.count(), values=v.count()).to_pyarrow().to_pylist()[0]
        asserted, values = int(row["rows"] or 0), int(row["values"] or 0)
        n_target = total(target_keys.count())
        on_query(f"distinct keys of {self.ref_label}")
        n_ref = total(ref_keys.count())
        self.batches = 0
        with Scratch(batch_size, on_query) as scratch:
            return self._compare(
                scratch,
                base,
                v,
                v2,
                ref_keys,
                target_keys,
                (asserted, values, n_target, n_ref),
                batch_size,
                example_limit,
                on_query,
            )

    def _compare(self, scratch, base, v, v2, ref_keys, target_keys, counts, batch_size, example_limit, on_query):
        """The two-engine comparison of :meth:`evaluate_apart`; a side whose engine takes no
        memtables is joined through its copy in ``scratch``."""
        asserted, values, n_target, n_ref = counts
        sides: dict[str, Any] = {}

        def side(name: str, expr, what: str):
            if name not in sides:
                sides[name] = scratch.side(expr, what)
            return sides[name]

        def target_pass(stop_at: int | None):
            """Target keys (with row counts) in batches, probed on the reference engine."""
            failed = 0
            keys: list[Any] = []
            ref_side = side("ref", ref_keys, f"distinct keys of {self.ref_label}")
            for batch in stream(target_keys.order_by("k"), batch_size):
                key_type[0] = batch.schema.field("k").type
                self.batches += 1
                on_query(f"batch {self.batches}: {batch.num_rows} keys probed in {self.ref_label}")
                m = memtable(batch, ref_side)
                pred = m.k == ref_side.k
                probe = m.anti_join(ref_side, pred) if self.absent_fails else m.semi_join(ref_side, pred)
                got = probe.order_by("k").to_pyarrow()
                failed += sum(n or 0 for n in got.column("n").to_pylist())
                if len(keys) < example_limit:
                    keys.extend(got.column("k").slice(0, example_limit - len(keys)).to_pylist())
                if stop_at is not None and len(keys) >= stop_at:
                    break
            return failed, keys

        keys: list = []
        key_type: list = [None]
        if n_target <= n_ref:
            failed, keys = target_pass(None)
        else:
            found, ref_batches = 0, 0
            last: pa.Table | None = None
            target_side = side("target", target_keys, "distinct keys of the container")
            for batch in stream(ref_keys.order_by("k"), batch_size):
                self.batches += 1
                ref_batches += 1
                on_query(f"batch {self.batches}: {batch.num_rows} keys of {self.ref_label} probed in the container")
                m = memtable(batch, target_side)
                got = target_side.semi_join(m, target_side.k == m.k).order_by("k").to_pyarrow()
                key_type[0] = got.schema.field("k").type
                found += sum(n or 0 for n in got.column("n").to_pylist())
                if not self.absent_fails and len(keys) < example_limit:
                    keys.extend(got.column("k").slice(0, example_limit - len(keys)).to_pylist())
                last = batch
            failed = values - found if self.absent_fails else found
            if failed and example_limit and self.absent_fails:
                if ref_batches == 0:  # an empty reference: every value fails
                    return ApartResult(asserted, failed, examples=base.filter(v.notnull()))
                if ref_batches == 1 and last is not None:  # the whole reference fits one batch
                    if takes_memtables(base):
                        inside = exact_in(v2, memtable(last, base), "k")
                    else:  # its keys (at most batch_size) as literals: nothing written there
                        inside = exact_isin(v2, last.column("k").to_pylist())
                    return ApartResult(asserted, failed, examples=base.filter(v.notnull() & ~inside))
                _, keys = target_pass(example_limit)
        examples = None
        if failed and keys:
            if takes_memtables(base):
                m = memtable(pa.table({"k": pa.array(keys, type=key_type[0])}), base)
                examples = base.filter(exact_in(v2, m, "k"))
            else:  # the failing keys (at most example_limit) as literals: nothing written there
                examples = base.filter(exact_isin(v2, keys))
        return ApartResult(asserted, failed, examples=examples)

    @property
    def violation(self) -> str:  # type: ignore[override]
        where = f"{self.ref_label}.`{self.props.ref_field}`"
        return f"does not exist in {where}" if self.absent_fails else f"exists in {where}"

    @property
    def shape_violation(self) -> str:  # type: ignore[override]
        where = f"{self.ref_label}.`{self.props.ref_field}`"
        return f"do not exist in {where}" if self.absent_fails else f"exist in {where}"


@register
class ExistsIn(_Membership):
    __doc__ = "Each non-NULL value exists in the reference field.\n\n" + (_Membership.__doc__ or "")

    name = "existsIn"
    description = "Asserts that values assigned to a field exist as values in another field."
    absent_fails = True


@register
class NotExistsIn(_Membership):
    __doc__ = "No non-NULL value exists in the reference field.\n\n" + (_Membership.__doc__ or "")

    name = "notExistsIn"
    description = "Asserts that values assigned to a field do not exist as values in another field."
    absent_fails = False
