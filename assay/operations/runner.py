"""Run queued operations: worker threads inside `assay serve`, or `assay worker` processes.

* **Claim.** An operation is claimed with one conditional UPDATE
  (``result: queued → running`` where it is still queued), so it runs exactly once however
  many threads and processes race for it. ``assay worker`` finds the next queued
  operation with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (the same query
  without locks on SQLite, where the conditional UPDATE alone decides).
* **Run.** The job (``sync``, ``scan``, ``profile``, ``export``, ``materialize``) runs with a heartbeat
  thread that stamps ``heartbeat`` every few seconds, and always ends with a result —
  success, failure (the error as ``message``) or aborted.
* **Abort** is a flag in the metadata store (``abort_requested``), so any server can ask
  any worker to stop; jobs check it between containers and queries. The API ends the
  operation at once (``operations/service.py``); the worker clears the flag once it has
  stopped, and until then nobody claims the operation again (a resume waits for it).
* **Lost workers.** A running operation whose heartbeat is older than the timeout
  (``ASSAY_HEARTBEAT_TIMEOUT``, default 20 s; its worker was killed) is ended as a failure
  by whichever runner notices first — each looks every ``ASSAY_REAPER_INTERVAL`` (default
  5 s), so the operation ends within 25 s of the last heartbeat — with its running
  container scans; nothing it committed is recorded twice because it is not retried.
  A runner never takes for lost an operation one of its own threads is running: a late
  heartbeat there (a starved thread, a busy metadata store) is not a dead worker.
* **Pending enrichment.** The same loop writes enrichment batches left pending by a busy
  or unreachable enrichment datastore (``enrichment/pending.finish_due``).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.exc import OperationalError

from ..domain import OperationResult
from ..enrichment.pending import finish_due
from ..errors import SettingError
from ..sources.base import SourceError
from ..store.db import Database
from ..store.models import Datastore, Operation, utcnow
from .progress import Aborted, finish

log = logging.getLogger(__name__)

#: A running operation whose heartbeat is older than this is taken for lost (seconds), unless
#: ``ASSAY_HEARTBEAT_TIMEOUT`` says otherwise.
HEARTBEAT_TIMEOUT = 20.0


def _seconds(name: str, default: float) -> float:
    """The environment variable ``name`` as a number of seconds (``default`` when unset or
    empty). Raises :class:`~assay.errors.SettingError` naming the variable unless it is a
    finite number greater than 0."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SettingError(f"{name}={raw!r}: must be a finite number of seconds greater than 0 (default {default:g})")
    return value


def heartbeat_seconds() -> float:
    """``ASSAY_HEARTBEAT_SECONDS`` (default 5 s), read now: how often a running operation's
    worker writes its heartbeat. Raises SettingError for a value that is not a number > 0."""
    return _seconds("ASSAY_HEARTBEAT_SECONDS", 5.0)


def heartbeat_timeout() -> float:
    """``ASSAY_HEARTBEAT_TIMEOUT`` (default :data:`HEARTBEAT_TIMEOUT`, 20 s), read now.
    Raises SettingError for a value that is not a number > 0."""
    return _seconds("ASSAY_HEARTBEAT_TIMEOUT", HEARTBEAT_TIMEOUT)


def reaper_interval() -> float:
    """``ASSAY_REAPER_INTERVAL`` (default 5 s, at least 0.1 s), read now. A killed worker's
    operation ends at most heartbeat timeout + reaper interval after its last heartbeat:
    25 s by default. Raises SettingError for a value that is not a number > 0."""
    return max(0.1, _seconds("ASSAY_REAPER_INTERVAL", 5.0))


def check_settings() -> None:
    """Check the heartbeat settings before a server or worker starts: each a number of
    seconds greater than 0, and the timeout longer than the heartbeat interval (else a live
    operation would be taken for lost). Raises SettingError naming the variable."""
    beat, timeout = heartbeat_seconds(), heartbeat_timeout()
    reaper_interval()
    if timeout <= beat:
        raise SettingError(
            f"ASSAY_HEARTBEAT_TIMEOUT ({timeout:g} s) must be longer than ASSAY_HEARTBEAT_SECONDS ({beat:g} s): "
            "a running operation would be taken for lost between two heartbeats"
        )


def _jobs() -> dict[str, Callable]:
    from .export import run_export
    from .external_scan import run_external_scan
    from .materialize import run_materialize
    from .profile import run_profile
    from .promote import run_promote
    from .scan import run_scan
    from .sync import run_sync

    return {
        "sync": run_sync,
        "catalog": run_sync,
        "scan": run_scan,
        "profile": run_profile,
        "export": run_export,
        "materialize": run_materialize,
        "external_scan": run_external_scan,
        "promote": run_promote,
    }


#: The garbage collector's thresholds in a server or worker process (Python's default:
#: 700, 10, 10). A young-generation pass every 20,000 net allocations instead of 700: an
#: operation allocates millions of short-lived objects (Ibis expressions, sqlglot trees,
#: SQLAlchemy rows), and reference counting frees nearly all of them; the test suite, which
#: runs the same code in its processes, spent 6–9 % less CPU with these.
GC_THRESHOLDS = (20_000, 20, 20)


def freeze_startup_heap() -> None:
    """Keep what a server or worker process holds from its start out of the garbage
    collector's full passes (``gc.freeze``): the modules, the app and every job's code with
    the engines it imports (Ibis, sqlglot, DuckDB, SQLAlchemy): about 290,000 objects.

    Without it, every full collection walks them all (145 ms on a quiet core for those
    290,000; 0.6–0.7 s for the 390,000 of ``bench/incremental_bench.py``'s process on the
    loaded machine), and it falls on whichever operation allocates at that moment (681 ms
    inside one of five incremental scans measured there). Objects created later are
    collected as before, with the thresholds :data:`GC_THRESHOLDS`.
    :func:`thaw_heap` undoes the freeze at shutdown.
    """
    _jobs()  # import the jobs' code now, so that it is frozen too
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def thaw_heap() -> None:
    """Give the objects :func:`freeze_startup_heap` set aside back to the collector."""
    gc.unfreeze()


class Runner:
    """``workers`` threads executing operations stored in ``db`` (0: queue only, run nothing)."""

    def __init__(self, db: Database, workers: int = 2, name: str | None = None):
        """Raises SettingError when the heartbeat settings are unusable (:func:`check_settings`)."""
        check_settings()
        self.db = db
        self.workers = workers
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.pool = ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="assay-worker")
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        #: Ids of the operations this runner's threads are running now (``_run``); at most
        #: one thread each, as ``claim`` refuses an operation whose earlier attempt still runs here.
        self._active: set[int] = set()
        self._active_lock = threading.Lock()

    # -- claiming ---------------------------------------------------------------------
    def claim(self, op_id: int) -> bool:
        """Take queued operation ``op_id`` for this runner. False when someone else has it,
        when an earlier attempt's thread of this runner is still stopping, or when its
        datastore already runs ``max_concurrent_operations`` operations (it then stays
        queued and starts when those end)."""
        now = utcnow()
        with self._active_lock:
            if op_id in self._active:  # an earlier attempt's thread here is still stopping:
                return False  # its end offers the operation again (``_kick``)
        with self.db.session() as s:
            ds_id = s.scalar(select(Operation.datastore_id).where(Operation.id == op_id))
            limit = None
            if ds_id is not None:  # serialise claims per datastore (a row lock on PostgreSQL)
                limit = s.scalar(
                    select(Datastore.max_concurrent_operations).where(Datastore.id == ds_id).with_for_update()
                )
            # Not while the worker of an earlier attempt is still stopping (abort_requested
            # still set and its heartbeat fresh): a resumed operation waits for it.
            stale = now - dt.timedelta(seconds=heartbeat_timeout())
            done = cast(
                "CursorResult[Any]",
                s.execute(
                    update(Operation)
                    .where(
                        Operation.id == op_id,
                        Operation.result == OperationResult.QUEUED,
                        or_(
                            Operation.abort_requested.is_(False),
                            Operation.heartbeat.is_(None),
                            Operation.heartbeat < stale,
                        ),
                    )
                    .values(
                        result=OperationResult.RUNNING,
                        start_time=now,
                        heartbeat=now,
                        worker=self.name,
                        abort_requested=False,
                    )
                ),
            )
            if done.rowcount != 1:
                return False
            if limit is not None:
                running = s.scalar(
                    select(func.count())
                    .select_from(Operation)
                    .where(Operation.datastore_id == ds_id, Operation.result == OperationResult.RUNNING)
                )
                if (running or 0) > limit:
                    s.rollback()
                    return False
            return True

    def claim_next(self) -> int | None:
        """Claim the oldest queued operation that may start now, or return None."""
        with self.db.session() as s:
            candidates = s.scalars(
                select(Operation.id)
                .where(Operation.result == OperationResult.QUEUED)
                .order_by(Operation.id)
                .limit(50)
                .with_for_update(skip_locked=True)
            ).all()
        for op_id in candidates:
            if self.claim(op_id):
                return op_id
        return None

    def _kick(self, datastore_id: int | None) -> None:
        """After an operation ends: offer the datastore's waiting operations to the workers."""
        if datastore_id is None or self.workers <= 0:
            return
        with self.db.session() as s:
            waiting = s.scalars(
                select(Operation.id)
                .where(Operation.datastore_id == datastore_id, Operation.result == OperationResult.QUEUED)
                .order_by(Operation.id)
            ).all()
        for op_id in waiting:
            self.submit(op_id)

    # -- entry points ---------------------------------------------------------------------
    def submit(self, op_id: int) -> None:
        """Run stored operation ``op_id`` on a worker thread, if this runner has workers."""
        if self.workers > 0:
            self.pool.submit(self._claim_and_run, op_id)

    def recover(self) -> None:
        """On start: end operations whose worker is gone, then pick up queued ones."""
        self.reap()
        with self.db.session() as s:
            queued = s.scalars(
                select(Operation.id).where(Operation.result == OperationResult.QUEUED).order_by(Operation.id)
            ).all()
        for op_id in queued:
            self.submit(op_id)

    def start_background(self, poll: bool = False, interval: float = 1.0) -> None:
        """Reap lost operations periodically; with ``poll`` also claim queued ones (``assay worker``)."""

        def reaper():
            while not self._stop.wait(reaper_interval()):
                try:
                    self.reap()
                except Exception:  # noqa: BLE001
                    log.exception("reaping lost operations failed")
                try:
                    finish_due(self.db)
                except Exception:  # noqa: BLE001
                    log.exception("writing pending enrichment failed")

        def poller(index: int):
            while not self._stop.is_set():
                try:
                    op_id = self.claim_next()
                except Exception:  # noqa: BLE001
                    log.exception("claiming an operation failed")
                    op_id = None
                if op_id is None:
                    self._stop.wait(interval)
                else:
                    self._run(op_id)

        self._threads.append(threading.Thread(target=reaper, name="assay-reaper", daemon=True))
        if poll:
            self._threads += [
                threading.Thread(target=poller, args=(i,), name=f"assay-poller-{i}", daemon=True)
                for i in range(self.workers)
            ]
        for t in self._threads:
            t.start()

    def request_abort(self, op_id: int) -> None:
        """Ask operation ``op_id`` to stop (seen by whichever worker runs it)."""
        with self.db.session() as s:
            s.execute(update(Operation).where(Operation.id == op_id).values(abort_requested=True))

    def shutdown(self, wait: bool = True) -> None:
        """Stop claiming, ask this runner's running operations to abort (their queries are
        cancelled, so they end as ``aborted`` within seconds), and wait for them."""
        self._stop.set()
        if wait:
            try:
                with self.db.session() as s:
                    s.execute(
                        update(Operation)
                        .where(Operation.worker == self.name, Operation.result == OperationResult.RUNNING)
                        .values(abort_requested=True)
                    )
            except OperationalError as e:  # the store is gone: stop anyway, the reaper ends them later
                log.warning("could not ask running operations to abort: the metadata store is unavailable: %s", e.orig)
        for t in self._threads:
            t.join(timeout=30)
        self.pool.shutdown(wait=wait, cancel_futures=True)

    # -- lost workers ---------------------------------------------------------------------
    def reap(self, now: dt.datetime | None = None) -> list[int]:
        """End running operations whose heartbeat is older than ``ASSAY_HEARTBEAT_TIMEOUT``,
        except those this runner's own threads are running. Returns their ids."""
        now = now or utcnow()
        limit = now - dt.timedelta(seconds=heartbeat_timeout())
        with self._active_lock:
            alive = Operation.id.not_in(sorted(self._active))  # ours, running: not lost
        with self.db.session() as s:
            # aborted or resumed operations whose worker died while stopping: let them go
            released = s.scalars(
                select(Operation).where(
                    Operation.abort_requested.is_(True),
                    Operation.result != OperationResult.RUNNING,
                    Operation.heartbeat < limit,
                    alive,
                )
            ).all()
            for op in released:
                op.abort_requested = False
            requeued = [op.id for op in released if op.result == OperationResult.QUEUED]
            lost = s.scalars(
                select(Operation).where(Operation.result == OperationResult.RUNNING, Operation.heartbeat < limit, alive)
            ).all()
            for op in lost:
                op.result, op.end_time = OperationResult.FAILURE, now
                op.message = (
                    f"worker {op.worker or '?'} stopped responding (no heartbeat since "
                    f"{op.heartbeat:%Y-%m-%d %H:%M:%S} UTC); the operation was not finished"
                )
                for cs in op.container_scans:
                    if cs.result == OperationResult.RUNNING:
                        cs.result, cs.end_time, cs.message = (
                            OperationResult.FAILURE,
                            now,
                            "interrupted: its worker was lost",
                        )
                # flows hook (issue 18): a lost operation's end is an "operation finished" event too
                from ..flows.outbox import record_operation_finished

                record_operation_finished(s, op.id, OperationResult.FAILURE)
            lost_ids = [op.id for op in lost]
        for op_id in requeued:
            self.submit(op_id)
        return lost_ids

    # -- running ----------------------------------------------------------------------------
    def _claim_and_run(self, op_id: int) -> None:
        if self.claim(op_id):
            self._run(op_id)

    def _run(self, op_id: int) -> None:
        started = None
        beating = threading.Event()
        heart = threading.Thread(target=self._heartbeat, args=(op_id, beating), daemon=True)
        heart.start()
        with self._active_lock:  # after anything that may raise before the finally below
            self._active.add(op_id)
        try:
            with self.db.session() as s:
                op = s.get_one(Operation, op_id)
                op_type, started = op.type, op.start_time
            job = _jobs().get(op_type)
            if job is None:
                finish(self.db, op_id, OperationResult.FAILURE, f"operation type '{op_type}' is not supported", started)
                return
            warning = job(self.db, op_id, self._abort_check(op_id, started))
            finish(self.db, op_id, OperationResult.SUCCESS, warning, started)
        except Aborted:
            finish(self.db, op_id, OperationResult.ABORTED, "aborted by request", started)
        except Exception as e:  # noqa: BLE001 - every failure ends the operation with its reason
            if isinstance(e, SourceError):  # a datastore that cannot be read: its reason is enough
                log.warning("operation %s failed: %s", op_id, str(e).strip() or type(e).__name__)
            else:
                log.exception("operation %s failed", op_id)
            try:
                finish(self.db, op_id, OperationResult.FAILURE, str(e).strip() or type(e).__name__, started)
            except Exception:  # noqa: BLE001
                log.exception("could not record the failure of operation %s", op_id)
        finally:
            beating.set()
            heart.join(timeout=5)
            with self._active_lock:
                self._active.discard(op_id)
            with self.db.session() as s:
                datastore_id = s.scalar(select(Operation.datastore_id).where(Operation.id == op_id))
            self._kick(datastore_id)

    def _heartbeat(self, op_id: int, done: threading.Event) -> None:
        while not done.wait(heartbeat_seconds()):
            try:
                with self.db.session() as s:
                    # also while stopping after an abort, so nobody takes this worker for lost
                    s.execute(
                        update(Operation)
                        .where(
                            Operation.id == op_id,
                            Operation.worker == self.name,
                            or_(Operation.result == OperationResult.RUNNING, Operation.abort_requested.is_(True)),
                        )
                        .values(heartbeat=utcnow())
                    )
            except Exception:  # noqa: BLE001
                log.exception("heartbeat of operation %s failed", op_id)

    def _abort_check(self, op_id: int, started: dt.datetime | None = None) -> Callable[[], bool]:
        """A cheap should-abort callable: reads the store at most twice a second. True once
        the operation is flagged ``abort_requested``, no longer running (ended by the API or
        the reaper), claimed again by another attempt (``start_time`` is not ``started``)
        or deleted."""
        state: dict[str, Any] = {"at": 0.0, "value": False}

        def check() -> bool:
            if not state["value"] and time.monotonic() - state["at"] > 0.5:
                with self.db.session() as s:
                    row = s.execute(
                        select(Operation.abort_requested, Operation.result, Operation.start_time).where(
                            Operation.id == op_id
                        )
                    ).first()
                state["value"] = (
                    row is None
                    or bool(row.abort_requested)
                    or row.result != OperationResult.RUNNING
                    or (started is not None and row.start_time != started)
                )
                state["at"] = time.monotonic()
            return bool(state["value"])

        return check


def run_worker(db: Database, workers: int, stop: threading.Event) -> None:
    """The `assay worker` loop: claim and run queued operations until ``stop`` is set."""
    from ..flows.dispatcher import Dispatcher

    runner = Runner(db, workers=workers)
    freeze_startup_heap()
    runner.start_background(poll=True)
    dispatcher = Dispatcher(db)  # flows (issue 18): deliveries; queued operations go to the pollers
    dispatcher.start()
    log.info("worker %s polling with %d thread(s)", runner.name, workers)
    try:
        stop.wait()
    finally:
        dispatcher.stop()
        runner.shutdown(wait=True)
        thaw_heap()
