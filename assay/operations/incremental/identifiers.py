"""A container's incremental identifier: proposed from its fields' names and types at
sync (:func:`propose_identifier`), and set or changed through the API (:func:`set_identifiers`).
"""

from __future__ import annotations

from typing import Any

from .checkpoints import BATCH, TIMESTAMP, checkpoint_setting

#: Pseudo-field naming a file's last-modified time as the incremental identifier of a file pattern.
LAST_MODIFIED = "_last_modified"


_TIME_NAMES = (
    "updated_at",
    "modified_at",
    "last_modified",
    "last_updated",
    "updated",
    "modified",
    "created_at",
    "inserted_at",
    "loaded_at",
    "ingested_at",
    "created",
    "event_time",
    "timestamp",
)


_BATCH_NAMES = ("batch_id", "batch", "load_id", "batch_number", "etl_batch", "etl_batch_id", "ingestion_batch")


def propose_identifier(container_type: str, fields: list[tuple[str, str]]) -> tuple[str, str] | None:
    """Sync's proposal of (incremental_field_name, incremental_identifier_type) from the
    container's (field name, Assay type) pairs, or None.

    File patterns: their last-modified time. Tables: the first Timestamp/Date field named
    like ``updated_at``/``created_at`` (see ``_TIME_NAMES``, then any ``*_at``/``*_time``
    Timestamp), else an Integral field named like ``batch_id``/``load_id``.
    """
    if container_type == "file":
        return LAST_MODIFIED, TIMESTAMP
    by_lower = {name.lower(): (name, ftype) for name, ftype in fields}
    for wanted in _TIME_NAMES:
        name, ftype = by_lower.get(wanted, (None, None))
        if name and ftype in ("Timestamp", "Date"):
            return name, TIMESTAMP
    for name, ftype in fields:
        if ftype == "Timestamp" and name.lower().endswith(("_at", "_time", "_ts")):
            return name, TIMESTAMP
    for wanted in _BATCH_NAMES:
        name, ftype = by_lower.get(wanted, (None, None))
        if name and ftype == "Integral":
            return name, BATCH
    return None


IDENTIFIER_SETTINGS = (
    "incremental_field_name",
    "incremental_identifier_type",
    "partition_field",
    "incremental_checkpoint",
)


_TYPE_ALIASES = {"last-modified": TIMESTAMP, "batch-value": BATCH}


def set_identifiers(container, changes: dict[str, Any]) -> None:
    """Apply a user's ``incremental_field_name`` / ``incremental_identifier_type`` /
    ``partition_field`` (``None`` clears) to ``container``; from then on sync leaves them.
    ``incremental_checkpoint`` moves (or, with ``None``, clears) the checkpoint: ISO 8601
    text for a timestamp identifier, a number for a batch one.

    The identifier type defaults from the field (Date/Timestamp → timestamp, numeric →
    batch); a new identifier field resets the checkpoint.

    Raises: RuleDefinitionError naming the setting when a field is unknown or its type
    does not fit the identifier type.
    """
    from ...engine.rules import RuleDefinitionError

    if set(changes) == {"incremental_checkpoint"}:  # moving the checkpoint leaves the identifier to sync
        container.incremental_checkpoint = checkpoint_setting(
            container.incremental_identifier_type, changes["incremental_checkpoint"]
        )
        return
    types = {f.name: f.type for f in container.fields}
    if container.container_type == "file":
        types[LAST_MODIFIED] = "Timestamp"
    name = changes.get("incremental_field_name", container.incremental_field_name)
    kind = changes.get(
        "incremental_identifier_type",
        container.incremental_identifier_type if "incremental_field_name" not in changes else None,
    )
    kind = _TYPE_ALIASES.get(kind, kind) if kind is not None else None
    if name is not None:
        if name not in types:
            raise RuleDefinitionError(
                ("incremental_field_name",), f"'{name}' is not a field of container {container.name}"
            )
        ftype = types[name]
        if kind is None:
            kind = (
                TIMESTAMP if ftype in ("Date", "Timestamp") else BATCH if ftype in ("Integral", "Fractional") else None
            )
        fits = {TIMESTAMP: ("Date", "Timestamp"), BATCH: ("Integral", "Fractional")}
        if kind is None:
            raise RuleDefinitionError(
                ("incremental_field_name",),
                f"field '{name}' is {ftype}: an incremental "
                "identifier must be a Date/Timestamp (timestamp) or numeric (batch) field",
            )
        if ftype not in fits[kind]:
            raise RuleDefinitionError(
                ("incremental_identifier_type",),
                f"field '{name}' is {ftype}: a {kind} identifier must be a {' or '.join(fits[kind])} field",
            )
    else:
        kind = None
    partition_field = changes.get("partition_field", container.partition_field)
    if partition_field is not None and partition_field not in types:
        raise RuleDefinitionError(
            ("partition_field",), f"'{partition_field}' is not a field of container {container.name}"
        )
    if name != container.incremental_field_name or kind != container.incremental_identifier_type:
        container.incremental_checkpoint = None
    container.incremental_field_name, container.incremental_identifier_type = name, kind
    container.partition_field = partition_field
    container.identifiers_set_by = "user"
    if "incremental_checkpoint" in changes:
        container.incremental_checkpoint = checkpoint_setting(kind, changes["incremental_checkpoint"])
