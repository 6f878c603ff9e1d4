"""GET /api/quality-checks/specifications/rules: the rule catalogue, generated from the
registered rule classes (assay.engine.rules.catalogue)."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Optional, Union

from assay.engine.rules import ALIASES, all_rules
from assay.engine.rules.catalogue import PROPERTY_TYPES, property_type, specifications

URL = "/api/quality-checks/specifications/rules"


def test_catalogue_requires_a_token(api):
    anonymous = api.client.get(URL, headers={"Authorization": ""})
    assert anonymous.status_code == 401
    bad = api.client.get(URL, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_catalogue_lists_every_registered_rule_and_alias(api, make_duckdb):
    body = api.ok("GET", URL)
    rules = all_rules()
    names = [e["rule"] for e in body]
    # every registered class once, sorted, then the deprecated aliases
    assert names[: len(rules)] == sorted(rules)
    assert sorted(names[len(rules) :]) == sorted(
        a for a, target in ALIASES.items() if target in rules and a not in rules
    )
    keys = {
        "rule",
        "rule_description",
        "deprecated",
        "replaced_by",
        "author",
        "fields",
        "fields_type_filter",
        "filterable",
        "supports_coverage",
        "kind",
        "on_incremental",
        "properties",
        "count",
    }
    for entry in body:
        assert set(entry) == keys, entry["rule"]
        cls = rules[ALIASES.get(entry["rule"], entry["rule"])]
        assert entry["rule_description"] == cls.description and entry["rule_description"]
        assert entry["fields"] == cls.fields in ("single", "multi", "none")
        assert entry["filterable"] is cls.filterable and entry["supports_coverage"] is cls.supports_coverage
        assert [p["field"] for p in entry["properties"]] == [
            f.alias or n for n, f in cls.Properties.model_fields.items()
        ]
        for p in entry["properties"]:
            assert p["type"] in PROPERTY_TYPES, (entry["rule"], p)
            assert (p["values"] is not None) == (p["type"] == "enum"), (entry["rule"], p)
        assert entry["deprecated"] is (entry["rule"] != cls.name or bool(getattr(cls, "deprecated", False)))
    assert body == specifications()  # nothing counted yet: no checks exist

    between = next(e for e in body if e["rule"] == "between")
    assert between["fields_type_filter"] == ["Integral", "Fractional"]
    assert between["properties"] == [
        {
            "field": "min",
            "map_to": "min",
            "required": True,
            "title": "Min",
            "type": "number",
            "values": None,
            "description": None,
            "minimum": None,
            "maximum": None,
        },
        {
            "field": "max",
            "map_to": "max",
            "required": True,
            "title": "Max",
            "type": "number",
            "values": None,
            "description": None,
            "minimum": None,
            "maximum": None,
        },
        {
            "field": "inclusive_min",
            "map_to": "inclusive_min",
            "required": False,
            "title": "Inclusive min",
            "type": "boolean",
            "values": None,
            "description": None,
            "minimum": None,
            "maximum": None,
        },
        {
            "field": "inclusive_max",
            "map_to": "inclusive_max",
            "required": False,
            "title": "Inclusive max",
            "type": "boolean",
            "values": None,
            "description": None,
            "minimum": None,
            "maximum": None,
        },
    ]
    # the simple bounds of a property, for a client to check before it posts
    max_length = next(e for e in body if e["rule"] == "maxLength")
    assert [(p["field"], p["minimum"], p["maximum"]) for p in max_length["properties"]] == [("value", 0, 2**31 - 1)]
    gtf = next(e for e in body if e["rule"] == "greaterThanField")
    assert [(p["field"], p["type"], p["required"]) for p in gtf["properties"]] == [
        ("field_name", "field", True),
        ("inclusive", "boolean", False),
    ]
    # every rule says what it sees on an incremental scan; those needing more than the new rows say so
    incremental = {e["rule"]: e["on_incremental"] for e in body}
    assert incremental["notNull"] == "checks the rows the scan reads (on an incremental scan, the new rows only)"
    assert incremental["sum"] == "computed over the rows the scan reads (on an incremental scan, the new rows only)"
    assert "not between new and earlier rows" in incremental["unique"]
    assert "every value of the reference field" in incremental["existsIn"]
    assert "use it in full scans" in incremental["dataDiff"] and "use it in full scans" in incremental["isReplicaOf"]
    mps = next(e for e in body if e["rule"] == "minPartitionSize")
    assert (mps["fields"], mps["fields_type_filter"], mps["supports_coverage"]) == ("none", [], False)

    # count: checks of each rule type
    path = make_duckdb("create table t (id integer, amount double)", "insert into t values (1, 2.0)")
    ds = api.duckdb_datastore("cat", path)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "t")
    api.check(cid, "notNull", ["id"])
    api.check(cid, "notNull", ["amount"])
    api.check(cid, "between", ["amount"], properties={"min": 0, "max": 1})
    counts = {e["rule"]: e["count"] for e in api.ok("GET", URL)}
    assert {k: v for k, v in counts.items() if v} == {"notNull": 2, "between": 1}


def test_property_types_from_annotations():
    assert property_type("ref_datastore_id", int) == ("datastore", None)
    assert property_type("ref_container_id", Optional[int]) == ("container", None)
    assert property_type("field_name", str) == ("field", None)
    assert property_type("comparison", Literal["eq", "lt", "gt"]) == ("enum", ["eq", "lt", "gt"])
    assert property_type("comparison", Optional[Literal["eq", "lt"]]) == ("enum", ["eq", "lt"])
    assert property_type("inclusive", bool) == ("boolean", None)
    assert property_type("value", float) == ("number", None)
    assert property_type("value", Union[int, float]) == ("number", None)
    assert property_type("value", Union[float, str]) == ("string", None)
    assert property_type("datetime", dt.datetime) == ("datetime", None)
    assert property_type("list", list[str]) == ("list", None)
    assert property_type("expression", str) == ("string", None)
