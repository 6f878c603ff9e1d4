"""Measurement history of time-series checks (metric, volumetric, freshness,
absoluteChangeLimit, relativeChangeLimit), kept in the metadata store.

``attach`` fills ``CheckSpec.history`` before a container is scanned; ``record`` stores
this scan's measurements after the container scan succeeded.
"""

from __future__ import annotations

from typing import Any


def attach(session, container_id: int, specs: list) -> None:
    """Fill ``spec.history`` of each time-series check in ``specs`` (oldest first)."""
    return None


def record(session, container_id: int, op_id: int, outcomes: list[Any]) -> None:
    """Store the measurement of every asserted time-series check of ``outcomes``."""
    return None
