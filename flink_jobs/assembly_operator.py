"""The transaction assembler as a Flink operator: keyed on one constant key
(parallelism 1), its buffers live in Flink keyed state, so buffered
transactions survive a restart from a checkpoint, none lost or doubled.

Each released transaction leaves in one process_element call: its rows to
the side output of their table, then its marker (commit LSN, txid, commit
time) to the marker output. A checkpoint barrier therefore never splits a
source transaction.

No silent stall: when the same transaction has been waited for longer than
the report interval, the operator logs what it waits for and what is missing
(`catalog-view assembler: waiting for ...`, read by `stack status`), and two
gauges say how many transactions are queued and how long the head has waited.
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
    ReleasedChange,
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
# Changes that cannot be applied, with --bad-records dead-letter (JSON text).
DEAD_LETTER_TAG = OutputTag("dead-letter", Types.STRING())

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


def dead_letter_record(tx: ReleasedTransaction, change: ReleasedChange, reason: str) -> str:
    """What was left out, where it came from and why: enough to replay it by hand."""
    return json.dumps(
        {
            "origin": change.origin,
            "reason": reason,
            "source_txid": tx.txid,
            "commit_lsn": tx.commit_lsn,
            "table": change.table,
            "op": change.op,
            "before": change.before,
            "after": change.after,
        }
    )


class AssembleTransactions(KeyedProcessFunction):  # type: ignore[misc]
    def __init__(
        self,
        specs: dict[str, TableSpec],
        schema: str,
        heartbeat_table: str | None,
        *,
        initial_snapshot: bool,
        stall_report_ms: int,
        dead_letter: bool = False,
    ) -> None:
        self.specs = specs
        self.schema = schema
        self.heartbeat_table = heartbeat_table
        self.initial_snapshot = initial_snapshot
        self.stall_report_ms = stall_report_ms
        # Opt-in: a change whose values do not fit the views is recorded on the
        # dead-letter topic and left out, instead of stopping the watermark.
        self.dead_letter = dead_letter
        self.tags = {name: table_tag(spec) for name, spec in specs.items()}
        self.reported: set[str] = set()
        # Where the queue was (snapshot released, head position), and since when.
        self.progress: tuple[int, int] | None = None
        self.waiting_since_ms = 0
        self.timer_at: int | None = None
        self.queued: int = 0
        self.head_wait_ms: int = 0

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
        self.queued = 0
        self.head_wait_ms = 0
        metrics = runtime_context.get_metrics_group().add_group("catalogview")
        metrics.gauge("queuedTransactions", lambda: self.queued)
        metrics.gauge("headWaitMs", lambda: self.head_wait_ms)

    def process_element(self, value: Row, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        topic, partition, offset, record = value[0], value[1], value[2], value[3]
        origin = RecordOrigin(topic, partition, offset)
        for tx in self.assembler.on_record(record, origin):
            for change in tx.changes:
                spec = self.specs[change.table]
                try:
                    rows = list(table_rows(spec, change.op, change.before, change.after))
                except DecodeError as exc:
                    if not self.dead_letter:
                        raise AssemblyError(f"{change.origin}: {exc}") from exc
                    yield DEAD_LETTER_TAG, dead_letter_record(tx, change, str(exc))
                    continue
                for row in rows:
                    yield self.tags[change.table], row
            yield MARKER_TAG, marker_row(tx)
        self._report_ignored()
        self._watch(ctx)

    def _watch(self, ctx: KeyedProcessFunction.Context) -> None:
        """Note whether the queue moved (cheap, per record); a timer reports
        what the head waits for when it has not moved (costly, rarely)."""
        state = self.assembler.state
        now = ctx.timer_service().current_processing_time()
        progress = (state.counter("snapshot_released"), state.counter("head"))
        if progress != self.progress:
            self.progress = progress
            self.waiting_since_ms = now
        self.queued = state.counter("tail") - state.counter("head")
        self.head_wait_ms = now - self.waiting_since_ms
        if self.timer_at is None:
            self.timer_at = now + self.stall_report_ms
            ctx.timer_service().register_processing_time_timer(self.timer_at)

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterator[Any]:
        self.timer_at = None
        self._watch(ctx)
        waiting = self.assembler.waiting_for()
        if waiting is None:
            self.head_wait_ms = 0
        elif self.head_wait_ms >= self.stall_report_ms:
            logging.warning(
                "catalog-view assembler: waiting for %s (for %.0f s)",
                waiting.what,
                self.head_wait_ms / 1000,
            )
        return iter(())

    def _report_ignored(self) -> None:
        for name in sorted(self.assembler.ignored_collections - self.reported):
            self.reported.add(name)
            logging.warning(
                "catalog-view assembler: source transactions count events of %s, which no "
                "view reads (a logical message or a captured table without sql/sources); "
                "they do not hold transactions back",
                name,
            )
