"""Run queued operations on worker threads inside `assay serve`.

``Runner.submit(op_id)`` hands a stored, queued operation to a thread pool. The worker
marks it running, dispatches on ``type`` to the job (``sync``, ``scan``) and always ends
it with a result — success, failure (with the error as ``message``) or aborted — so no
operation stays running forever. On start, operations a previous process left queued
are queued again and those it left running end as failures ("interrupted").
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from sqlalchemy import select

from ..store.db import Database
from ..store.models import Operation, utcnow
from .progress import Aborted, finish

log = logging.getLogger(__name__)


def _jobs() -> dict[str, Callable]:
    from .export import run_export
    from .profile import run_profile
    from .scan import run_scan
    from .sync import run_sync

    return {"sync": run_sync, "catalog": run_sync, "scan": run_scan, "profile": run_profile, "export": run_export}


class Runner:
    """A pool of ``workers`` threads executing operations stored in ``db``."""

    def __init__(self, db: Database, workers: int = 2):
        self.db = db
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="assay-worker")
        self._abort: set[int] = set()
        self._lock = threading.Lock()

    def recover(self) -> None:
        """Re-queue operations left queued and fail those left running by a dead process."""
        with self.db.session() as s:
            queued = []
            for op in s.scalars(select(Operation).where(Operation.result.in_(("queued", "running")))):
                if op.result == "running":
                    op.result, op.end_time = "failure", utcnow()
                    op.message = "interrupted: the server stopped while the operation was running"
                else:
                    queued.append(op.id)
        for op_id in queued:
            self.submit(op_id)

    def submit(self, op_id: int) -> None:
        """Queue stored operation ``op_id`` for execution."""
        self.pool.submit(self._run, op_id)

    def request_abort(self, op_id: int) -> None:
        with self._lock:
            self._abort.add(op_id)

    def shutdown(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=True)

    def _run(self, op_id: int) -> None:
        try:
            with self.db.session() as s:
                op = s.get(Operation, op_id)
                if op is None or op.result != "queued":
                    return
                op.result, op.start_time, op.heartbeat = "running", utcnow(), utcnow()
                op_type = op.type
            job = _jobs().get(op_type)
            if job is None:
                finish(self.db, op_id, "failure", f"operation type '{op_type}' is not supported")
                return
            warning = job(self.db, op_id, lambda: op_id in self._abort)
            finish(self.db, op_id, "success", warning)
        except Aborted:
            finish(self.db, op_id, "aborted", "aborted by request")
        except Exception as e:  # noqa: BLE001 - every failure ends the operation with its reason
            log.exception("operation %s failed", op_id)
            text = str(e).strip() or type(e).__name__
            try:
                finish(self.db, op_id, "failure", text)
            except Exception:  # noqa: BLE001
                log.exception("could not record the failure of operation %s", op_id)
        finally:
            with self._lock:
                self._abort.discard(op_id)
