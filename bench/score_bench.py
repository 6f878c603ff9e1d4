"""Quality scores and insights: how long the read endpoints' computations take on a busy store.

Writes one datastore with ``--containers`` containers of ``--fields`` fields, ``--checks``
active checks per container, one profile per container and ``--scans`` successful container
scans per container spread over the last 90 days (each with every check's result), straight
into a fresh metadata store (SQLite by default, ``--database-url`` for PostgreSQL); then
times what the API computes: the datastore's score (``GET /api/datastores/{id}`` metrics),
the metrics of 50 containers (one page of ``GET /api/containers``), 30 daily scores
(``/quality-scores``) and a week of ``/api/insights``.

    .venv/bin/python bench/score_bench.py --containers 200 --scans 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from assay.insights import (
    hub,  # noqa: E402
    service,  # noqa: E402
)
from assay.store.db import Database, upgrade  # noqa: E402
from assay.store.models import (  # noqa: E402
    Container,
    ContainerProfile,
    ContainerScan,
    Datastore,
    Field,
    FieldProfile,
    Operation,
    QualityCheck,
)

RULES = ("notNull", "between", "matchesPattern", "isType", "freshness", "volumetric", "unique")


def populate(db: Database, containers: int, fields: int, checks: int, scans: int) -> int:
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        ds = Datastore(name=f"bench-{time.time_ns()}", store_type="jdbc", type="duckdb")
        s.add(ds)
        s.flush()
        op = Operation(type="scan", datastore_id=ds.id, result="success")
        s.add(op)
        s.flush()
        for c in range(containers):
            container = Container(datastore_id=ds.id, name=f"t{c}", container_type="table")
            s.add(container)
            s.flush()
            names = [f"f{i}" for i in range(fields)]
            s.add_all(Field(container_id=container.id, name=n, type="String", native_type="VARCHAR") for n in names)
            qcs = [
                QualityCheck(container_id=container.id, rule_type=RULES[k % len(RULES)], fields=[names[k % fields]])
                for k in range(checks)
            ]
            s.add_all(qcs)
            s.flush()
            profile = ContainerProfile(operation_id=op.id, container_id=container.id, records_count=1000)
            s.add(profile)
            s.flush()
            s.add_all(
                FieldProfile(
                    container_profile_id=profile.id,
                    container_id=container.id,
                    field_name=n,
                    statistics={"completeness": 0.9},
                )
                for n in names
            )
            for k in range(scans):
                at = now - dt.timedelta(days=90 * k / max(scans, 1))
                s.add(
                    ContainerScan(
                        operation_id=op.id,
                        container_id=container.id,
                        start_time=at,
                        end_time=at,
                        records_processed=1000,
                        partitions_scanned=1,
                        result="success",
                        check_results=[
                            {
                                "quality_check_id": q.id,
                                "rule_type": q.rule_type,
                                "result": "passed" if (q.id + k) % 4 else "failed",
                            }
                            for q in qcs
                        ],
                    )
                )
        return ds.id


def timed(label: str, fn) -> None:
    start = time.perf_counter()
    fn()
    print(f"{label:<48} {1000 * (time.perf_counter() - start):8.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--fields", type=int, default=10)
    parser.add_argument("--checks", type=int, default=10)
    parser.add_argument("--scans", type=int, default=30)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    db = Database(url, "bench-secret-key")
    start = time.perf_counter()
    ds_id = populate(db, args.containers, args.fields, args.checks, args.scans)
    print(
        f"populated {args.containers} containers × {args.scans} scans × {args.checks} checks "
        f"in {time.perf_counter() - start:.1f} s ({url.split(':')[0]})"
    )
    today = dt.datetime.now(dt.UTC).date()
    with db.session() as s:
        ds = s.get_one(Datastore, ds_id)
        page = list(s.scalars(select(Container).where(Container.datastore_id == ds_id).limit(50)))
        timed("datastore metrics + score (GET /datastores/{id})", lambda: service.datastore_metrics(s, [ds]))
        timed("metrics of 50 containers (a page of /containers)", lambda: service.container_metrics(s, page))
        timed(
            "30 daily datastore scores (/quality-scores)",
            lambda: service.quality_scores(s, ds_id, today - dt.timedelta(days=29), today),
        )
        timed("a week of /api/insights", lambda: hub.insights(s, datastores=[ds_id]))
        timed("/api/metrics over 30 days", lambda: hub.hub_metrics(s, timeframe=30, datastore=ds_id))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
