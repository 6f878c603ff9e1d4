"""What a scan reads of a container: incremental identifiers, partitions and the cap.

Semantics (docs/semantics.md "Incremental scans and partitions"):

* A container's **incremental identifier** is ``incremental_field_name`` with
  ``incremental_identifier_type`` ``timestamp`` (a Date/Timestamp field) or ``batch`` (a
  numeric field). File patterns use the pseudo-field :data:`LAST_MODIFIED`, each file's
  last-modified time.
* An incremental scan reads the rows whose identifier is strictly greater than the
  threshold: ``greater_than_time`` (timestamp identifiers) or ``greater_than_batch``
  (batch identifiers) when the scan gives one, else the container's
  ``incremental_checkpoint``; the first incremental scan (no checkpoint) reads everything.
  A full scan honours ``greater_than_*`` too but never the checkpoint. A container without
  an identifier is read in full, and its container scan says so.
* **Partitions**: a file pattern's partitions are its files; a batch identifier (or
  partition field) gives one partition per value; a timestamp one partition per UTC day.
  A container with neither is one partition.
* ``max_records_analyzed_per_partition`` keeps, per partition, the first rows in the order
  of up to 16 orderable columns, so a rerun reads the same rows.
* After a **successful** container scan, the checkpoint becomes the highest identifier
  value read (never lower than it was).

The package: ``identifiers`` (proposal and settings of the incremental identifier),
``checkpoints`` (checkpoint conversion) and ``reads`` (read planning).
"""

from __future__ import annotations

from .checkpoints import BATCH, TIMESTAMP, checkpoint_json, checkpoint_value
from .identifiers import IDENTIFIER_SETTINGS, LAST_MODIFIED, propose_identifier, set_identifiers
from .reads import MAX_PARTITION_RECORDS, PARTITION_COLUMN, PartitionRead, Read, plan_read

__all__ = [
    "BATCH",
    "IDENTIFIER_SETTINGS",
    "LAST_MODIFIED",
    "MAX_PARTITION_RECORDS",
    "PARTITION_COLUMN",
    "TIMESTAMP",
    "PartitionRead",
    "Read",
    "checkpoint_json",
    "checkpoint_value",
    "plan_read",
    "propose_identifier",
    "set_identifiers",
]
