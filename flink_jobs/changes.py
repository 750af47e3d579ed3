"""Turn decoded Debezium events into Flink changelog rows, one side output per
table, plus a stream of transaction ENDs for the watermark.

Each table's rows carry one extra, last field on their way to the JVM entry
(catalogview.flink.TableChangelogEntry): False for a row change, True for a
TRUNCATE of the table, which the entry turns into the deletion of every row it
holds. The entry strips the field before the SQL sees the rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from pyflink.common import Row, Types
from pyflink.common.types import RowKind
from pyflink.datastream import OutputTag, ProcessFunction

from flink_jobs.debezium import (
    DecodeError,
    SnapshotNotification,
    TransactionMarker,
    convert,
    decode,
)
from flink_jobs.schema import TableSpec, type_info

WATERMARK_TYPE = Types.ROW_NAMED(
    ["commit_lsn", "source_txid", "source_commit_ms"], [Types.LONG(), Types.LONG(), Types.LONG()]
)


def row_kinds(
    op: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> Iterator[tuple[RowKind, dict[str, Any]]]:
    """Debezium op -> Flink row kinds with full images (ChangelogMode.all)."""
    if op in ("c", "r"):
        assert after is not None
        yield RowKind.INSERT, after
    elif op == "u":
        assert before is not None and after is not None
        yield RowKind.UPDATE_BEFORE, before
        yield RowKind.UPDATE_AFTER, after
    elif op == "d":
        assert before is not None
        yield RowKind.DELETE, before


TRUNCATE_FIELD = "__truncate"


def to_row(spec: TableSpec, kind: RowKind, image: dict[str, Any]) -> Row:
    missing = [c.name for c in spec.columns if c.name not in image]
    if missing:
        raise DecodeError(
            f"{spec.name}: event lacks column(s) {', '.join(missing)} that the views read "
            "(dropped or renamed in the source? see docs/operations.md, 'Schema changes')"
        )
    values = [convert(c.kind, image[c.name], f"{spec.name}.{c.name}") for c in spec.columns]
    row = Row(*values, False)
    row.set_row_kind(kind)
    return row


def truncate_row(spec: TableSpec) -> Row:
    """The marker of a TRUNCATE of the table: no image, the last field True."""
    row = Row(*([None] * len(spec.columns)), True)
    row.set_row_kind(RowKind.DELETE)
    return row


def table_rows(spec: TableSpec, op: str, before: Any, after: Any) -> Iterator[Row]:
    """The side-output rows of one change event of the table."""
    if op == "t":
        yield truncate_row(spec)
        return
    for kind, image in row_kinds(op, before, after):
        yield to_row(spec, kind, image)


class RouteChanges(ProcessFunction):  # type: ignore[misc]
    """Decode each record and send its rows to the side output of its table."""

    def __init__(self, specs: dict[str, TableSpec], schema: str) -> None:
        self.specs = specs
        self.tags = {name: table_tag(spec) for name, spec in specs.items()}
        self.collections = {f"{schema}.{name}" for name in specs}

    def process_element(self, value: str, ctx: ProcessFunction.Context) -> Iterator[Any]:
        event = decode(value)
        if isinstance(event, TransactionMarker):
            # Like the aligned job, the watermark names catalog transactions
            # only: a heartbeat's END (it touched no catalog table) is skipped.
            if event.status == "END" and self.collections.intersection(event.table_counts):
                yield WATERMARK_TAG, Row(event.lsn, event.txid, event.ts_ms)
            return
        if event is None or isinstance(event, SnapshotNotification):
            return
        spec = self.specs.get(event.table)
        if spec is None:
            raise DecodeError(f"event for table {event.table!r}, which the job does not know")
        for row in table_rows(spec, event.op, event.before, event.after):
            yield self.tags[event.table], row


def table_tag(spec: TableSpec) -> OutputTag:
    marked = Types.ROW_NAMED(
        [*spec.column_names, TRUNCATE_FIELD], [*type_info(spec).get_field_types(), Types.BOOLEAN()]
    )
    return OutputTag(f"table-{spec.name}", marked)


WATERMARK_TAG = OutputTag("watermark", WATERMARK_TYPE)


def millis_to_datetime(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
