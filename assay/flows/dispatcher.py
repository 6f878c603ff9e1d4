"""The flow dispatcher: turns outbox events into flow executions and delivers their actions.

It runs as a thread in ``assay serve`` and in every ``assay worker`` process; any number of
them may share one metadata store.

* **Fan-out.** An event is taken with a conditional UPDATE (``processed_at: NULL → now``),
  and the executions of every matching, active flow are written in that same transaction:
  one execution per (flow, event) and one action execution per (execution, action), both
  unique keys. Candidates are listed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL.
* **Delivery.** A due action execution is claimed with a conditional UPDATE
  (``pending → running``, with a lease). The attempt is recorded with its result and error;
  a failure is retried after ``retry_seconds × 2^(attempt−1)`` (at most
  ``retry_max_seconds``) until ``max_attempts``. In-app notifications and operation actions
  are written in the transaction that records their success, so they happen exactly once.
  An external delivery (email, Slack, …) is sent once per claim; only when a worker dies
  between sending and recording does the lease expire and the delivery repeat — with the
  same ``delivery_id`` (webhook header, PagerDuty ``dedup_key``) so receivers can fold it.
* A broken action fails its own action execution; nothing else (the scan that triggered
  it, other actions, other flows) is affected.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..security import decrypt_secrets
from ..store.db import Database
from ..store.models import Container, Datastore, Operation, utcnow
from . import repository as repo
from .delivery import IN_APP, DeliveryError, Message, deliver
from .models import (
    Flow,
    FlowActionExecution,
    FlowDeliveryAttempt,
    FlowEvent,
    FlowExecution,
    Notification,
    UserNotification,
)
from .service import next_schedule, queue_operation, start_execution
from .settings import FlowSettings, flow_settings
from .templating import ANOMALY, OPERATION, SCHEDULE, render, subject_for

log = logging.getLogger(__name__)

#: Processed outbox events are kept this long (executions keep their own context).
EVENT_RETENTION_DAYS = 7


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


# -- contexts and filters -----------------------------------------------------------------------


def _op_type(t: str) -> str:
    return "catalog" if t in ("sync", "catalog") else t


def operation_context(s: Session, op: Operation, base: str) -> dict[str, Any]:
    ds = op.datastore
    names = []
    if op.container_ids:
        names = sorted(s.scalars(select(Container.name).where(Container.id.in_(op.container_ids))))
    status = op.status or {}
    return {
        "datastore_id": ds.id if ds else None,
        "datastore_name": ds.name if ds else "",
        "datastore_link": f"{base}/api/datastores/{ds.id}" if ds else "",
        "operation_id": op.id,
        "operation_type": _op_type(op.type),
        "operation_result": op.result,
        "operation_message": op.message or "",
        "operation_link": f"{base}/api/operations/{op.id}",
        "target_link": f"{base}/api/operations/{op.id}",
        "container_names": ", ".join(names),
        "records_processed": status.get("records_processed", 0),
        "anomaly_count": status.get("anomalies_identified", 0),
    }


def operation_matches(flow: Flow, op: Operation, ds: Datastore | None) -> bool:
    if flow.filter_datastores and op.datastore_id not in flow.filter_datastores:
        return False
    if flow.filter_operation_type and _op_type(op.type) not in {_op_type(t) for t in flow.filter_operation_type}:
        return False
    if flow.filter_operation_result and op.result != flow.filter_operation_result:
        return False
    return not flow.tags or bool(set(flow.tags) & set((ds.tags if ds else None) or []))


def anomaly_matches(flow: Flow, anomaly, tags: set[str], rule_types: set[str]) -> bool:
    if flow.filter_datastores and anomaly.datastore_id not in flow.filter_datastores:
        return False
    if flow.tags and not set(flow.tags) & tags:
        return False
    if flow.check_rule_types and not set(flow.check_rule_types) & rule_types:
        return False
    return flow.weight_threshold is None or (anomaly.weight or 0) >= flow.weight_threshold


def anomaly_context(op: Operation, anomalies: list, checks: dict, base: str) -> dict[str, Any]:
    ctx = operation_context_light(op, base)
    first = anomalies[0]
    rule_types = sorted({r for a in anomalies for r, _d in checks.get(a.id, [])})
    containers = sorted({a.container.name for a in anomalies})
    first_checks = checks.get(first.id, [])
    ctx.update(
        anomaly_count=len(anomalies),
        container_name=first.container.name,
        container_link=f"{base}/api/containers/{first.container_id}",
        containers=", ".join(containers),
        anomaly_type=first.type,
        anomaly_message=first.message or "",
        check_description=(first_checks[0][1] or "") if first_checks else "",
        rule_types=", ".join(rule_types),
        anomaly_links="\n".join(
            f"#{a.id} {a.container.name}: {a.message or ''} {base}/api/anomalies/{a.id}" for a in anomalies
        ),
        max_weight=max(a.weight or 0 for a in anomalies),
        anomaly_ids=[a.id for a in anomalies],
        target_link=f"{base}/api/anomalies?operation={op.id}",
    )
    return ctx


def operation_context_light(op: Operation, base: str) -> dict[str, Any]:
    ds = op.datastore
    return {
        "datastore_id": ds.id if ds else None,
        "datastore_name": ds.name if ds else "",
        "datastore_link": f"{base}/api/datastores/{ds.id}" if ds else "",
        "operation_id": op.id,
        "operation_type": _op_type(op.type),
        "operation_result": op.result,
        "operation_link": f"{base}/api/operations/{op.id}",
    }


# -- the dispatcher -------------------------------------------------------------------------------------


class Dispatcher:
    """Fan-out and delivery loop over ``db``. ``submit`` (the runner's) starts queued
    operations of operation actions at once; without it they wait for a polling worker."""

    def __init__(
        self,
        db: Database,
        name: str | None = None,
        submit: Callable[[int], None] | None = None,
        settings: FlowSettings | None = None,
    ):
        self.db = db
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:flows"
        self.submit = submit
        self._settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._passes = 0

    @property
    def settings(self) -> FlowSettings:
        return self._settings or flow_settings()

    # -- loop ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="assay-flows", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # noqa: BLE001 - the loop must survive anything
                log.exception("flow dispatcher pass failed")
                busy = 0
            if not busy:
                self._stop.wait(self.settings.poll_seconds)

    def run_once(self) -> int:
        """One pass: fan out ready events, then attempt due deliveries (and, now and then,
        forget events processed more than EVENT_RETENTION_DAYS ago). Returns how much it did."""
        self._passes += 1
        if self._passes % 1000 == 1:
            with self.db.session() as s:
                repo.prune_events(s, utcnow() - dt.timedelta(days=EVENT_RETENTION_DAYS))
        return self.fire_schedules() + self.fan_out() + self.deliver_due()

    # -- Schedule flows ---------------------------------------------------------------------------
    def fire_schedules(self) -> int:
        """Start one execution per due Schedule flow. Its next_trigger moves past now with a
        conditional UPDATE in the transaction that writes the execution, so each fire time
        runs once however many dispatchers race; fire times missed while nothing ran are
        not made up (one run, for the latest)."""
        now = utcnow()
        with self.db.session() as s:
            due = repo.due_schedules(s, now)
        fired = 0
        for flow_id, fire_time in due:
            with self.db.session() as s:
                flow = s.get(Flow, flow_id)
                if flow is None or not repo.advance_schedule(s, flow_id, fire_time, next_schedule(flow, now)):
                    continue
                when = _aware(fire_time) or now
                start_execution(
                    s,
                    flow,
                    trigger_type=SCHEDULE,
                    context={"fire_time": when.isoformat().replace("+00:00", "Z")},
                )
                fired += 1
        return fired

    # -- fan-out ----------------------------------------------------------------------------------
    def fan_out(self, limit: int = 20) -> int:
        with self.db.session() as s:
            candidates = repo.ready_events(s, limit)
        random.shuffle(candidates)
        done = 0
        for event_id in candidates:
            try:
                with self.db.session() as s:
                    event = s.get(FlowEvent, event_id)
                    if event is None or not repo.claim_event(s, event_id, utcnow()):
                        continue
                    self._fan_out_event(s, event)
                done += 1
            except Exception as e:  # noqa: BLE001 - a poisoned event must not block the others
                log.exception("fan-out of flow event %s failed", event_id)
                with self.db.session() as s:
                    event = s.get(FlowEvent, event_id)
                    if event is not None and event.processed_at is None:
                        event.processed_at = utcnow()
                        event.payload = {**(event.payload or {}), "error": f"{type(e).__name__}: {e}"[:2000]}
        return done

    def _fan_out_event(self, s: Session, event: FlowEvent) -> None:
        base = self.settings.public_url
        op = s.get(Operation, event.operation_id) if event.operation_id else None
        if op is None:
            return
        if event.kind == "operation":
            ctx = operation_context(s, op, base)
            for flow in repo.active_flows(s, OPERATION):
                if operation_matches(flow, op, op.datastore):
                    start_execution(s, flow, trigger_type=OPERATION, context=ctx, event_id=event.id, trigger_id=op.id)
        elif event.kind == "anomaly":
            anomalies = repo.scan_anomalies(s, op.id)
            if not anomalies:
                return
            checks = repo.rule_types_of(s, [a.id for a in anomalies])
            for flow in repo.active_flows(s, ANOMALY):
                matched = [
                    a
                    for a in anomalies
                    if anomaly_matches(
                        flow,
                        a,
                        set(a.tags or []) | set(a.container.tags or []) | set(a.datastore.tags or []),
                        {r for r, _d in checks.get(a.id, [])},
                    )
                ]
                if matched:
                    ctx = anomaly_context(op, matched, checks, base)
                    start_execution(s, flow, trigger_type=ANOMALY, context=ctx, event_id=event.id, trigger_id=op.id)

    # -- delivery -----------------------------------------------------------------------------------
    def deliver_due(self, limit: int = 20) -> int:
        now = utcnow()
        with self.db.session() as s:
            candidates = repo.due_deliveries(s, now, limit)
        random.shuffle(candidates)  # dispatchers that listed the same rows try them in different orders
        return sum(1 for ae_id in candidates if self.attempt(ae_id))

    def attempt(self, ae_id: int) -> bool:
        """Claim action execution ``ae_id``, attempt it once and record the outcome. False
        when another dispatcher has it. In-app notifications, operation actions and skips
        are done and recorded in the claiming transaction; an external delivery commits the
        claim first, sends outside any transaction, then records the outcome."""
        settings = self.settings
        started = utcnow()
        with self.db.session() as s:
            lease = started + dt.timedelta(seconds=settings.lease_seconds)
            if not repo.claim_delivery(s, ae_id, self.name, started, lease):
                return False
            ae = s.get(FlowActionExecution, ae_id)
            if ae is None:  # its flow was deleted meanwhile
                return False
            attempt_no = ae.attempts
            ex = ae.flow_execution
            action = ae.action
            if ex.result == "aborted" or action is None:
                self._record(s, ae, attempt_no, started, "skipped", "the execution was aborted or the action deleted")
                return True
            flow = ex.flow
            if action.type == "operation":
                self._run_operation(s, ae, attempt_no, started, action.schedule or {}, flow.id)
                return True
            ctx = dict(ex.context or {})
            text = render(action.tokenized_message, ex.trigger_type, ctx)
            ae.rendered_message = text
            ae.target_url = str(ctx.get("target_link") or "")
            ae.target_uri = action.notification_type or ""
            if action.notification_type == IN_APP:
                self._in_app(s, ae, attempt_no, started, text, ae.target_url)
                return True
            msg = Message(
                notification_type=action.notification_type or "",
                parameters=dict(action.parameters or {}),
                secrets=decrypt_secrets(self.db.secret_key, action.secrets),
                text=text,
                title=subject_for(action.parameters or {}, ex.trigger_type, ctx),
                trigger_type=ex.trigger_type,
                delivery_id=f"assay-{ae.id}",
                flow={"id": flow.id, "name": flow.name},
                context=ctx,
                auth_type=action.auth_type,
                link=ae.target_url or None,
            )
        # outside any transaction: the network call
        try:
            answer = deliver(msg, settings)
            result, message = "success", answer
        except DeliveryError as e:
            result, message = "failure", str(e)
        except Exception as e:  # noqa: BLE001 - an unexpected error is this delivery's failure
            log.exception("delivery of action execution %s failed", ae_id)
            result, message = "failure", f"{type(e).__name__}: {e}"
        with self.db.session() as s:
            ae = s.get(FlowActionExecution, ae_id)
            if ae is not None:
                self._record(s, ae, attempt_no, started, result, message)
        return True

    def _in_app(self, s: Session, ae, attempt_no: int, started, text: str, target_url: str) -> None:
        note = Notification(message=text, target_uri="", target_url=target_url, action_execution_id=ae.id)
        s.add(note)
        s.flush()
        datastore_id = (ae.flow_execution.context or {}).get("datastore_id")
        users = repo.recipients(s, datastore_id)
        for uid in users:
            s.add(UserNotification(user_id=uid, notification_id=note.id))
        self._record(s, ae, attempt_no, started, "success", f"in-app notification {note.id} for {len(users)} user(s)")

    def _run_operation(self, s: Session, ae, attempt_no: int, started, schedule: dict, flow_id: int) -> None:
        try:
            op = queue_operation(s, schedule, flow_id, ae.id)  # validates before it writes anything
        except ValidationError as e:
            self._record(s, ae, attempt_no, started, "failure", f"{'.'.join(map(str, e.loc))}: {e.message}", final=True)
            return
        ae.operation_id = op.id
        self._record(s, ae, attempt_no, started, "success", f"operation {op.id} queued")
        op_id = op.id
        s.commit()
        if self.submit is not None:
            self.submit(op_id)

    def _record(
        self, s: Session, ae, attempt_no: int, started, result: str, message: str | None, final: bool = False
    ) -> None:
        """Record attempt ``attempt_no`` and its outcome on the action execution, unless the
        claim was lost meanwhile (lease expired and another worker took it)."""
        settings = self.settings
        now = utcnow()
        s.add(
            FlowDeliveryAttempt(
                action_execution_id=ae.id,
                attempt=attempt_no,
                worker=self.name,
                start_time=started,
                end_time=now,
                result="failure" if result == "failure" else result,
                message=(message or "")[:4000] or None,
            )
        )
        if ae.result != "running" or ae.claimed_by != self.name or ae.attempts != attempt_no:
            log.warning("action execution %s: claim lost before its attempt %s was recorded", ae.id, attempt_no)
            return
        ae.lease_until = None
        if result == "failure" and not final and attempt_no < settings.max_attempts:
            ae.result = "pending"
            ae.next_attempt_at = now + dt.timedelta(seconds=settings.backoff(attempt_no))
            ae.message = f"attempt {attempt_no} failed, retrying: {message}"[:4000]
        else:
            ae.result = result
            text = (message or "") if result != "failure" else f"failed after {attempt_no} attempt(s): {message}"
            ae.message = text[:4000] or None
            s.flush()
            self._settle(s, ae.flow_execution)

    @staticmethod
    def _settle(s: Session, ex: FlowExecution) -> None:
        """End the execution when none of its action executions is pending or running.

        The execution's row is locked first: two workers finishing the last two actions of
        one execution at once would otherwise each see the other's still running and leave
        the execution running for ever."""
        repo.lock_execution(s, ex.id)
        s.refresh(ex)
        results = repo.open_action_results(s, ex.id)
        if any(r in ("pending", "running") for r in results) or ex.end_time is not None:
            return
        failed = results.count("failure")
        ex.end_time = utcnow()
        ex.result = "failure" if failed else "success"
        ex.message = (
            f"{failed} of {len(results)} action(s) failed"
            if failed
            else f"{results.count('success')} action(s) succeeded"
            + (f", {results.count('skipped')} skipped" if results.count("skipped") else "")
        )


def run_dispatcher_until(db: Database, stop: threading.Event, submit=None) -> None:
    """Run a dispatcher thread until ``stop`` is set (``assay worker``)."""
    dispatcher = Dispatcher(db, submit=submit)
    dispatcher.start()
    stop.wait()
    dispatcher.stop()
