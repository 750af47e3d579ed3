"""The transaction assembler as a Flink operator: keyed on one constant key
(parallelism 1), its buffers live in Flink keyed state, so buffered
transactions survive a restart from a checkpoint, none lost or doubled.

Each released transaction leaves in one process_element call: its rows to
the side output of their table, then its marker (commit LSN, txid, commit
time) to the marker output. A checkpoint barrier therefore never splits a
source transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row, Types
from pyflink.datastream import KeyedProcessFunction, OutputTag, RuntimeContext
from pyflink.datastream.state import MapStateDescriptor

from flink_jobs.assembly import (
    AssemblerState,
    AssemblyError,
    RecordOrigin,
    ReleasedTransaction,
    TransactionAssembler,
)
from flink_jobs.changes import table_rows, table_tag
from flink_jobs.debezium import DecodeError
from flink_jobs.schema import TableSpec

MARKER_VIEW = "__watermark"
COMMIT_ROW_TYPE = Types.ROW_NAMED(
    ["view_name", "row_key", "payload"], [Types.STRING(), Types.STRING(), Types.STRING()]
)
MARKER_TAG = OutputTag("transaction-markers", COMMIT_ROW_TYPE)

_STATE_TYPES = {
    "events": (Types.STRING(), Types.STRING()),
    "received": (Types.LONG(), Types.LONG()),
    "ends": (Types.LONG(), Types.STRING()),
    "queued": (Types.LONG(), Types.LONG()),
    "released": (Types.LONG(), Types.LONG()),
    "released_ring": (Types.LONG(), Types.LONG()),
    "snapshot": (Types.STRING(), Types.STRING()),
    "snapshot_counts": (Types.STRING(), Types.LONG()),
    "snapshot_expected": (Types.STRING(), Types.LONG()),
    "meta": (Types.STRING(), Types.LONG()),
}


def marker_row(tx: ReleasedTransaction) -> Row:
    # The watermark names the state (last catalog transaction) at the position
    # of this transaction: a heartbeat moves the position, not the state.
    payload = json.dumps({"source_txid": tx.state_txid, "source_commit_ms": tx.commit_ts_ms})
    return Row(MARKER_VIEW, str(tx.commit_lsn), payload)


class AssembleTransactions(KeyedProcessFunction):  # type: ignore[misc]
    def __init__(
        self,
        specs: dict[str, TableSpec],
        schema: str,
        heartbeat_table: str | None,
        *,
        initial_snapshot: bool,
    ) -> None:
        self.specs = specs
        self.schema = schema
        self.heartbeat_table = heartbeat_table
        self.initial_snapshot = initial_snapshot
        self.tags = {name: table_tag(spec) for name, spec in specs.items()}
        self.reported: set[str] = set()

    def open(self, runtime_context: RuntimeContext) -> None:
        maps = {
            name: runtime_context.get_map_state(MapStateDescriptor(name, key_type, value_type))
            for name, (key_type, value_type) in _STATE_TYPES.items()
        }
        self.assembler = TransactionAssembler(
            AssemblerState(maps),
            set(self.specs),
            self.schema,
            self.heartbeat_table,
            initial_snapshot=self.initial_snapshot,
        )

    def process_element(self, value: Row, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        topic, partition, offset, record = value[0], value[1], value[2], value[3]
        origin = RecordOrigin(topic, partition, offset)
        for tx in self.assembler.on_record(record, origin):
            for change in tx.changes:
                spec = self.specs[change.table]
                try:
                    rows = list(table_rows(spec, change.op, change.before, change.after))
                except DecodeError as exc:
                    raise AssemblyError(f"{change.origin}: {exc}") from exc
                for row in rows:
                    yield self.tags[change.table], row
            yield MARKER_TAG, marker_row(tx)
        self._report_ignored()

    def _report_ignored(self) -> None:
        for name in sorted(self.assembler.ignored_collections - self.reported):
            self.reported.add(name)
            logging.warning(
                "catalog-view assembler: source transactions count events of %s, which no "
                "view reads (a logical message or a captured table without sql/sources); "
                "they do not hold transactions back",
                name,
            )
