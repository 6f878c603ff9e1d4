"""The statuses of ``assay/domain.py`` are exactly the strings the API answers and the
metadata store holds."""

from __future__ import annotations

import json

from assay.domain import (
    ARCHIVED_ANOMALY_STATUSES,
    ASSERTED_RESULTS,
    OPEN_ANOMALY_STATUSES,
    AnomalyStatus,
    AnomalyType,
    CheckResult,
    CheckStatus,
    OperationResult,
)


def test_values_are_the_api_strings():
    assert [m.value for m in OperationResult] == ["queued", "running", "success", "failure", "aborted"]
    assert [m.value for m in AnomalyStatus] == [
        "Active",
        "Acknowledged",
        "Resolved",
        "Duplicate",
        "Invalid",
        "Discarded",
    ]
    assert [m.value for m in CheckStatus] == ["Active", "Draft", "Invalid", "Discarded"]
    assert [m.value for m in CheckResult] == ["passed", "failed", "unasserted"]
    assert [m.value for m in AnomalyType] == ["record", "shape"]
    assert OPEN_ANOMALY_STATUSES == ("Active", "Acknowledged")
    assert ARCHIVED_ANOMALY_STATUSES == ("Resolved", "Duplicate", "Invalid", "Discarded")
    assert ASSERTED_RESULTS == ("passed", "failed")


def test_a_member_is_its_string_everywhere_it_is_written():
    assert OperationResult.SUCCESS == "success"
    assert str(AnomalyStatus.ACTIVE) == "Active"
    assert f"{CheckResult.UNASSERTED}" == "unasserted"
    assert json.dumps({"result": OperationResult.ABORTED, "status": CheckStatus.DRAFT}) == (
        '{"result": "aborted", "status": "Draft"}'
    )
    assert {"shape": 1}[AnomalyType.SHAPE] == 1
