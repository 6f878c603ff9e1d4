"""Flow delivery throughput: how fast dispatchers turn outbox events into delivered webhooks.

Creates an ``Operation`` flow with one Webhook action and one InApp action on a fresh
metadata store (SQLite by default, ``--database-url`` for PostgreSQL), writes N
"operation finished" events the way the runner's finish transaction does, then runs
``--dispatchers`` dispatchers (threads of this process) until every action execution has
ended, and prints events/s and deliveries/s, and checks that the local HTTP receiver got
every event exactly once.

    .venv/bin/python bench/flows_bench.py --events 2000 --dispatchers 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from assay.flows.dispatcher import Dispatcher  # noqa: E402
from assay.flows.models import Flow, FlowAction, FlowActionExecution  # noqa: E402
from assay.flows.outbox import record_operation_finished  # noqa: E402
from assay.security import encrypt_secrets  # noqa: E402
from assay.store.db import Database, upgrade  # noqa: E402
from assay.store.models import Datastore, Operation, utcnow  # noqa: E402
from tests.flows.flow_receivers import HttpReceiver  # noqa: E402

KEY = "bench-secret-key"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    db = Database(url, KEY)
    receiver = HttpReceiver().start()
    with db.session() as s:
        ds = Datastore(name=f"bench-{time.time_ns()}", store_type="jdbc", type="duckdb")
        s.add(ds)
        flow = Flow(name="bench", trigger_type="Operation", deactivated=False)
        flow.actions = [
            FlowAction(
                type="notification",
                uuid="00000000-0000-0000-0000-000000000001",
                notification_type="Webhook",
                parameters={},
                secrets=encrypt_secrets(KEY, {"webhook_url": f"{receiver.url}/hook", "secret": "k"}),
                tokenized_message="{{ operation_id }}",
            ),
            FlowAction(
                type="notification",
                uuid="00000000-0000-0000-0000-000000000002",
                notification_type="InApp",
                parameters={},
                tokenized_message="{{ operation_id }}",
            ),
        ]
        s.add(flow)
    for _ in range(args.events):
        with db.session() as s:  # one finish transaction per operation, as the runner does
            op = Operation(type="scan", datastore_id=ds.id, result="success", end_time=utcnow())
            s.add(op)
            s.flush()
            record_operation_finished(s, op.id, "success")

    start = time.monotonic()
    dispatchers = [Dispatcher(db, name=f"bench-{i}") for i in range(args.dispatchers)]
    for d in dispatchers:
        d.start()
    expected = 2 * args.events
    while True:
        with db.session() as s:
            ended = s.scalar(
                select(func.count())
                .select_from(FlowActionExecution)
                .where(FlowActionExecution.result.in_(("success", "failure")))
            )
        if ended >= expected:
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    for d in dispatchers:
        d.stop()
    receiver.stop()

    ids = [int(r.json()["message"]) for r in receiver.requests]
    once = len(ids) == len(set(ids)) == args.events
    print(f"store: {url.split(':')[0]}  events: {args.events}  dispatchers: {args.dispatchers}")
    print(f"all {expected} action executions ended in {elapsed:.2f} s")
    print(f"{args.events / elapsed:.0f} events/s, {expected / elapsed:.0f} deliveries/s (webhook + in-app)")
    print(f"webhook requests: {len(ids)}, each event exactly once: {once}")
    return 0 if once else 1


if __name__ == "__main__":
    raise SystemExit(main())
