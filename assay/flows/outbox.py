"""The two hooks that record flow events, each called inside the transaction that commits
what it reports (so an event exists exactly when its cause does):

* :func:`record_operation_finished` — in the runner's finish transaction
  (``operations/progress.finish``), for every operation end;
* :func:`record_scan_anomalies` — in a container scan's persist transaction
  (``operations/scan``), once per scan: the first container that records anomalies
  writes the scan's single digest event, which the dispatcher releases when the scan has
  ended, with every anomaly the scan recorded.

Both write nothing when no active flow has that trigger, so an instance without flows pays
one indexed lookup per operation.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from . import repository as repo
from .models import FlowEvent
from .templating import ANOMALY, OPERATION


def record_operation_finished(s: Session, operation_id: int, result: str) -> None:
    if repo.has_active_flows(s, OPERATION):
        s.add(FlowEvent(kind="operation", operation_id=operation_id, payload={"result": result}))


def record_scan_anomalies(s: Session, operation_id: int) -> None:
    if repo.has_active_flows(s, ANOMALY) and repo.anomaly_event_of(s, operation_id) is None:
        s.add(FlowEvent(kind="anomaly", operation_id=operation_id, payload={}))
