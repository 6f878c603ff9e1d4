"""Write the table of Qualytics' generated Python client models that
``tests/api/test_qualytics_client_shapes.py`` deserialises Assay's answers through.

The client (GitHub ``Qualytics/qualytics-examples``,
``python-client-examples/use-cases/swagger_client``) mixes two generations: swagger-codegen
models (API 5ca80d8, 2023: ``swagger_types`` and setters that raise ``ValueError`` on None or a
value outside ``allowed_values``) and OpenAPI Generator / pydantic models (API 20251024: strict
types, ``Optional[...]`` for nullable keys, enum ``field_validator``\\ s, anyOf / oneOf wrappers).
Its code is not copied into Assay; this script reads a checkout of it and writes only the facts
a deserialiser needs, per model::

    {"gen": "swagger" | "pydantic",
     "attrs": {json_key: [type, not_null, enum_values | null]},  # a model
     "any_of": [model, ...],                                     # a oneOf / anyOf wrapper
     "enum": [value, ...]}                                        # an enum model

and, per endpoint of the client, ``[method, path, response type]``. Only the models reachable
from ``ROOTS`` (the endpoints' response types and the shapes the test picks by discriminator)
are kept.

Usage: ``python scripts/qualytics_client_models.py <path to swagger_client> [output.json]``
(default output ``tests/api/qualytics_client_models.json``).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

#: shapes the test picks by discriminator where the client's endpoint answers an untyped union
ROOTS = {
    "GetScanOperation",
    "GetProfileOperation",
    "GetCatalogOperation",
    "GetMaterializeOperation",
    "GetExportOperation",
    "GetTableContainer",
    "GetFileContainer",
    "GetComputedTableContainer",
    "GetComputedFileContainer",
    "GetComputedJoinContainer",
    "TableContainerListing",
    "FileContainerListing",
    "ComputedTableContainerListing",
    "ComputedFileContainerListing",
    "ComputedJoinContainerListing",
    "GetJdbcDatastore",
    "GetDfsDatastore",
    "GetGlobalTagListing",
    "GetComputedField",
    "GetUserToken",
    "ContainerScanStub",
    "QualityCheckListing",
    "GetAnomalyListing",
}


def _endpoints(root: Path) -> list[list]:
    found: dict[tuple[str, str], str | None] = {}
    for f in sorted((root / "api").glob("*_api.py")):
        src = f.read_text()
        tree = ast.parse(src)
        for node in ast.walk(tree):  # swagger-codegen: api_client.call_api(path, method, ..., response_type=...)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "call_api" and len(node.args) >= 2:
                rt = next((k.value for k in node.keywords if k.arg == "response_type"), None)
                found[(node.args[1].value, node.args[0].value)] = rt.value if isinstance(rt, ast.Constant) else None
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):  # OpenAPI Generator
            funcs = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
            for name, fn in funcs.items():
                m = re.match(r"_(\w+)_serialize$", name)
                if not m or m.group(1) not in funcs:
                    continue
                seg = ast.get_source_segment(src, fn) or ""
                method, path = re.search(r"method='(\w+)'", seg), re.search(r"resource_path='([^']+)'", seg)
                body = ast.get_source_segment(src, funcs[m.group(1)]) or ""
                rt = re.search(r"'20[01]': \"([^\"]+)\"", body)
                if method and path:
                    found[(method.group(1), path.group(1))] = rt.group(1) if rt else None
    return [[m, p, rt] for (m, p), rt in sorted(found.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


def _swagger_model(src: str, cls: ast.ClassDef) -> dict:
    types: dict = {}
    keys: dict = {}
    for n in cls.body:
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name):
            if n.targets[0].id == "swagger_types":
                types = ast.literal_eval(n.value)
            elif n.targets[0].id == "attribute_map":
                keys = ast.literal_eval(n.value)
    required = set()
    enums = {}
    for n in cls.body:
        if not isinstance(n, ast.FunctionDef):
            continue
        if n.name == "__init__":  # a required attribute is set unconditionally: its setter refuses None
            for stmt in n.body:
                t = stmt.targets[0] if isinstance(stmt, ast.Assign) else None
                if (
                    isinstance(t, ast.Attribute)
                    and not t.attr.startswith("_")
                    and isinstance(stmt.value, ast.Name)
                    and stmt.value.id == t.attr
                ):
                    required.add(t.attr)
        elif n.decorator_list and (ast.get_source_segment(src, n.decorator_list[0]) or "").endswith(".setter"):
            m = re.search(r"allowed_values = (\[.*?\])", ast.get_source_segment(src, n) or "")
            if m:
                enums[n.name] = ast.literal_eval(m.group(1))
    return {
        "gen": "swagger",
        "attrs": {keys[a]: [t, a in required, enums.get(a)] for a, t in types.items()},
    }


def _pydantic_model(src: str, cls: ast.ClassDef) -> dict:
    bases = [ast.get_source_segment(src, b) for b in cls.bases]
    if any(b == "Enum" for b in bases):
        return {
            "gen": "pydantic",
            "enum": [ast.literal_eval(n.value) for n in cls.body if isinstance(n, ast.Assign)],
        }
    body = ast.get_source_segment(src, cls) or ""
    union = re.search(r"(?:any|one)_of_schemas: Set\[str\] = \{([^}]*)\}", body)
    if union:
        return {"gen": "pydantic", "any_of": sorted(re.findall(r'"(\w+)"', union.group(1)))}
    validators = {}
    for n in cls.body:
        if isinstance(n, ast.FunctionDef):
            for d in n.decorator_list:
                m = re.match(r"field_validator\('(\w+)'\)", ast.get_source_segment(src, d) or "")
                values = re.search(r"set\((\[.*?\])\)", ast.get_source_segment(src, n) or "")
                if m and values:
                    validators[m.group(1)] = ast.literal_eval(values.group(1))
    attrs = {}
    for n in cls.body:
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and not n.target.id.startswith("_"):
            ann = ast.get_source_segment(src, n.annotation) or ""
            if ann.startswith("ClassVar"):
                continue
            value = ast.get_source_segment(src, n.value) if n.value else ""
            alias = re.search(r'alias="([^"]+)"', value or "")
            # from_dict passes obj.get(key): a missing key is None, refused unless Optional
            attrs[alias.group(1) if alias else n.target.id] = [
                ann,
                not ann.startswith("Optional["),
                validators.get(n.target.id),
            ]
    return {"gen": "pydantic", "attrs": attrs}


def _models(root: Path) -> dict:
    models = {}
    for f in sorted((root / "models").glob("*.py")):
        src = f.read_text()
        for cls in (n for n in ast.parse(src).body if isinstance(n, ast.ClassDef)):
            models[cls.name] = _swagger_model(src, cls) if "swagger_types" in src else _pydantic_model(src, cls)
    return models


def _names(type_: str) -> set[str]:
    return set(re.findall(r"\b([A-Z]\w*)\b", type_)) - {
        "Optional", "List", "Dict", "Union", "Annotated", "Any", "Field", "UUID",
        "StrictInt", "StrictStr", "StrictBool", "StrictFloat", "StrictBytes",
    }  # fmt: skip


def main(argv: list[str]) -> int:
    root = Path(argv[1])
    out = (
        Path(argv[2])
        if len(argv) > 2
        else Path(__file__).resolve().parents[1] / "tests/api/qualytics_client_models.json"
    )
    endpoints = _endpoints(root)
    models = _models(root)
    todo = set(ROOTS) | {n for _m, _p, rt in endpoints if rt for n in _names(rt)}
    keep: dict = {}
    while todo:
        name = todo.pop()
        if name in keep or name not in models:
            continue
        keep[name] = models[name]
        for t, *_ in keep[name].get("attrs", {}).values():
            todo |= _names(t)
        todo |= set(keep[name].get("any_of", []))
    out.write_text(json.dumps({"endpoints": endpoints, "models": dict(sorted(keep.items()))}, indent=0) + "\n")
    print(f"{out}: {len(endpoints)} endpoints, {len(keep)} models")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
