"""NaN in profile statistics: a value distinct from NULL in distinct counts, a histogram
bucket of its own, and histogram ratios that sum to 1 — on every engine that stores NaN."""

from __future__ import annotations

import math

import pytest

from assay.engine.profile import ProfileOptions, profile_table
from tests.engines import nan_array

NAN = float("nan")


@pytest.mark.parametrize("sample_size", [20_000, 2], ids=["whole-sample", "engine-histogram"])
def test_nan_is_a_value_apart_from_null(engine, sample_size):
    if not engine.has_nan:
        pytest.skip(f"{engine.name} stores NaN as NULL: there is no NaN to count")
    t = engine.load(
        all_nan=nan_array([NAN] * 6 + [NAN, NAN, NAN, NAN, NAN]),
        mixed=nan_array([NAN, NAN, None, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0, None, NAN]),
    )
    r = profile_table(t, options=ProfileOptions(histogram_max_distinct_values=100, sample_size=sample_size))
    all_nan = r.fields["all_nan"]
    assert all_nan["approximate_distinct_values"] == 1  # DuckDB's COUNT(DISTINCT) says 1 too
    assert all_nan["histogram_buckets"] == [{"value": "NaN", "count": 11, "ratio": 1.0}]
    assert all_nan["completeness"] == 1.0
    mixed = r.fields["mixed"]
    assert mixed["approximate_distinct_values"] == 6  # NaN, 1, 2, 3, 4, 5 (NULL is not a value)
    buckets = mixed["histogram_buckets"]
    assert [(b["value"], b["count"]) for b in buckets][:1] == [("NaN", 3)]
    assert (float(buckets[1]["value"]), buckets[1]["count"]) == (5.0, 2)
    assert sorted(b["count"] for b in buckets) == [1, 1, 1, 1, 2, 3]
    assert mixed["histogram_complete"] is True
    assert math.fsum(b["ratio"] for b in buckets) == pytest.approx(1.0)
    assert mixed["unique_distinct_ratio"] == pytest.approx(6 / 9)
