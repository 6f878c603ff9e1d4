"""Folders of files: delimiters, headers, gzip, JSON lines, Parquet, and file patterns."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pyarrow.parquet as pq


def _local(api, name, folder, **options):
    return api.ok(
        "POST",
        "/api/datastores",
        json={"name": name, "connection": {"type": "local", "uri": f"file://{folder}", **options}},
    )


def test_formats_are_read_with_their_own_settings(api, tmp_path):
    lake = tmp_path / "lake"
    (lake / "sub").mkdir(parents=True)
    (lake / "people.tsv").write_text("name\tage\nann\t30\nbob\t-1\n")
    (lake / "codes.psv").write_text("code|label\nA|alpha\nB|\n")
    with gzip.open(lake / "events.csv.gz", "wt") as f:
        f.write("id,kind\n1,click\n2,\n3,view\n")
    (lake / "sub" / "logs.jsonl").write_text('{"level": "info"}\n{"level": null}\n')
    pq.write_table(pa.table({"x": [1.5, None]}), lake / "measures.parquet")
    ds = _local(api, "lake", lake)
    api.sync(ds["id"])
    containers = {c["name"]: c for c in api.ok("GET", "/api/containers", params={"datastore": ds["id"]})["items"]}
    assert sorted(containers) == ["codes", "events", "measures", "people", "sub/logs"]
    assert containers["events"]["file_pattern"] == "events.csv.gz"
    checks = {
        "people": ("notNegative", ["age"]),
        "codes": ("notNull", ["label"]),
        "events": ("notNull", ["kind"]),
        "sub/logs": ("notNull", ["level"]),
        "measures": ("notNull", ["x"]),
    }
    for name, (rule, fields) in checks.items():
        api.check(containers[name]["id"], rule, fields)
    op = api.scan(ds["id"])
    assert op["result"] == "success", op
    failed = {
        cs["container"]["name"]: cs["quality_checks"][0]["anomalous_records_count"] for cs in op["container_scans"]
    }
    assert failed == {"people": 1, "codes": 1, "events": 1, "sub/logs": 1, "measures": 1}


def test_headerless_csv_with_a_declared_delimiter(api, tmp_path):
    lake = tmp_path / "raw"
    lake.mkdir()
    (lake / "rows.csv").write_text("1;x\n2;y\n-3;z\n")
    ds = _local(api, "raw", lake, delimiter=";", header=False)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "rows")
    fields = [f["name"] for f in api.ok("GET", f"/api/containers/{cid}/fields")]
    assert fields == ["column0", "column1"]
    api.check(cid, "notNegative", ["column0"])
    assert api.scan(ds["id"])["status"]["anomalies_identified"] == 1


def test_a_file_pattern_that_grows_a_file(api, tmp_path):
    lake = tmp_path / "orders"
    lake.mkdir()
    (lake / "orders_2024_01.csv").write_text("id,amount\n1,10\n2,-5\n")
    (lake / "orders_2024_02.csv").write_text("id,amount\n3,7\n")
    (lake / "orders_summary.csv").write_text("total\n12\n")  # not part of the pattern
    ds = _local(api, "orders", lake)
    api.sync(ds["id"])
    listing = sorted(c["name"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]}))
    assert listing == ["orders", "orders_summary"]
    cid = api.container_id(ds["id"], "orders")
    assert api.ok("GET", f"/api/containers/{cid}")["file_pattern"] == "orders*.csv"
    api.check(cid, "notNegative", ["amount"])
    first = api.scan(ds["id"], container_names=["orders"])
    assert first["status"]["records_processed"] == 3 and first["status"]["anomalies_identified"] == 1
    (lake / "orders_2024_03.csv").write_text("id,amount\n4,-1\n5,2\n")
    second = api.scan(ds["id"], container_names=["orders"])
    assert second["status"]["records_processed"] == 5 and second["status"]["anomalies_identified"] == 2
