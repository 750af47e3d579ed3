"""Transaction assembly: from the table topics, the transaction topic and the
snapshot notifications, release whole source transactions strictly in commit
order.

Kafka gives no order across topics or partitions; Debezium's transaction topic
(one partition) gives the commit order and, in each END, how many events each
transaction has per collection. So change events are buffered by txid until
the END at the head of the queue has all of its events; then the whole
transaction is released in ONE call, so that no checkpoint barrier can fall
inside it.

- completeness counts only the collections the job reads (its tables and the
  heartbeat table): END also counts transactional logical messages and
  captured tables that no view reads, whose records the job never sees;
- data events carry `transaction.total_order`, which is both their position
  and their de-duplication key (Debezium redelivers after a Connect restart);
- END with no event of a read collection releases at once;
- a transaction with no catalog change (only the heartbeat table, which
  Debezium's heartbeat.action.query writes) changes no view: it advances the
  commit position, while the watermark keeps naming the last transaction
  whose state the views show (`state_txid`);
- released txids are remembered (a bounded window) so redelivered events and
  ENDs of transactions already applied are dropped;
- the initial snapshot (op r, no transaction block) is one atomic epoch. Its
  rows are buffered per snapshot run (the snapshot's LSN and txid: a Connect
  restart in the middle of a snapshot starts a new run). The epoch closes when
  the notification topic (one partition, so in order) has said COMPLETED for
  the latest run and, for some run, the distinct rows received per table
  equal the TABLE_SCAN_COMPLETED counts: a rule that does not depend on the
  order in which partitions are read. Streamed transactions wait for it;
  those whose commit LSN lies below the snapshot's are already in it;
- a TRUNCATE is a change like any other here, released in its transaction's
  order; the table's JVM entry applies it (flink_jobs.changes);
- what cannot be applied in place stops the job with an error naming the
  record and the recovery: a new snapshot after the epoch was applied, an
  incremental snapshot.

The logic is plain Python over a small state interface, unit-tested with dicts;
flink_jobs.assembly_operator binds it to Flink keyed state (checkpointed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from flink_jobs.debezium import (
    DecodeError,
    RowChange,
    SnapshotNotification,
    TransactionMarker,
    decode,
)

# How many released txids are remembered to drop redeliveries. Connect
# redelivers from its last flushed offset (seconds of changes), far fewer.
RELEASED_WINDOW = 200_000

RESNAPSHOT_HINT = (
    "the views cannot be corrected in place: run `catalog-view resnapshot`, which takes a new "
    "initial snapshot into the store (docs/operations.md)"
)


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
    snapshot: "<run>/<table>/<key JSON>" -> event JSON (initial snapshot rows)
    snapshot_counts:   "<run>/<table>" -> distinct rows buffered of that run
    snapshot_expected: "<schema>.<table>" -> rows the latest run scanned
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
        self.snapshot_counts = maps["snapshot_counts"]
        self.snapshot_expected = maps["snapshot_expected"]
        self.meta = maps["meta"]

    MAP_NAMES = ("events", "received", "ends", "queued", "released", "released_ring", "snapshot",
                 "snapshot_counts", "snapshot_expected", "meta")  # fmt: skip

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


def _run_id(change: RowChange) -> tuple[int, int]:
    """A snapshot run: its position, then its transaction (a later run of the
    same slot position has a later txid)."""
    return change.lsn or 0, change.txid or 0


def _run_key(run: tuple[int, int]) -> str:
    return f"{run[0]}:{run[1]}"


# Prefixes of the meta counters kept per snapshot run.
_PER_RUN = ("snapshot_ts/", "snapshot_total/")


def _parse_run(text: str) -> tuple[int, int]:
    lsn, _, txid = text.partition(":")
    return int(lsn), int(txid)


@dataclass(frozen=True)
class Waiting:
    """What the assembler waits for, for the stall report."""

    what: str


class TransactionAssembler:
    def __init__(
        self,
        state: AssemblerState,
        tables: set[str],
        schema: str,
        heartbeat_table: str | None,
        *,
        initial_snapshot: bool = True,
    ) -> None:
        self.state = state
        self.tables = tables
        self.schema = schema
        self.heartbeat_table = heartbeat_table
        # With an initial snapshot (Debezium's snapshot.mode=initial) no streamed
        # transaction may be released before the snapshot epoch.
        self.initial_snapshot = initial_snapshot
        read = set(tables) | ({heartbeat_table} if heartbeat_table else set())
        self.read_collections = {f"{schema}.{t}" for t in read}
        # Collections counted in ENDs that the job does not read (logical
        # messages, captured tables no view uses): reported once each.
        self.ignored_collections: set[str] = set()

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
        elif isinstance(event, SnapshotNotification):
            self._on_notification(event, origin)
        else:
            self._on_change(event, origin)
        yield from self._release_ready()

    # -- streamed changes -------------------------------------------------

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

    def _on_end(self, end: TransactionMarker) -> None:
        if self.state.released.contains(end.txid) or self.state.queued.contains(end.txid):
            return  # a redelivered END
        tail = self.state.counter("tail")
        self.state.ends.put(tail, json.dumps([end.txid, end.lsn, end.event_count or 0,
                                              end.table_counts, end.ts_ms]))  # fmt: skip
        self.state.queued.put(end.txid, tail)
        self.state.set_counter("tail", tail + 1)

    def _read_counts(self, table_counts: dict[str, int]) -> dict[str, int]:
        """END's counts restricted to the collections whose records the job reads."""
        for name in table_counts:
            if name not in self.read_collections:
                self.ignored_collections.add(name)
        return {k: v for k, v in table_counts.items() if k in self.read_collections}

    # -- the initial snapshot ---------------------------------------------

    def _on_snapshot_read(self, change: RowChange, origin: RecordOrigin) -> None:
        if change.snapshot == "incremental":
            raise AssemblyError(
                f"{origin}: incremental snapshot row of {change.table}: incremental snapshots "
                f"interleave with streaming and cannot be applied atomically; {RESNAPSHOT_HINT}"
            )
        if change.after is None:
            raise AssemblyError(f"{origin}: snapshot row of {change.table} without an after image")
        run = _run_id(change)
        if self.state.counter("snapshot_released"):
            released = (self.state.counter("snapshot_lsn"), self.state.counter("snapshot_txid"))
            if run <= released:
                return  # a redelivered row, or a late row of an abandoned run
            raise AssemblyError(
                f"{origin}: snapshot row of {change.table} from a new snapshot (lsn {run[0]}, "
                f"txid {run[1]}) after the snapshot epoch (lsn {released[0]}, txid "
                f"{released[1]}) was applied: the connector snapshotted again (its offsets were "
                f"lost or it was re-created); {RESNAPSHOT_HINT}"
            )
        key = f"{_run_key(run)}/{change.table}/{json.dumps(change.after.get('id'))}"
        if not self.state.snapshot.contains(key):
            count_key = f"{_run_key(run)}/{change.table}"
            self.state.snapshot_counts.put(
                count_key, (self.state.snapshot_counts.get(count_key) or 0) + 1
            )
            # Rows of the fullest run so far: the epoch cannot close before it
            # reaches the scanned total, so most records skip the full check.
            total_key = f"snapshot_total/{_run_key(run)}"
            total = self.state.counter(total_key) + 1
            self.state.set_counter(total_key, total)
            if total > self.state.counter("snapshot_fullest"):
                self.state.set_counter("snapshot_fullest", total)
        self.state.snapshot.put(key, _change_json(change, origin))
        if change.commit_ts_ms is not None:
            self.state.set_counter(f"snapshot_ts/{_run_key(run)}", change.commit_ts_ms)

    def _on_notification(self, note: SnapshotNotification, origin: RecordOrigin) -> None:
        if note.kind == "STARTED":
            if self.state.counter("snapshot_released"):
                raise AssemblyError(
                    f"{origin}: the connector started a new initial snapshot after the snapshot "
                    f"epoch was applied; {RESNAPSHOT_HINT}"
                )
            # A new run (e.g. Connect restarted mid-snapshot): its counts replace
            # whatever an abandoned run reported.
            self.state.snapshot_expected.clear()
            self.state.set_counter("snapshot_started", 1)
            self.state.set_counter("snapshot_completed", 0)
        elif note.kind == "TABLE_SCAN_COMPLETED":
            assert note.table is not None and note.rows is not None
            if note.table in self.read_collections:
                self.state.snapshot_expected.put(note.table, note.rows)
        elif note.kind == "COMPLETED":
            self.state.set_counter("snapshot_completed", 1)
            total = sum(int(v) for _, v in self.state.snapshot_expected.items())
            self.state.set_counter("snapshot_expected_total", total)
        elif note.kind == "ABORTED":
            raise AssemblyError(f"{origin}: Debezium reports the initial snapshot ABORTED")

    def _complete_run(self) -> tuple[int, int] | None:
        """The newest snapshot run whose rows match every table's scanned count."""
        expected = {
            name.removeprefix(f"{self.schema}."): int(rows)
            for name, rows in self.state.snapshot_expected.items()
        }
        runs: dict[str, dict[str, int]] = {}
        for key, count in self.state.snapshot_counts.items():
            run, _, table = str(key).partition("/")
            runs.setdefault(run, {})[table] = int(count)
        complete = [
            _parse_run(run)
            for run, counts in runs.items()
            if {t: n for t, n in counts.items() if n} == {t: n for t, n in expected.items() if n}
        ]
        return max(complete) if complete else None

    def _snapshot_pending(self) -> bool:
        """Whether streamed transactions must still wait for the snapshot epoch."""
        if self.state.counter("snapshot_released"):
            return False
        return self.initial_snapshot or bool(self.state.counter("snapshot_started"))

    def _try_release_snapshot(self) -> ReleasedTransaction | None:
        if not self.state.counter("snapshot_completed"):
            return None
        expected_rows = self.state.counter("snapshot_expected_total")
        if self.state.counter("snapshot_fullest") < expected_rows:
            return None  # no run has all its rows yet
        run = self._complete_run()
        if run is None and expected_rows:
            return None  # rows still on their way from other partitions
        changes: list[ReleasedChange] = []
        if run is not None:
            prefix = f"{_run_key(run)}/"
            changes = [
                _released_change(text)
                for key, text in self.state.snapshot.items()
                if str(key).startswith(prefix)
            ]
        ts = self.state.meta.get(f"snapshot_ts/{_run_key(run)}") if run else None
        self.state.snapshot.clear()
        self.state.snapshot_counts.clear()
        # Per-run counters are done with once the epoch is out.
        for key in [k for k, _ in self.state.meta.items() if str(k).startswith(_PER_RUN)]:
            self.state.meta.remove(key)
        self.state.set_counter("snapshot_released", 1)
        lsn, txid = run or (0, 0)
        self.state.set_counter("snapshot_lsn", lsn)
        self.state.set_counter("snapshot_txid", txid)
        if run is None:
            return None  # an empty catalog: nothing to show, nothing to mark
        catalog = [c for c in changes if c.table != self.heartbeat_table]
        if catalog:
            self.state.set_counter("state_txid", txid)
        return ReleasedTransaction(txid, lsn, ts, catalog, self._state_txid())

    # -- release ----------------------------------------------------------

    def _release_ready(self) -> Iterator[ReleasedTransaction]:
        if self._snapshot_pending():
            epoch = self._try_release_snapshot()
            if epoch is not None:
                yield epoch
            if self._snapshot_pending():
                return  # streamed transactions come after the snapshot epoch
        snapshot_lsn = self.state.counter("snapshot_lsn")
        while True:
            head = self.state.counter("head")
            text = self.state.ends.get(head)
            if text is None:
                return
            txid, lsn, count, table_counts, ts_ms = json.loads(text)
            expected = self._read_counts(table_counts) if table_counts else None
            wanted = sum(expected.values()) if expected is not None else count
            if (self.state.received.get(txid) or 0) < wanted:
                return
            if lsn <= snapshot_lsn:
                # Committed before the snapshot's position: its effect is in the
                # snapshot already (a run restarted on an existing slot).
                self._discard(txid, count)
            else:
                yield self._release(txid, lsn, count, expected, ts_ms)
            self.state.ends.remove(head)
            self.state.queued.remove(txid)
            self.state.set_counter("head", head + 1)

    def _take_events(self, txid: int, count: int) -> list[ReleasedChange]:
        changes: list[ReleasedChange] = []
        for order in range(1, count + 1):
            key = f"{txid}/{order}"
            text = self.state.events.get(key)
            if text is not None:  # absent: a message or a collection the job does not read
                changes.append(_released_change(text))
                self.state.events.remove(key)
        if self.state.received.contains(txid):
            self.state.received.remove(txid)
        return changes

    def _discard(self, txid: int, count: int) -> None:
        self._take_events(txid, count)
        self._remember_released(txid)

    def _release(self, txid: int, lsn: int, count: int, expected: dict[str, int] | None,
                 ts_ms: int | None) -> ReleasedTransaction:  # fmt: skip
        changes = self._take_events(txid, count)
        seen: dict[str, int] = {}
        for change in changes:
            name = f"{self.schema}.{change.table}"
            seen[name] = seen.get(name, 0) + 1
        if expected is None and len(changes) != count:
            raise AssemblyError(
                f"transaction {txid}: END counts {count} events but {len(changes)} were received"
            )
        if expected is not None and seen != {k: v for k, v in expected.items() if v}:
            raise AssemblyError(f"transaction {txid}: END counts {expected} but received {seen}")
        self._remember_released(txid)
        catalog = [c for c in changes if c.table != self.heartbeat_table]
        if catalog:
            self.state.set_counter("state_txid", txid)
        return ReleasedTransaction(txid, lsn, ts_ms, catalog, self._state_txid())

    def waiting_for(self) -> Waiting | None:
        """What keeps the next transaction from being released, if anything."""
        if self._snapshot_pending():
            expected = {str(k): int(v) for k, v in self.state.snapshot_expected.items()}
            if not self.state.counter("snapshot_completed"):
                return Waiting(
                    "the initial snapshot: Debezium has not reported it COMPLETED "
                    f"(tables scanned so far: {expected})"
                )
            have: dict[str, int] = {}
            for key, count in self.state.snapshot_counts.items():
                run, _, table = str(key).partition("/")
                have[f"run {run} {table}"] = int(count)
            return Waiting(f"the initial snapshot rows: expected {expected}, received {have}")
        text = self.state.ends.get(self.state.counter("head"))
        if text is None:
            return None
        txid, lsn, count, table_counts, _ = json.loads(text)
        expected = self._read_counts(table_counts) if table_counts else {"events": count}
        received = self.state.received.get(txid) or 0
        return Waiting(
            f"source transaction {txid} (commit lsn {lsn}): {received} of "
            f"{sum(expected.values())} events received, END counts {expected}"
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
