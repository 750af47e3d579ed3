"""Transaction assembly: from the table topics and the transaction topic,
release whole source transactions strictly in commit order.

Kafka gives no order across topics or partitions; Debezium's transaction topic
(one partition) gives the commit order and, in each END, how many events each
transaction has. So change events are buffered by txid until the END at the
head of the queue has all of its events; then the whole transaction is released
in ONE call, so that no checkpoint barrier can fall inside it.

- data events carry `transaction.total_order` (1..event_count), which is both
  their position and their de-duplication key (Debezium redelivers after a
  Connect restart);
- END with event_count 0 releases at once, advancing the watermark;
- a transaction with no catalog change (only the heartbeat table, which
  Debezium's heartbeat.action.query writes, or no captured event at all)
  changes no view: it advances the commit position, while the watermark keeps
  naming the last transaction whose state the views show (`state_txid`);
- released txids are remembered (a bounded window) so redelivered events and
  ENDs of transactions already applied are dropped;
- the initial snapshot (op r, no transaction block) is one atomic epoch closed
  by the record Debezium marks `snapshot: last`.

The logic is plain Python over a small state interface, unit-tested with dicts;
flink_jobs.assembly_operator binds it to Flink keyed state (checkpointed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from flink_jobs.debezium import DecodeError, RowChange, TransactionMarker, decode

# How many released txids are remembered to drop redeliveries. Connect
# redelivers from its last flushed offset (seconds of changes), far fewer.
RELEASED_WINDOW = 200_000


class MapStore(Protocol):
    def get(self, key: Any) -> Any: ...
    def put(self, key: Any, value: Any) -> None: ...
    def remove(self, key: Any) -> None: ...
    def contains(self, key: Any) -> bool: ...
    def items(self) -> Any: ...
    def clear(self) -> None: ...


@dataclass(frozen=True)
class RecordOrigin:
    """Where a Kafka record came from, for error messages."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"topic {self.topic} partition {self.partition} offset {self.offset}"


@dataclass(frozen=True)
class ReleasedChange:
    table: str
    op: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    origin: str  # the Kafka record it came from, for error messages


@dataclass(frozen=True)
class ReleasedTransaction:
    """A whole source transaction (or the snapshot epoch), in commit order."""

    txid: int
    commit_lsn: int
    commit_ts_ms: int | None
    changes: list[ReleasedChange]  # catalog changes only; the heartbeat's are dropped
    # The last released transaction that changed catalog tables (this one if it
    # did): the source state the views show once this transaction is applied.
    state_txid: int | None


class AssemblyError(DecodeError):
    """An event that cannot be assembled; names where it came from and why."""


class AssemblerState:
    """The assembler's state as named maps (Flink MapState or dicts in tests).

    events:   "<txid>/<total_order>" -> event JSON (buffered change events)
    received: txid -> number of distinct events buffered
    ends:     queue position -> END JSON; `meta` holds head/tail positions
    queued:   txid -> queue position (drops duplicate ENDs)
    released: txid -> release sequence; released_ring: sequence -> txid
    snapshot: "<table>/<key JSON>" -> event JSON (the initial snapshot epoch)
    meta:     counters and flags
    """

    def __init__(self, maps: dict[str, MapStore]) -> None:
        self.events = maps["events"]
        self.received = maps["received"]
        self.ends = maps["ends"]
        self.queued = maps["queued"]
        self.released = maps["released"]
        self.released_ring = maps["released_ring"]
        self.snapshot = maps["snapshot"]
        self.meta = maps["meta"]

    MAP_NAMES = ("events", "received", "ends", "queued", "released", "released_ring", "snapshot",
                 "meta")  # fmt: skip

    def counter(self, name: str) -> int:
        value = self.meta.get(name)
        return 0 if value is None else int(value)

    def set_counter(self, name: str, value: int) -> None:
        self.meta.put(name, value)


def _change_json(change: RowChange, origin: RecordOrigin) -> str:
    return json.dumps([change.table, change.op, change.before, change.after, str(origin)])


def _released_change(text: str) -> ReleasedChange:
    table, op, before, after, origin = json.loads(text)
    return ReleasedChange(table, op, before, after, origin)


class TransactionAssembler:
    def __init__(
        self, state: AssemblerState, tables: set[str], schema: str, heartbeat_table: str | None
    ) -> None:
        self.state = state
        self.tables = tables
        self.schema = schema
        self.heartbeat_table = heartbeat_table

    def on_record(self, value: str | None, origin: RecordOrigin) -> Iterator[ReleasedTransaction]:
        """Feed one Kafka record; yields the transactions it completes, in order."""
        try:
            event = decode(value)
        except DecodeError as exc:
            raise AssemblyError(f"{origin}: {exc}") from exc
        if event is None:
            return
        if isinstance(event, TransactionMarker):
            if event.status == "END":
                self._on_end(event)
        else:
            self._on_change(event, origin)
        yield from self._release_ready()

    def _on_change(self, change: RowChange, origin: RecordOrigin) -> None:
        if change.table not in self.tables and change.table != self.heartbeat_table:
            raise AssemblyError(f"{origin}: change of table {change.table!r}, not a catalog table")
        if change.op == "r":
            self._on_snapshot_read(change, origin)
            return
        if change.txid is None or change.total_order is None:
            raise AssemblyError(f"{origin}: streamed change without a transaction block")
        if self.state.released.contains(change.txid):
            return  # redelivered after its transaction was applied
        key = f"{change.txid}/{change.total_order}"
        if self.state.events.contains(key):
            return  # redelivered while still buffered
        self.state.events.put(key, _change_json(change, origin))
        self.state.received.put(change.txid, (self.state.received.get(change.txid) or 0) + 1)

    def _on_snapshot_read(self, change: RowChange, origin: RecordOrigin) -> None:
        if self.state.counter("snapshot_released"):
            raise AssemblyError(
                f"{origin}: snapshot row of {change.table} after the snapshot epoch was applied "
                "(the epoch closes at Debezium's 'last' snapshot record)"
            )
        assert change.after is not None
        key = f"{change.table}/{json.dumps(change.after.get('id'))}"
        if not self.state.snapshot.contains(key):
            self.state.set_counter("snapshot_rows", self.state.counter("snapshot_rows") + 1)
        self.state.snapshot.put(key, _change_json(change, origin))
        self.state.set_counter("snapshot_txid", change.txid or 0)
        self.state.set_counter("snapshot_lsn", change.lsn or 0)
        if change.snapshot == "last":
            self.state.set_counter("snapshot_complete", 1)

    def _on_end(self, end: TransactionMarker) -> None:
        if self.state.released.contains(end.txid) or self.state.queued.contains(end.txid):
            return  # a redelivered END
        tail = self.state.counter("tail")
        self.state.ends.put(tail, json.dumps([end.txid, end.lsn, end.event_count or 0,
                                              end.table_counts, end.ts_ms]))  # fmt: skip
        self.state.queued.put(end.txid, tail)
        self.state.set_counter("tail", tail + 1)

    def _snapshot_in_progress(self) -> bool:
        return bool(self.state.counter("snapshot_rows")) and not self.state.counter(
            "snapshot_complete"
        )

    def _release_ready(self) -> Iterator[ReleasedTransaction]:
        if self.state.counter("snapshot_complete") and not self.state.counter("snapshot_released"):
            yield self._release_snapshot()
        if self._snapshot_in_progress():
            return  # streamed transactions come after the snapshot epoch
        while True:
            head = self.state.counter("head")
            text = self.state.ends.get(head)
            if text is None:
                return
            txid, lsn, count, table_counts, ts_ms = json.loads(text)
            if (self.state.received.get(txid) or 0) < count:
                return
            yield self._release(txid, lsn, count, table_counts, ts_ms)
            self.state.ends.remove(head)
            self.state.queued.remove(txid)
            self.state.set_counter("head", head + 1)

    def _release(self, txid: int, lsn: int, count: int, table_counts: dict[str, int],
                 ts_ms: int | None) -> ReleasedTransaction:  # fmt: skip
        changes: list[ReleasedChange] = []
        for order in range(1, count + 1):
            key = f"{txid}/{order}"
            text = self.state.events.get(key)
            if text is None:
                raise AssemblyError(f"transaction {txid}: event {order} of {count} is missing")
            changes.append(_released_change(text))
            self.state.events.remove(key)
        if count:
            self.state.received.remove(txid)
        seen: dict[str, int] = {}
        for change in changes:
            name = f"{self.schema}.{change.table}"
            seen[name] = seen.get(name, 0) + 1
        if table_counts and seen != table_counts:
            raise AssemblyError(
                f"transaction {txid}: END counts {table_counts} but received {seen}"
            )
        self._remember_released(txid)
        catalog = [c for c in changes if c.table != self.heartbeat_table]
        if catalog:
            self.state.set_counter("state_txid", txid)
        return ReleasedTransaction(txid, lsn, ts_ms, catalog, self._state_txid())

    def _release_snapshot(self) -> ReleasedTransaction:
        changes = [_released_change(text) for _, text in self.state.snapshot.items()]
        self.state.snapshot.clear()
        self.state.set_counter("snapshot_released", 1)
        txid = self.state.counter("snapshot_txid")
        self.state.set_counter("state_txid", txid)
        return ReleasedTransaction(
            txid, self.state.counter("snapshot_lsn"), None, changes, self._state_txid()
        )

    def _state_txid(self) -> int | None:
        value = self.state.meta.get("state_txid")
        return None if value is None else int(value)

    def _remember_released(self, txid: int) -> None:
        seq = self.state.counter("released_seq")
        self.state.released.put(txid, seq)
        self.state.released_ring.put(seq, txid)
        self.state.set_counter("released_seq", seq + 1)
        oldest = seq - RELEASED_WINDOW
        if oldest >= 0:
            old_txid = self.state.released_ring.get(oldest)
            if old_txid is not None:
                self.state.released.remove(old_txid)
                self.state.released_ring.remove(oldest)
