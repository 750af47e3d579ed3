"""Decode Debezium records: change events, transaction markers and snapshot
notifications (JSON converter, with or without `schemas.enable`).

Pure Python, no Flink: unit-tested on recorded event shapes. What matters:
- data events carry `source.table`, `source.txId`, `source.lsn` and, while
  streaming, a `transaction` block whose id is "<txid>:<lsn of this event>",
  so events are correlated by txid, never by the full id;
- transaction-topic events are BEGIN/END with per-collection counts in END
  (a transactional logical message is counted there too, under a collection
  name that is no table);
- snapshot reads (op "r") carry no transaction block; the notification topic
  says how many rows the snapshot scanned per table;
- TRUNCATE (op "t") carries no row images; logical messages (op "m") change no
  table; tombstones (no value) carry nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

# What Debezium puts in a column it could not read (REPLICA IDENTITY too weak).
UNAVAILABLE_VALUE = "__debezium_unavailable_value"
EPOCH = date(1970, 1, 1)


class DecodeError(ValueError):
    """An event that cannot be applied; the message says where and why."""


@dataclass(frozen=True)
class RowChange:
    """One row-level change of a captured table."""

    table: str
    op: str  # c, u, d, r; t for TRUNCATE (no images)
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    txid: int | None
    lsn: int | None
    snapshot: str  # "false" while streaming; first/true/last... during a snapshot
    commit_ts_ms: int | None
    total_order: int | None = None  # position in its transaction, 1-based


@dataclass(frozen=True)
class SnapshotNotification:
    """A record of Debezium's notification channel about the initial snapshot.

    kind: STARTED, IN_PROGRESS, TABLE_SCAN_COMPLETED, COMPLETED, ABORTED, ...
    For TABLE_SCAN_COMPLETED, `table` and `rows` say how many rows of which
    table ("<schema>.<table>") the snapshot emitted."""

    kind: str
    table: str | None = None
    rows: int | None = None


@dataclass(frozen=True)
class TransactionMarker:
    """BEGIN or END of a source transaction, from the transaction topic."""

    status: str  # BEGIN or END
    txid: int
    lsn: int
    event_count: int | None
    table_counts: dict[str, int]
    ts_ms: int | None


def parse_transaction_id(value: str) -> tuple[int, int]:
    """Debezium's Postgres transaction id "<txid>:<lsn>" -> (txid, lsn)."""
    txid, sep, lsn = value.partition(":")
    if not sep or not txid.isdigit() or not lsn.isdigit():
        raise DecodeError(f"transaction id {value!r} is not '<txid>:<lsn>'")
    return int(txid), int(lsn)


Decoded = RowChange | TransactionMarker | SnapshotNotification

# The notification channel's aggregate for the initial snapshot; incremental
# snapshots are another aggregate (and are refused by the assembler).
INITIAL_SNAPSHOT = "Initial Snapshot"


def decode(value: str | bytes | None) -> Decoded | None:
    """Decode one Kafka record value; None for records that change no table
    (tombstones, Debezium's own heartbeats, logical messages)."""
    if value is None:
        return None
    try:
        event = json.loads(value)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DecodeError(f"not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise DecodeError(f"expected a JSON object, got {type(event).__name__}")
    if set(event) == {"schema", "payload"}:
        # JsonConverter with schemas.enable=true wraps every value.
        event = event["payload"]
        if event is None:
            return None
        if not isinstance(event, dict):
            raise DecodeError(f"expected a JSON object as payload, got {type(event).__name__}")
    if "status" in event and "id" in event:
        return _marker(event)
    if "aggregate_type" in event and "type" in event:
        return _notification(event)
    if "op" not in event:
        return None  # heartbeat ({"ts_ms": ...}) or another non-change record
    if event["op"] == "m":
        return None  # a logical message: it changes no table
    return _row_change(event)


def _notification(event: dict[str, Any]) -> SnapshotNotification | None:
    if event["aggregate_type"] != INITIAL_SNAPSHOT:
        if "snapshot" in str(event["aggregate_type"]).lower():
            raise DecodeError(
                f"{event['aggregate_type']} notifications are not supported: only the initial "
                "snapshot can be applied as one atomic epoch"
            )
        return None
    data = event.get("additional_data") or {}
    kind = str(event["type"])
    if kind != "TABLE_SCAN_COMPLETED":
        return SnapshotNotification(kind)
    if data.get("status", "SUCCEEDED") != "SUCCEEDED":
        raise DecodeError(
            f"initial snapshot of {data.get('scanned_collection')} ended with status "
            f"{data.get('status')!r}"
        )
    try:
        rows = int(data["total_rows_scanned"])
        table = str(data["scanned_collection"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DecodeError(f"TABLE_SCAN_COMPLETED without a table and row count: {data}") from exc
    return SnapshotNotification(kind, table, rows)


def _marker(event: dict[str, Any]) -> TransactionMarker:
    status = event["status"]
    if status not in ("BEGIN", "END"):
        raise DecodeError(f"transaction status {status!r} is neither BEGIN nor END")
    txid, lsn = parse_transaction_id(str(event["id"]))
    counts = {
        str(c["data_collection"]): int(c["event_count"])
        for c in (event.get("data_collections") or [])
    }
    count = event.get("event_count")
    return TransactionMarker(
        status, txid, lsn, None if count is None else int(count), counts, event.get("ts_ms")
    )


def _row_change(event: dict[str, Any]) -> RowChange:
    op = event["op"]
    source = event.get("source") or {}
    table = source.get("table")
    if not table:
        raise DecodeError("change event without source.table")
    if op not in ("c", "u", "d", "r", "t"):
        raise DecodeError(f"{table}: operation {op!r} is not supported")
    before, after = event.get("before"), event.get("after")
    if op in ("c", "u", "r") and after is None:
        raise DecodeError(f"{table}: op {op} without an after image")
    if op in ("u", "d") and before is None:
        raise DecodeError(
            f"{table}: op {op} without a before image: the table needs REPLICA IDENTITY FULL"
        )
    for image in (before, after):
        if image and UNAVAILABLE_VALUE in image.values():
            missing = sorted(k for k, v in image.items() if v == UNAVAILABLE_VALUE)
            raise DecodeError(
                f"{table}: column(s) {', '.join(missing)} unavailable (unchanged TOAST value "
                "without REPLICA IDENTITY FULL)"
            )
    lsn = source.get("lsn")
    transaction = event.get("transaction") or {}
    total_order = transaction.get("total_order")
    return RowChange(
        table=str(table),
        op=op,
        before=before,
        after=after,
        txid=source.get("txId"),
        lsn=None if lsn is None else int(lsn),
        snapshot=str(source.get("snapshot", "false")),
        commit_ts_ms=source.get("ts_ms"),
        total_order=None if total_order is None else int(total_order),
    )


def convert(kind: str, value: Any, where: str) -> Any:
    """A Debezium JSON value -> the Python value Flink expects for a column kind."""
    if value is None:
        return None
    try:
        if kind in ("BIGINT", "INT", "SMALLINT"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"expected an integer, got {value!r}")
            return value
        if kind == "STRING":
            if not isinstance(value, str):
                raise TypeError(f"expected a string, got {value!r}")
            return value
        if kind == "BOOLEAN":
            if not isinstance(value, bool):
                raise TypeError(f"expected a boolean, got {value!r}")
            return value
        if kind == "DECIMAL":  # decimal.handling.mode=string
            return Decimal(str(value))
        if kind == "DATE":  # io.debezium.time.Date: days since the epoch
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"expected days since epoch, got {value!r}")
            return EPOCH + timedelta(days=value)
    except (TypeError, InvalidOperation) as exc:
        raise DecodeError(f"{where}: {exc}") from exc
    raise DecodeError(f"{where}: column type {kind} is not supported")
