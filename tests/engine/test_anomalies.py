"""``assay.engine.anomalies``: record vs shape findings, rollup at the threshold,
one record anomaly per row, fingerprints, and the auto-resolve decision."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import os
import subprocess
import sys

from assay.engine.anomalies import (
    findings_for,
    fingerprint,
    jsonable,
    record_fingerprint,
    rekeyed,
    to_resolve,
    unlisted_checks,
)
from assay.engine.plan import CheckOutcome
from assay.engine.rules import CheckSpec, get_rule

CONTAINER = 42


def rows(n: int, start: int = 1) -> list[dict]:
    return [{"id": i, "v": -i} for i in range(start, start + n)]


def failing(
    check_id: int, examples: list[dict], failed: int | None = None, rule: str = "notNegative", fields=("v",)
) -> CheckOutcome:
    spec = CheckSpec(check_id, rule, list(fields))
    r = get_rule(rule)(spec)
    failed = len(examples) if failed is None else failed
    return CheckOutcome(
        check_id,
        rule,
        "row",
        "failed",
        asserted=100,
        failed=failed,
        message=r.shape_message(failed, 100),
        examples=examples,
        rule=r,
    )


# -- rollup ------------------------------------------------------------------------------------


def test_exactly_at_the_threshold_there_is_no_rollup():
    out = failing(7, rows(3))
    found = findings_for(CONTAINER, [out], rollup_threshold=3, source_record_limit=10)
    assert [f.type for f in found] == ["record", "record", "record"]
    assert [f.source_records for f in found] == [[r] for r in rows(3)]
    for f, row in zip(found, rows(3), strict=False):
        assert f.anomalous_records_count == 1
        assert f.message == f"The `v` value of {row['v']} is negative"
        assert [(c.check_id, c.anomalous_records_count) for c in f.failed_checks] == [(7, 1)]
        assert f.fingerprint == fingerprint(CONTAINER, row)


def test_one_past_the_threshold_rolls_the_rest_into_one_shape():
    out = failing(7, rows(4))  # threshold 3, 4 failing rows
    found = findings_for(CONTAINER, [out], rollup_threshold=3, source_record_limit=10)
    assert [f.type for f in found] == ["record", "record", "record", "shape"]
    assert [f.source_records[0]["id"] for f in found[:3]] == [1, 2, 3]
    shape = found[3]
    assert shape.anomalous_records_count == 4  # the FULL failing count, not the rest
    assert [(c.check_id, c.anomalous_records_count) for c in shape.failed_checks] == [(7, 4)]
    assert shape.source_records == [{"id": 4, "v": -4}]  # the rows past the threshold
    assert shape.message == out.message
    assert shape.fingerprint == fingerprint(CONTAINER, 7, "rollup")


def test_rollup_source_records_are_bounded_by_the_limit():
    # 25 rows fail; the scan fetched threshold + limit = 3 + 10 = 13 examples
    out = failing(7, rows(13), failed=25)
    found = findings_for(CONTAINER, [out], rollup_threshold=3, source_record_limit=10)
    assert [f.type for f in found] == ["record"] * 3 + ["shape"]
    assert found[3].anomalous_records_count == 25
    assert [r["id"] for r in found[3].source_records] == list(range(4, 14))


def test_threshold_zero_gives_only_the_shape():
    found = findings_for(CONTAINER, [failing(7, rows(2))], rollup_threshold=0, source_record_limit=1)
    assert [(f.type, f.anomalous_records_count) for f in found] == [("shape", 2)]
    assert found[0].source_records == [{"id": 1, "v": -1}]


# -- one anomaly per row -----------------------------------------------------------------------


def test_a_row_failing_two_checks_is_one_record_anomaly():
    row = {"id": 1, "v": -1, "w": None}
    negative = failing(7, [dict(row)])
    missing = failing(8, [dict(row)], rule="notNull", fields=("w",))
    other = failing(9, [{"id": 2, "v": -2, "w": None}])
    found = findings_for(CONTAINER, [negative, missing, other], rollup_threshold=10, source_record_limit=10)
    assert [f.type for f in found] == ["record", "record"]
    both, single = found
    assert both.anomalous_records_count == 1
    assert [c.check_id for c in both.failed_checks] == [7, 8]
    assert [c.message for c in both.failed_checks] == [
        "The `v` value of -1 is negative",
        "The `w` value is missing (NULL)",
    ]
    assert both.source_records == [row]
    assert [c.check_id for c in single.failed_checks] == [9]


# -- shape findings ----------------------------------------------------------------------------


def test_coverage_below_one_gives_one_shape_instead_of_records():
    out = failing(7, rows(3), failed=30)
    found = findings_for(CONTAINER, [out], rollup_threshold=10, source_record_limit=2, coverage_of={7: 0.9})
    assert [(f.type, f.anomalous_records_count) for f in found] == [("shape", 30)]
    assert found[0].source_records == rows(2)
    assert found[0].fingerprint == fingerprint(CONTAINER, 7, "shape")
    # coverage 1 (or none) is the ordinary record path
    few = failing(7, rows(3))
    found = findings_for(CONTAINER, [few], rollup_threshold=10, source_record_limit=2, coverage_of={7: 1.0})
    assert [f.type for f in found] == ["record"] * 3
    found = findings_for(CONTAINER, [few], rollup_threshold=10, source_record_limit=2, coverage_of={7: None})
    assert [f.type for f in found] == ["record"] * 3


def test_failing_aggregate_check_is_a_shape_and_passed_or_unasserted_give_nothing():
    agg = CheckOutcome(
        5,
        "minPartitionSize",
        "aggregate",
        "failed",
        asserted=3,
        failed=3,
        message="The partition holds 3 records, fewer than the minimum of 5",
    )
    passed = CheckOutcome(6, "notNull", "row", "passed", asserted=3)
    unasserted = CheckOutcome(7, "notNull", "row", "unasserted", error="field(s) not found in the container: x")
    found = findings_for(CONTAINER, [agg, passed, unasserted], rollup_threshold=10, source_record_limit=10)
    assert len(found) == 1
    assert (found[0].type, found[0].message, found[0].anomalous_records_count) == (
        "shape",
        "The partition holds 3 records, fewer than the minimum of 5",
        3,
    )
    assert found[0].source_records == []


# -- fingerprints ------------------------------------------------------------------------------


def _blake2b_64(parts) -> int:
    """The documented recipe: BLAKE2b (8 bytes, signed big-endian) of canonical JSON."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def test_fingerprints_are_stable_across_calls():
    outcomes = [failing(7, rows(5)), failing(8, rows(2))]
    first = findings_for(CONTAINER, outcomes, rollup_threshold=3, source_record_limit=10)
    second = findings_for(CONTAINER, outcomes, rollup_threshold=3, source_record_limit=10)
    assert [f.fingerprint for f in first] == [f.fingerprint for f in second]
    assert len({f.fingerprint for f in first}) == len(first)  # 5 rows + 1 rollup, all distinct
    assert fingerprint(CONTAINER, {"id": 1, "v": -1}) == _blake2b_64([CONTAINER, {"id": 1, "v": -1}])
    assert fingerprint(CONTAINER, 7, "rollup") == _blake2b_64([CONTAINER, 7, "rollup"])
    assert -(2**63) <= fingerprint(CONTAINER, 7, "rollup") < 2**63


def test_fingerprints_are_stable_across_processes():
    # not Python's salted hash(): a fresh interpreter with another hash seed agrees
    code = "from assay.engine.anomalies import fingerprint; print(fingerprint(42, {'id': 1, 'v': 'x'}, 'a'))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout) == fingerprint(42, {"id": 1, "v": "x"}, "a")


def test_what_a_fingerprint_depends_on():
    row = {"id": 1, "v": -1}
    assert fingerprint(CONTAINER, {"v": -1, "id": 1}) == fingerprint(CONTAINER, row)  # key order
    assert fingerprint(CONTAINER + 1, row) != fingerprint(CONTAINER, row)  # container
    assert fingerprint(CONTAINER, {"id": 1, "v": -2}) != fingerprint(CONTAINER, row)  # values
    assert fingerprint(CONTAINER, 7, "rollup") != fingerprint(CONTAINER, 7, "shape")
    assert fingerprint(CONTAINER, 7, "shape") != fingerprint(CONTAINER, 8, "shape")
    # a record's fingerprint does not depend on which check found it
    a = findings_for(CONTAINER, [failing(7, [row])], rollup_threshold=5, source_record_limit=5)
    b = findings_for(CONTAINER, [failing(8, [row])], rollup_threshold=5, source_record_limit=5)
    assert a[0].fingerprint == b[0].fingerprint


def test_rows_with_dates_decimals_and_nan_are_fingerprinted_and_json_safe():
    row = {
        "d": dt.date(2024, 1, 2),
        "ts": dt.datetime(2024, 1, 2, 3, 4, 5),
        "n": decimal.Decimal("1.10"),
        "x": float("nan"),
        "inf": float("-inf"),
        "b": b"\x01\xff",
    }
    assert jsonable(row) == {
        "d": "2024-01-02",
        "ts": "2024-01-02T03:04:05",
        "n": "1.10",
        "x": "NaN",
        "inf": "-Infinity",
        "b": "01ff",
    }
    (f,) = findings_for(CONTAINER, [failing(7, [row])], rollup_threshold=5, source_record_limit=5)
    assert f.source_records == [jsonable(row)]
    json.dumps(f.source_records, allow_nan=False)  # strict JSON
    assert f.fingerprint == fingerprint(CONTAINER, jsonable(row)) == fingerprint(CONTAINER, dict(row))


# -- auto-resolve ------------------------------------------------------------------------------


def test_to_resolve():
    open_anomalies = [
        (1, 101, {7}),  # its check was asserted, the finding is gone: resolved
        (2, 102, {7, 8}),  # both checks asserted: resolved
        (3, 103, {7, 9}),  # check 9 was not asserted (unasserted or not run): kept
        (4, 104, {7}),  # the same finding came back: kept
        (5, 105, set()),  # no checks known: never auto-resolved
    ]
    assert to_resolve(open_anomalies, asserted_checks={7, 8}, new_fingerprints={104}) == [1, 2]
    assert to_resolve(open_anomalies, asserted_checks=set(), new_fingerprints=set()) == []
    assert to_resolve([], asserted_checks={7}, new_fingerprints=set()) == []
    # record anomalies (ids 1, 2, 3) of a check whose failing records were not all listed stay;
    # a shape anomaly of that check (4's fingerprint gone) and record anomalies of others resolve
    assert to_resolve(
        [(1, 101, {7}), (2, 102, {7, 8}), (3, 103, {8}), (4, 104, {7})],
        asserted_checks={7, 8},
        new_fingerprints=set(),
        records={1, 2, 3},
        unlisted={7},
    ) == [3, 4]


def test_unlisted_checks_are_the_failed_row_checks_whose_records_were_not_all_listed():
    ten = [{"id": i, "v": -i} for i in range(10)]
    unread = failing(4, [], failed=3)
    unread.examples_error = "the rows could not be read"
    passed = failing(6, [])
    passed.result = "passed"
    outcomes = [
        failing(1, ten, failed=10),  # 10 failed, 10 listed (threshold 10)
        failing(2, ten + [{"id": 11, "v": -11}], failed=11),  # one past the threshold: rolled up
        failing(3, ten[:5], failed=8),  # fewer example rows read than records failed
        unread,
        failing(5, ten[:2], failed=2),  # listed, but the check covers part of its records
        passed,
    ]

    def unlisted(threshold, coverage_of=None):
        found = findings_for(
            CONTAINER, outcomes, rollup_threshold=threshold, source_record_limit=10, coverage_of=coverage_of
        )
        return unlisted_checks(outcomes, found)

    assert unlisted(10, coverage_of={5: 0.5, 1: 1.0}) == {2, 3, 4, 5}
    assert unlisted(11) == {3, 4}


def test_a_failing_check_whose_rows_cannot_be_read_is_still_one_anomaly_with_its_count():
    # the fused query never computes `bad`; reading the example rows (all columns) fails
    import ibis

    from assay.engine.plan import evaluate
    from tests.helpers import check, numbered

    con = ibis.duckdb.connect()
    t = con.create_table("t", ibis.memtable({"v": [-1, 2, -3], "s": ["x", "y", "z"]}))
    t = t.mutate(bad=t.s.cast("int64"))
    [out] = evaluate(t, numbered(check("notNegative", ["v"])), example_limit=10).outcomes
    error = (
        "ConversionException: Conversion Error: Could not convert string 'x' to INT64 when casting from source column s"
    )
    assert (out.result, out.failed, out.examples, out.examples_error) == ("failed", 2, [], error)
    [finding] = findings_for(CONTAINER, [out], rollup_threshold=10, source_record_limit=10)
    message = (
        f"In `v`, 66.667% of 3 filtered records (2) are negative; its anomalous records could not be read: {error}"
    )
    assert (finding.type, finding.anomalous_records_count, finding.message, finding.source_records) == (
        "shape",
        2,
        message,
        [],
    )
    assert [(fc.check_id, fc.message, fc.anomalous_records_count) for fc in finding.failed_checks] == [(1, message, 2)]
    assert finding.fingerprint == fingerprint(CONTAINER, 1, "unread")
    con.disconnect()


# -- record identity (issue 16) ----------------------------------------------------------------


def test_computed_fields_are_left_out_of_a_record_fingerprint():
    row = {"id": 1, "v": -1, "tenfold": 10}
    [found] = findings_for(
        CONTAINER, [failing(7, [dict(row)])], rollup_threshold=10, source_record_limit=10, computed_fields={"tenfold"}
    )
    assert found.fingerprint == fingerprint(CONTAINER, {"id": 1, "v": -1})  # the row as before the computed field
    assert found.fingerprint == record_fingerprint(CONTAINER, row, {"tenfold"})
    assert found.source_records == [row]  # the anomaly still shows every column
    # two rows differing only in a computed field are one record
    [both] = findings_for(
        CONTAINER,
        [failing(7, [{"id": 1, "v": -1, "r": 0.1}, {"id": 1, "v": -1, "r": 0.2}])],
        rollup_threshold=10,
        source_record_limit=10,
        computed_fields={"r"},
    )
    assert both.anomalous_records_count == 2


def test_rekeyed_matches_open_records_on_the_columns_both_rows_have():
    found = findings_for(
        CONTAINER,
        [failing(7, [{"id": 1, "v": -1, "note": None}, {"id": 2, "v": -2, "note": "x"}])],
        rollup_threshold=10,
        source_record_limit=10,
    )
    fp1, fp2 = (f.fingerprint for f in found)
    open_records = [
        (100, 555, {"id": 1, "v": -1}),  # before the table gained `note`: record 1
        (101, 555, {"id": 1, "v": -1}),  # a second open anomaly of the same old fingerprint moves too
        (102, 666, {"id": 3, "v": -3}),  # record 3 no longer fails: stays (and resolves)
        (103, fp2, {"id": 2, "v": -2, "note": "x"}),  # already matched by its fingerprint
        (104, 777, {"id": 2, "v": -2, "tenfold": 20}),  # older Assay, computed field hashed: fp2 is taken
    ]
    assert rekeyed(open_records, found, {"tenfold"}) == {100: fp1, 101: fp1}
    # an older Assay hashed the computed field too: matched once fp1 is free
    assert rekeyed([(105, 888, {"id": 1, "v": -1, "note": None, "tenfold": 10})], found, {"tenfold"}) == {105: fp1}
    # no column in common, or a value that differs: not the same record
    assert rekeyed([(106, 1, {"other": 1}), (107, 2, {"id": 1, "v": -9})], found) == {}


def test_rekeyed_matches_archived_records_only_to_findings_no_open_anomaly_takes():
    found = findings_for(
        CONTAINER,
        [failing(7, [{"id": 1, "v": -1, "note": None}, {"id": 2, "v": -2, "note": None}, {"id": 3, "v": -3}])],
        rollup_threshold=10,
        source_record_limit=10,
    )
    fp1, fp2, fp3 = (f.fingerprint for f in found)
    open_records = [(200, 555, {"id": 1, "v": -1})]  # open, record 1 before `note`
    archived = [
        (201, 556, {"id": 1, "v": -1}),  # archived, record 1 too: the open one took it
        (202, 557, {"id": 2, "v": -2}),  # archived, record 2: moves
        (203, 557, {"id": 2, "v": -2}),  # same old fingerprint: moves with it
        (204, fp3, {"id": 3, "v": -3}),  # already has its finding's fingerprint: stays
        (205, 558, {"id": 3, "v": -3}),  # record 3 is held by 204: not moved
    ]
    assert rekeyed(open_records, found, (), archived_records=archived) == {200: fp1, 202: fp2, 203: fp2}
    # an open anomaly holding a finding's fingerprint keeps it from the archived ones
    held = [(300, fp2, {"id": 2, "v": -2, "note": None})]
    assert rekeyed(held, found, (), archived_records=archived) == {201: fp1}


def _rekeyed_pairwise(open_records, found, archived_records=()):
    """``rekeyed`` as its docstring defines it, comparing each stored record with each finding."""
    records = [f for f in found if f.source_records]
    fps = {f.fingerprint for f in records}
    taken = {fp for _aid, fp, _row in open_records} & fps
    candidates = [(f.fingerprint, f.source_records[0]) for f in records if f.fingerprint not in taken]
    moved, out = {}, {}
    for group in (open_records, archived_records):
        if group is archived_records:
            taken |= {fp for _aid, fp, _row in archived_records} & fps
            candidates = [(fp, row) for fp, row in candidates if fp not in taken]
        for anomaly_id, fp, old in group:
            if fp in taken:
                continue
            if fp not in moved:
                for i, (new_fp, new) in enumerate(candidates):
                    common = old.keys() & new.keys()
                    if common and all(old[k] == new[k] for k in common):
                        moved[fp] = new_fp
                        del candidates[i]
                        break
            if fp in moved:
                out[anomaly_id] = moved[fp]
    return out


def test_rekeyed_matches_as_the_pairwise_comparison_does_on_mixed_columns_and_values():
    """Random stored records and findings over overlapping column sets (a table that gained
    or lost columns), repeated values, ints equal to floats, unhashable values and shared
    old fingerprints: the indexed match takes the same findings as comparing every pair."""
    import random

    rnd = random.Random(20261207)
    values = [0, 1, 1.0, 2, "a", "b", None, True, [1, 2], {"k": 1}]
    column_sets = [("id", "v"), ("id", "v", "note"), ("id",), ("v", "note"), ("other",)]
    moves = 0
    for _ in range(300):
        found = findings_for(
            CONTAINER,
            [
                failing(
                    7,
                    [
                        {**{c: rnd.choice(values) for c in rnd.choice(column_sets)}, "n": i}
                        for i in range(rnd.randint(1, 12))
                    ],
                )
            ],
            rollup_threshold=100,
            source_record_limit=10,
        )
        # the findings' rows without their unique column "n", so that stored rows can match several
        for f in found:
            f.source_records = [{k: v for k, v in f.source_records[0].items() if k != "n"}]
        fps = [f.fingerprint for f in found]

        def stored(aid, fps=fps):
            fp = rnd.choice([*fps, 1, 2, 3]) if rnd.random() < 0.3 else rnd.choice([1, 2, 3, 4, 5])
            return (aid, fp, {c: rnd.choice(values) for c in rnd.choice(column_sets)})

        open_records = [stored(aid) for aid in range(rnd.randint(0, 15))]
        archived = [stored(aid) for aid in range(100, 100 + rnd.randint(0, 8))]
        expected = _rekeyed_pairwise(open_records, found, archived)
        assert rekeyed(open_records, found, (), archived_records=archived) == expected
        moves += len(expected)
    assert moves == 780  # the cases above move anomalies, not only leave them
