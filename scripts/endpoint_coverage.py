"""Measure which Qualytics API endpoints Assay serves.

Reads a Markdown list of Qualytics endpoints — table rows of the form
``| METHOD | `/api/path/{id}` | SOURCES | … |`` under ``### Area`` headings — and compares it
with the routes of Assay's OpenAPI document (built from the app, no server needed).
Path-parameter names are ignored when matching (``/api/anomalies/{id}`` equals
``/api/anomalies/{anomaly_id}``); query strings are not part of a path.

Usage::

    python scripts/endpoint_coverage.py ENDPOINTS.md [--missing] [--json]

Prints the number listed, the number served, per area and per source tag; ``--missing``
also lists the endpoints Assay does not serve; ``--json`` prints the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

_ROW = re.compile(r"^\|\s*(GET|POST|PUT|PATCH|DELETE|HEAD)\s*\|\s*`([^`]+)`\s*\|\s*([^|]*)\|")
_PARAM = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class Endpoint:
    """One listed endpoint: HTTP method, path, the area heading it sits under and its source tags."""

    method: str
    path: str
    area: str
    sources: tuple[str, ...]


def normalise(path: str) -> str:
    """``/api/x/{anything}/`` → ``/api/x/{}``: parameter names and a trailing slash ignored."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    return _PARAM.sub("{}", path)


def parse_endpoints(markdown: str) -> list[Endpoint]:
    """Every endpoint row of the Markdown, in order, deduplicated by (method, normalised path).

    Rows under a heading that starts with ``Assay-only`` are skipped (they are not Qualytics'
    endpoints)."""
    out: dict[tuple[str, str], Endpoint] = {}
    area = ""
    for line in markdown.splitlines():
        if line.startswith("#"):
            area = line.lstrip("#").strip()
            continue
        m = _ROW.match(line)
        if not m or area.lower().startswith("assay-only"):
            continue
        method, path, sources = m.group(1), m.group(2), m.group(3)
        tags = tuple(s.strip() for s in sources.split(",") if s.strip())
        out.setdefault((method, normalise(path)), Endpoint(method, path, area, tags))
    return list(out.values())


def served_routes(openapi: dict) -> set[tuple[str, str]]:
    """(METHOD, normalised path) of every operation in an OpenAPI document."""
    methods = {"get", "post", "put", "patch", "delete", "head"}
    return {
        (method.upper(), normalise(path))
        for path, item in openapi.get("paths", {}).items()
        for method in item
        if method in methods
    }


def coverage(endpoints: list[Endpoint], served: set[tuple[str, str]]) -> dict:
    """Counts of listed and served endpoints, overall, per area and per source tag, plus the
    missing ones (``[{method, path, area}]``)."""
    by_area: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missing = []
    for e in endpoints:
        hit = (e.method, normalise(e.path)) in served
        by_area[e.area][0] += hit
        by_area[e.area][1] += 1
        for tag in e.sources:
            by_source[tag][0] += hit
            by_source[tag][1] += 1
        if not hit:
            missing.append({"method": e.method, "path": e.path, "area": e.area})
    return {
        "listed": len(endpoints),
        "served": len(endpoints) - len(missing),
        "by_area": {k: {"served": v[0], "listed": v[1]} for k, v in by_area.items()},
        "by_source": {k: {"served": v[0], "listed": v[1]} for k, v in sorted(by_source.items())},
        "missing": missing,
    }


def app_openapi() -> dict:
    """The OpenAPI document of a fresh Assay app (a throw-away SQLite metadata store)."""
    import tempfile

    from assay.api.app import create_app
    from assay.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/assay.db", workers=0)
        return create_app(settings).openapi()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoints", type=Path, help="Markdown list of Qualytics endpoints")
    parser.add_argument("--missing", action="store_true", help="list the endpoints Assay does not serve")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = coverage(parse_endpoints(args.endpoints.read_text()), served_routes(app_openapi()))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    pct = 100 * result["served"] / max(result["listed"], 1)
    print(f"served {result['served']} of {result['listed']} listed endpoints ({pct:.0f} %)")
    print("\nby area:")
    for area, c in result["by_area"].items():
        print(f"  {c['served']:>4} / {c['listed']:<4} {area}")
    print("\nby source:")
    for tag, c in result["by_source"].items():
        print(f"  {c['served']:>4} / {c['listed']:<4} {tag}")
    if args.missing:
        print("\nnot served:")
        for m in result["missing"]:
            print(f"  {m['method']:<6} {m['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
