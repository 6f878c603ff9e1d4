"""Check dry run: evaluate one check definition, saved or not, on its container with the
scan's own read and evaluation (``scan.read_and_evaluate``, ``engine.plan.evaluate``) and
say what a scan would find, without recording anything: no operation, container scan,
anomaly, measurement, checkpoint or check state is written.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..engine.anomalies import findings_for, jsonable
from ..engine.rules import CheckSpec
from ..security import datastore_secrets
from ..sources import SourceError, open_source
from ..store.db import Database
from ..store.models import ComputedField, Container
from . import history
from .resolver import ContainerResolver
from .scan import read_and_evaluate


@dataclass
class DryRunResult:
    """What a scan of the container would find for the check.

    ``result``: passed | failed | unasserted (``error`` says why); ``records_processed``:
    rows read; ``asserted_records`` / ``anomalous_records``: rows the check saw (after its
    filter) and rows that broke it (row rules; 0 for aggregate rules, whose ``message``
    says what failed); ``anomalies``: the anomalies a scan would record (type, message,
    anomalous records, up to ``enrichment_source_record_limit`` source rows each);
    ``examples``: failing rows (at most ``example_limit``).
    """

    result: str
    records_processed: int
    asserted_records: int
    anomalous_records: int
    message: str | None
    error: str | None
    read_message: str | None
    examples: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)


def dry_run(
    db: Database,
    container_id: int,
    spec: CheckSpec,
    *,
    max_records_analyzed_per_partition: int | None,
    high_count_rollup_threshold: int,
    enrichment_source_record_limit: int,
    example_limit: int,
    check_variables: dict[str, Any] | None = None,
) -> DryRunResult:
    """Evaluate ``spec`` on container ``container_id`` as a full (not incremental) scan
    capped at ``max_records_analyzed_per_partition`` rows per partition (None: every row).
    A saved check (``spec.id`` > 0) is compared with its own earlier measurements
    (time-series rules), as in a scan. ``check_variables`` fill ``{{ name }}`` in the
    check's filter and text properties exactly as a scan's do (``engine.variables``); a
    placeholder without a value leaves the check unasserted, naming the variable.

    Raises: SourceError when the datastore cannot be opened or the container read (any
    error of the read itself, as a scan records it on the container scan).
    """
    with db.session() as s:
        container = s.get_one(Container, container_id)
        datastore = container.datastore
        secrets = datastore_secrets(db.secret_key, datastore)
        computed = [
            (cf.name, cf.properties.get("column_expression"))
            for cf in s.scalars(
                select(ComputedField).where(ComputedField.container_id == container_id).order_by(ComputedField.id)
            )
        ]
        if spec.id > 0:
            history.attach(s, container_id, [spec])
        spec.variables = check_variables or {}  # as scan._scan_container does for each check
        s.expunge_all()
    params: dict[str, Any] = {
        "incremental": False,
        "max_records_analyzed_per_partition": max_records_analyzed_per_partition,
    }
    with (
        open_source(datastore, secrets) as source,
        contextlib.closing(ContainerResolver(db, source, datastore.id)) as resolver,
    ):
        source.describe(f"assay check dry run (container {container.name})")
        try:
            read, _table, evaluation = read_and_evaluate(
                source,
                container,
                computed,
                [spec],
                params,
                example_limit=max(example_limit, high_count_rollup_threshold + enrichment_source_record_limit),
                resolver=resolver,
            )
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001 - as a scan records it on the container: unreadable
            raise SourceError(str(e).splitlines()[0] if str(e) else type(e).__name__) from e
    outcome = evaluation.outcomes[0]
    findings = findings_for(
        container_id,
        evaluation.outcomes,
        rollup_threshold=high_count_rollup_threshold,
        source_record_limit=enrichment_source_record_limit,
        coverage_of={spec.id: spec.coverage},
        computed_fields={name for name, _expression in computed},
    )
    return DryRunResult(
        result=str(outcome.result),
        records_processed=evaluation.records,
        asserted_records=outcome.asserted,
        anomalous_records=outcome.failed,
        message=outcome.message,
        error=outcome.error,
        read_message=read.message,
        examples=[jsonable(row) for row in outcome.examples[:example_limit]],
        anomalies=[
            {
                "type": str(f.type),
                "message": f.message,
                "anomalous_records_count": f.anomalous_records_count,
                "source_records": [jsonable(row) for row in f.source_records],
            }
            for f in findings
        ],
    )
