"""The statuses and results Assay stores and answers, as ``StrEnum``s, in one place.

Each member *is* its string (``OperationResult.SUCCESS == "success"``), so the values in
the metadata store and in API answers are exactly the Qualytics API's strings; compare
and assign members instead of repeating the bare strings.
"""

from __future__ import annotations

from enum import StrEnum


class OperationResult(StrEnum):
    """``result`` of an operation (``Operation.result``), of one container's scan
    (``ContainerScan.result``) and of one container's profile (``ContainerProfile.result``)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILURE = "failure"
    ABORTED = "aborted"


#: Results of an operation that has not ended.
UNFINISHED_RESULTS = (OperationResult.QUEUED, OperationResult.RUNNING)


class AnomalyStatus(StrEnum):
    """``status`` of an anomaly: open (``Active``, ``Acknowledged``) or archived."""

    ACTIVE = "Active"
    ACKNOWLEDGED = "Acknowledged"
    RESOLVED = "Resolved"
    DUPLICATE = "Duplicate"
    INVALID = "Invalid"
    DISCARDED = "Discarded"


#: Anomaly statuses that are open (a scan may still resolve or duplicate them).
OPEN_ANOMALY_STATUSES = (AnomalyStatus.ACTIVE, AnomalyStatus.ACKNOWLEDGED)
#: Anomaly statuses that are archived.
ARCHIVED_ANOMALY_STATUSES = (
    AnomalyStatus.RESOLVED,
    AnomalyStatus.DUPLICATE,
    AnomalyStatus.INVALID,
    AnomalyStatus.DISCARDED,
)


class CheckStatus(StrEnum):
    """``status`` of a quality check: asserted by scans (``Active``), inferred for review
    (``Draft``), or archived (``Invalid``, ``Discarded``)."""

    ACTIVE = "Active"
    DRAFT = "Draft"
    INVALID = "Invalid"
    DISCARDED = "Discarded"


class CheckResult(StrEnum):
    """What one check concluded on one container read (``engine.plan.CheckOutcome.result``):
    ``unasserted`` when it could not run (its ``error`` says why)."""

    PASSED = "passed"
    FAILED = "failed"
    UNASSERTED = "unasserted"


#: Check results that asserted something (a measurement or a pass/fail).
ASSERTED_RESULTS = (CheckResult.PASSED, CheckResult.FAILED)


class AnomalyType(StrEnum):
    """``anomaly_type`` of an anomaly: one or more failing records, or the container's shape."""

    RECORD = "record"
    SHAPE = "shape"
