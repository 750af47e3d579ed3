"""The oracle checker, `catalog-view verify` (docs/design.md, "The oracle").

It drives a workload against the admin database and, for every committed
source transaction t, records Q(S(t)): each workload transaction takes a global
commit lock just before COMMIT, reads its txid and evaluates the reference
queries in that same transaction (its own writes plus every earlier commit;
nothing else that changes the catalog can commit in between: Debezium's
heartbeat transactions touch only cdc_heartbeat, and the watermark keeps
naming the last catalog transaction across them). Meanwhile a sampler reads the store's
watermark and both views in ONE REPEATABLE READ read-only transaction and
compares them with the recorded state of the transaction the watermark names
(C1), checks that the watermark never moves backwards (C2), waits for the
final state (C3) and measures commit-to-visible lag.

States are kept as digests (canonical JSON of the rows sorted by key), plus
per-row hashes of recent states so a violation can name the rows that differ.
It reuses the judge's pieces (sql/reference/*.sql, reference.VIEW_KEYS,
reference.diff) but hashes rows as they are fetched instead of building
reference.Rows: a sample must be cheap for the sampler to catch short-lived
states. The checker never writes to the store.

A run: stack up without the job (re-runnable) -> stop any running job ->
reset the catalog (DELETE, then a seeded catalog) -> start the job with the
requested parallelism (fresh replay unless --restore; --baseline [python|sql]
for a pipeline without alignment) -> commit a recorded setup transaction (the
fan-out tree) and wait until the watermark names it -> run the workload on
--connections connections while sampling (with --restart-job, killing and
restoring the job at evenly spaced points) -> commit a recorded end marker and
wait for the final state -> stop the job. The stack stays up (--stack-down
stops it too). Exit status: 0 only with no violation and final equality; 1
otherwise; 2 for an error.

--baseline sql (plain Flink SQL with a JDBC sink) writes no watermark, so it is
judged by reference comparison instead: the initial sync waits until the store
equals the setup transaction's recorded state; an observation is judged against
every recorded state: it must equal one (the earliest at or after the last one
it showed), else it is a violation ("no_source_state": the store shows a state
the source never had; "backwards": only a state older than one already shown).
Final equality: the store equals the last recorded state. A state recorded
right after its COMMIT cannot be seen in the store before it is recorded: the
capture takes far longer than the recording.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import queue
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import IsolationLevel, errors, sql
from psycopg.pq import TransactionStatus
from psycopg.types.json import set_json_loads

from catalog_view.errors import CatalogViewError
from catalog_view.reference import REFERENCE_DIR, VIEW_KEYS, Rows, diff
from catalog_view.settings import Settings
from flink_jobs.options import BASELINES

if TYPE_CHECKING:
    from catalog_view.stack.job import FlinkJob
from catalog_view.faults import (
    Fault,
    FaultRunner,
    WorkloadGate,
    build_fault,
    parse_faults,
    parse_parallelisms,
    restart_job,
)
from catalog_view.restore_points import restore_older
from catalog_view.workload import (
    Plan,
    Scale,
    Scenario,
    Transaction,
    WorkloadError,
    fan_out_tree,
    plan,
    touch_marker,
)

# Serializes the commits of every workload transaction (pg_advisory_xact_lock key).
COMMIT_LOCK_KEY = 0x63_76_65_72  # "cver"
# Debezium reports pgoutput's 32-bit xid; txid_current() adds an epoch above it.
XID_MODULUS = 2**32
RETRIES = 5
# How long the sampler waits before reconnecting to an unreachable store.
STORE_RETRY_S = 0.5
VIOLATION_EXAMPLES = 5
ROW_HASH_STATES = 256
EVENT_TIMEOUT_S = 120.0
# How reports name each pipeline (--baseline: flink_jobs.options BASELINES).
PIPELINE_NAMES: dict[str | None, str] = {
    None: "aligned",
    "python": "baseline (plain join)",
    "sql": "SQL baseline (Flink SQL, JDBC sink, no watermark)",
}

Key = tuple[Any, ...]


class VerifyError(CatalogViewError):
    """The checker cannot run as asked."""


def xid32(txid: int) -> int:
    """A source transaction as Debezium names it (the epoch stripped)."""
    return txid % XID_MODULUS


# -- digests -------------------------------------------------------------------
#
# Rows are hashed as canonical JSON. Numbers compare by value, as in
# reference.diff (19.5 == 19.50 == 1.95E1, 25 == 25.0): the checker's
# connections parse JSON numbers straight into a marked canonical string, and
# numeric columns (Decimal) get the same form, so hashing needs no Python walk.

NUMBER_MARK = "\x00n"  # PostgreSQL text cannot hold NUL: no string collides


def canonical_number(text: str) -> str:
    value = Decimal(text)
    return NUMBER_MARK + format(value.normalize() if value else Decimal(0), "f")


_DECODER = json.JSONDecoder(parse_float=canonical_number, parse_int=canonical_number)


def json_loads(data: str | bytes) -> Any:
    """The JSON loader of the checker's connections (numbers canonical)."""
    return _DECODER.decode(data if isinstance(data, str) else bytes(data).decode())


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return canonical_number(str(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot hash a {type(value).__name__} in a view row")


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
)


def canonical_json(value: Any) -> str:
    return _ENCODER.encode(value)


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def row_hash(row: dict[str, Any]) -> str:
    return _hash(canonical_json(row))


RowHashes = dict[Key, str]


def digest_of(hashes: RowHashes) -> str:
    """One digest for a whole view state, independent of row order."""
    return _hash("\n".join(f"{canonical_json(list(k))}\t{hashes[k]}" for k in sorted(hashes)))


def fetch_hashes(cursor: psycopg.Cursor[Any], view: str) -> RowHashes:
    """Per-row hashes of a query result, keyed like reference.Rows."""
    names = [d.name for d in cursor.description or ()]
    positions = [names.index(k) for k in VIEW_KEYS[view]]
    return {
        tuple(record[i] for i in positions): row_hash(dict(zip(names, record, strict=True)))
        for record in cursor.fetchall()
    }


def reference_hashes(conn: psycopg.Connection, settings: Settings, view: str) -> RowHashes:
    """Q(S) of `view` (sql/reference/<view>.sql) as this transaction sees the source."""
    conn.execute(
        sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(settings.admin_schema))
    )
    with conn.cursor() as cur:
        cur.execute((REFERENCE_DIR / f"{view}.sql").read_text().encode())
        return fetch_hashes(cur, view)


def store_hashes(
    conn: psycopg.Connection, settings: Settings, view: str, cache: RowCache | None = None
) -> RowHashes:
    """Per-row hashes of a store table. With a cache, the store sends only
    md5(row text) per key, and rows are fetched (in the same transaction) and
    canonicalized only when that text was not seen before: most rows of a
    sample are unchanged since the last one."""
    table = sql.Identifier(settings.store_schema, view)
    if cache is None:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT * FROM {}").format(table))
            return fetch_hashes(cur, view)
    keys = VIEW_KEYS[view]
    columns = sql.SQL(", ").join(map(sql.Identifier, keys))
    texts = conn.execute(sql.SQL("SELECT {}, md5(t::text) FROM {} AS t").format(columns, table))
    fingerprints = {tuple(r[:-1]): (view, *r) for r in texts.fetchall()}
    result = {k: cache[f] for k, f in fingerprints.items() if f in cache}
    missing = [k for k in fingerprints if k not in result]
    if missing:
        fetched = _fetch_keys(conn, table, keys, missing, view)
        for key, hashed in fetched.items():
            cache.remember(fingerprints[key], hashed)
        result.update(fetched)
    return result


def _fetch_keys(
    conn: psycopg.Connection,
    table: sql.Identifier,
    keys: tuple[str, ...],
    wanted: list[Key],
    view: str,
) -> RowHashes:
    columns = sql.SQL(", ").join(map(sql.Identifier, keys))
    arrays = sql.SQL(", ").join(sql.SQL("%s::bigint[]") for _ in keys)
    query = sql.SQL("SELECT * FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))").format(
        table, columns, arrays
    )
    with conn.cursor() as cur:
        cur.execute(query, [[k[i] for k in wanted] for i in range(len(keys))])
        return fetch_hashes(cur, view)


class RowCache(dict[tuple[Any, ...], str]):
    """Row hash by (view, key..., md5 of the row's text); bounded."""

    def __init__(self, limit: int = 500_000) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, fingerprint: tuple[Any, ...], hashed: str) -> None:
        if len(self) >= self.limit:
            self.clear()
        self[fingerprint] = hashed


def checker_connection(conninfo: str, *, autocommit: bool = False) -> psycopg.Connection:
    conn = psycopg.connect(conninfo, autocommit=autocommit)
    set_json_loads(json_loads, conn)
    return conn


@dataclass(frozen=True)
class ViewState:
    """A state of every view: a digest per view, and the per-row hashes."""

    digests: dict[str, str]
    rows: dict[str, RowHashes]

    @classmethod
    def of(cls, hashes: dict[str, RowHashes]) -> ViewState:
        return cls({view: digest_of(h) for view, h in hashes.items()}, hashes)

    @classmethod
    def of_rows(cls, rows_by_view: dict[str, Rows]) -> ViewState:
        """From rows read by a checker connection (see json_loads)."""
        return cls.of(
            {
                view: {key: row_hash(row) for key, row in rows.items()}
                for view, rows in rows_by_view.items()
            }
        )

    def difference(self, actual: ViewState, limit: int = 3) -> str:
        """Which keys differ, per view (via reference.diff on the row hashes)."""
        parts = []
        for view in sorted(self.rows):
            expected = {k: {"row": h} for k, h in self.rows[view].items()}
            observed = {k: {"row": h} for k, h in actual.rows.get(view, {}).items()}
            found = diff(view, expected, observed)
            if not found.empty:
                parts.append(found.describe(limit))
        return "; ".join(parts) or "no difference"


# -- the recording of Q(S(t)) ------------------------------------------------------


def _digest_key(digests: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(digests.items()))


@dataclass(frozen=True)
class Recorded:
    index: int
    txid: int
    committed_at: float
    digests: dict[str, str]


class Recording:
    """Q(S(t)) per committed source transaction, in commit order; thread safe.

    Full per-row hashes are kept only for the last `keep_rows` states (for
    reporting which rows differ); digests for all."""

    def __init__(self, keep_rows: int = ROW_HASH_STATES) -> None:
        self._lock = threading.Lock()
        self._by_xid: dict[int, Recorded] = {}
        self._order: list[Recorded] = []
        self._rows: OrderedDict[int, ViewState] = OrderedDict()
        self._keep_rows = keep_rows
        # Commit indexes by the digests of their state (judging by state).
        self._by_digests: dict[tuple[tuple[str, str], ...], list[int]] = {}

    def add(self, txid: int, committed_at: float, state: ViewState) -> Recorded:
        with self._lock:
            xid = xid32(txid)
            if xid in self._by_xid:
                raise VerifyError(f"source transaction {txid} recorded twice")
            entry = Recorded(len(self._order), txid, committed_at, state.digests)
            self._order.append(entry)
            self._by_xid[xid] = entry
            self._by_digests.setdefault(_digest_key(state.digests), []).append(entry.index)
            self._rows[xid] = state
            while len(self._rows) > self._keep_rows:
                self._rows.popitem(last=False)
            return entry

    def lookup(self, txid: int) -> Recorded | None:
        with self._lock:
            return self._by_xid.get(xid32(txid))

    def indexes_with(self, digests: dict[str, str]) -> list[int]:
        """The commit indexes whose recorded state has these digests, ascending."""
        with self._lock:
            return list(self._by_digests.get(_digest_key(digests), ()))

    def at(self, index: int) -> Recorded:
        with self._lock:
            return self._order[index]

    def state(self, txid: int) -> ViewState | None:
        with self._lock:
            return self._rows.get(xid32(txid))

    @property
    def last(self) -> Recorded | None:
        with self._lock:
            return self._order[-1] if self._order else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._order)

    def commit_times(self) -> list[float]:
        with self._lock:
            return [e.committed_at for e in self._order]


# -- observations and their judgement ----------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One read of the store: the watermark and both views in one snapshot."""

    at: float
    txid: int | None
    state: ViewState


@dataclass(frozen=True)
class Violation:
    kind: str  # mismatch | unrecorded | backwards | watermark_lost
    txid: int | None
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at source txid {self.txid}: {self.detail}"


def judge(
    recording: Recording, observation: Observation, previous_index: int | None
) -> tuple[int | None, Violation | None]:
    """The commit index an observation shows, and what is wrong with it (C1, C2)."""
    if observation.txid is None:
        if previous_index is not None:
            return previous_index, Violation("watermark_lost", None, "the watermark row vanished")
        return None, None
    entry = recording.lookup(observation.txid)
    if entry is None:
        return previous_index, Violation(
            "unrecorded", observation.txid, "state for an unrecorded transaction"
        )
    if previous_index is not None and entry.index < previous_index:
        detail = f"watermark went back from commit #{previous_index} to #{entry.index}"
        return entry.index, Violation("backwards", observation.txid, detail)
    if entry.digests != observation.state.digests:
        expected = recording.state(observation.txid)
        detail = (
            expected.difference(observation.state)
            if expected is not None
            else "digest differs (rows of that state no longer kept)"
        )
        return entry.index, Violation("mismatch", observation.txid, detail)
    return entry.index, None


def judge_by_state(
    recording: Recording, observation: Observation, previous_index: int | None
) -> tuple[int | None, Violation | None]:
    """For a pipeline without a watermark (the SQL baseline): the commit index
    whose recorded state the observation equals, the earliest at or after the
    last one shown, and what is wrong with it (C1 by reference comparison, C2)."""
    indexes = recording.indexes_with(observation.state.digests)
    later = [i for i in indexes if previous_index is None or i >= previous_index]
    if later:
        return later[0], None
    if indexes:
        detail = f"the store went back from commit #{previous_index} to #{indexes[-1]}"
        return previous_index, Violation("backwards", recording.at(indexes[-1]).txid, detail)
    # Described against the state the store should move to next.
    following = len(recording) - 1 if previous_index is None else previous_index + 1
    nearest = recording.at(min(following, len(recording) - 1)) if len(recording) else None
    expected = None if nearest is None else recording.state(nearest.txid)
    detail = "equals no recorded state; " + (
        f"against the next one after the last shown (txid {nearest.txid}): "
        + expected.difference(observation.state)
        if nearest is not None and expected is not None
        else "(rows of the nearest state no longer kept)"
    )
    return previous_index, Violation("no_source_state", None, detail)


@dataclass(frozen=True)
class LagSummary:
    observed: int
    p50_ms: float | None
    p99_ms: float | None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def commit_to_visible(
    commit_times: Sequence[float], seen: Sequence[tuple[float, int]], first: int = 0
) -> LagSummary:
    """For each commit i >= `first`: the time of the first observation whose
    commit index is >= i, minus the commit time (never below zero)."""
    lags: list[float] = []
    i = first
    for at, index in sorted(seen):
        while i <= index and i < len(commit_times):
            lags.append(max(0.0, at - commit_times[i]) * 1000)
            i += 1
    p50, p99 = percentile(lags, 50), percentile(lags, 99)
    return LagSummary(len(lags), p50, p99)


class Judge:
    """Running totals over observations; thread safe. `by_state`: judge
    observations by their state alone (judge_by_state), for a pipeline that
    writes no watermark."""

    def __init__(self, recording: Recording, by_state: bool = False) -> None:
        self.recording = recording
        self.by_state = by_state
        self._lock = threading.Lock()
        self.observations = 0
        self.violations = 0
        self.examples: list[Violation] = []
        self.seen: list[tuple[float, int]] = []
        self.last_index: int | None = None
        self.last_ok = False
        self._last_digests: dict[str, str] = {}

    def observe(self, observation: Observation) -> Violation | None:
        if self.by_state:
            return self._observe_state(observation)
        with self._lock:
            index, violation = judge(self.recording, observation, self.last_index)
            if observation.txid is not None:
                self.observations += 1
            if violation is not None:
                self.violations += 1
                if len(self.examples) < VIOLATION_EXAMPLES:
                    self.examples.append(violation)
            if index is not None:
                self.last_index = max(index, self.last_index or 0)
                if observation.txid is not None and (
                    violation is None or violation.kind != "unrecorded"
                ):
                    self.seen.append((observation.at, index))
            self.last_ok = violation is None and observation.txid is not None
            return violation

    def _observe_state(self, observation: Observation) -> Violation | None:
        with self._lock:
            index, violation = judge_by_state(self.recording, observation, self.last_index)
            self.observations += 1
            if violation is not None:
                self.violations += 1
                if len(self.examples) < VIOLATION_EXAMPLES:
                    self.examples.append(violation)
            elif index is not None:
                self.last_index = max(index, self.last_index or 0)
                self.seen.append((observation.at, index))
            self._last_digests = observation.state.digests
            self.last_ok = violation is None
            return violation

    def at_final(self) -> bool:
        """The latest observation showed the last recorded state, and it matched
        (by state: it equals the last recorded state, which may also be the
        state of an earlier commit)."""
        last = self.recording.last
        with self._lock:
            if last is None or not self.last_ok:
                return False
            if self.by_state:
                return self._last_digests == last.digests
            return self.last_index == last.index


# -- reading the store ---------------------------------------------------------------


def store_reader(settings: Settings) -> psycopg.Connection:
    conn = checker_connection(settings.store_reader_conninfo())
    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def _watermark_txid(conn: psycopg.Connection, settings: Settings) -> int | None:
    query = sql.SQL("SELECT source_txid FROM {} WHERE id = 1").format(
        sql.Identifier(settings.store_schema, "watermark")
    )
    row = conn.execute(query).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def read_watermark_txid(conn: psycopg.Connection, settings: Settings) -> int | None:
    """The source transaction the store names, in a transaction of its own."""
    with conn.transaction():
        return _watermark_txid(conn, settings)


def observe(
    conn: psycopg.Connection, settings: Settings, cache: RowCache | None = None
) -> Observation:
    """Watermark and both views in one REPEATABLE READ read-only transaction."""
    with conn.transaction():
        txid = _watermark_txid(conn, settings)
        at = time.monotonic()  # the snapshot was taken by the statement above
        hashes = {view: store_hashes(conn, settings, view, cache) for view in VIEW_KEYS}
    return Observation(at, txid, ViewState.of(hashes))


class Sampler:
    """A thread that observes the store every `interval_s` until stopped."""

    def __init__(self, settings: Settings, judge: Judge, interval_s: float = 0.02) -> None:
        self.settings, self.judge, self.interval_s = settings, judge, interval_s
        self._stop = threading.Event()
        self.error: BaseException | None = None
        # Samples that found the store unreachable (a store outage is a fault
        # the checker survives: a reader that cannot connect sees no state).
        self.unavailable = 0
        self._thread = threading.Thread(target=self._run, name="verify-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        try:
            cache = RowCache()
            while not self._stop.is_set():
                try:
                    with store_reader(self.settings) as conn:
                        while not self._stop.is_set():
                            self.judge.observe(observe(conn, self.settings, cache))
                            self._stop.wait(self.interval_s)
                except psycopg.OperationalError:
                    self.unavailable += 1
                    self._stop.wait(STORE_RETRY_S)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self.error = exc

    def check(self) -> None:
        if self.error is not None:
            raise VerifyError(f"the store sampler failed: {self.error}") from self.error


# -- running the workload ----------------------------------------------------------------


def admin_connection(settings: Settings) -> psycopg.Connection:
    conn = checker_connection(settings.admin_conninfo(), autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(settings.admin_schema)))
    return conn


class Recorder:
    """Commits workload transactions one at a time and records Q(S(t)) of each."""

    def __init__(
        self,
        settings: Settings,
        recording: Recording,
        on_commit: Callable[[Recorded], None] | None = None,
    ) -> None:
        self.settings, self.recording, self.on_commit = settings, recording, on_commit
        # Held from the commit lock until the recording is appended, so the
        # recorded order is the commit order also across our own threads.
        self._order = threading.Lock()

    def commit(self, conn: psycopg.Connection, body: Transaction) -> Recorded:
        """Run `body` in a transaction, commit it under the lock, record it;
        a deadlock with another workload connection retries the transaction."""
        for attempt in range(RETRIES):
            try:
                return self._attempt(conn, body)
            except (errors.DeadlockDetected, errors.SerializationFailure):
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _attempt(self, conn: psycopg.Connection, body: Transaction) -> Recorded:
        conn.execute("BEGIN")
        try:
            body(conn)
            with self._order:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (COMMIT_LOCK_KEY,))
                row = conn.execute("SELECT txid_current()").fetchone()
                assert row is not None
                state = ViewState.of(
                    {view: reference_hashes(conn, self.settings, view) for view in VIEW_KEYS}
                )
                conn.execute("COMMIT")
                entry = self.recording.add(int(row[0]), time.monotonic(), state)
        except BaseException:
            if conn.info.transaction_status != TransactionStatus.IDLE and not conn.closed:
                conn.execute("ROLLBACK")
            raise
        if self.on_commit is not None:
            self.on_commit(entry)
        return entry


def _wait_event(event: threading.Event, what: str) -> None:
    if not event.wait(EVENT_TIMEOUT_S):
        raise VerifyError(f"{what} did not happen within {EVENT_TIMEOUT_S:.0f}s")


class Worker:
    """One workload connection (plus a second one for overlapping scenarios)."""

    def __init__(self, settings: Settings, recorder: Recorder) -> None:
        self.settings, self.recorder = settings, recorder
        self.conn = admin_connection(settings)
        self._other: psycopg.Connection | None = None

    def close(self) -> None:
        for conn in (self.conn, self._other):
            if conn is not None:
                conn.close()

    def reconnect_if_lost(self) -> None:
        """After a restart of the source between scenarios, connect again."""
        for attr in ("conn", "_other"):
            conn = getattr(self, attr)
            if conn is None:
                continue
            try:
                conn.execute("SELECT 1")
            except psycopg.OperationalError:
                conn.close()
                setattr(self, attr, admin_connection(self.settings))

    def run(self, scenario: Scenario) -> None:
        if scenario.overlapping:
            self._run_overlapping(scenario)
            return
        for step in scenario.steps:
            self.recorder.commit(self.conn, step)

    def _run_overlapping(self, scenario: Scenario) -> None:
        """steps[0] (A) starts first; steps[1] (B) runs on a second connection
        after A has written, and commits before A does."""
        if self._other is None:
            self._other = admin_connection(self.settings)
        first, second = scenario.steps
        a_written, b_done = threading.Event(), threading.Event()
        failed: list[str] = []

        def body_a(conn: psycopg.Connection) -> None:
            try:
                first(conn)
            except BaseException:
                failed.append("first")
                raise
            finally:
                a_written.set()
            _wait_event(b_done, f"{scenario.name}: the second transaction's commit")
            if failed:
                raise VerifyError(f"{scenario.name}: the second transaction failed")

        def body_b(conn: psycopg.Connection) -> None:
            _wait_event(a_written, f"{scenario.name}: the first transaction's writes")
            if failed:
                raise VerifyError(f"{scenario.name}: the first transaction failed")
            second(conn)

        failure: list[BaseException] = []
        thread = threading.Thread(
            target=_capture(failure, lambda: self.recorder.commit(self.conn, body_a)),
            name=f"verify-{scenario.name}",
        )
        thread.start()
        try:
            self.recorder.commit(self._other, body_b)
        except BaseException:
            failed.append("second")
            raise
        finally:
            b_done.set()
            thread.join()
        if failure:
            raise failure[0]


def _capture(failure: list[BaseException], action: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
            failure.append(exc)

    return run


class Pacer:
    """Starts scenarios at most `rate` per second across all connections, so a
    workload lasts long enough for the faults planned inside it."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def wait_turn(self, stop: threading.Event) -> None:
        if not self.interval:
            return
        with self._lock:
            turn = max(self._next, time.monotonic())
            self._next = turn + self.interval
        stop.wait(max(0.0, turn - time.monotonic()))  # rate shaping, not a wait for a state


def run_workload(
    settings: Settings,
    recorder: Recorder,
    scenarios: Sequence[Scenario],
    connections: int,
    gate: WorkloadGate | None = None,
    rate: float | None = None,
) -> None:
    """Run scenarios on `connections` concurrent connections, in plan order
    per connection; transactions start concurrently, commits are serialized."""
    todo: queue.Queue[Scenario] = queue.Queue()
    for scenario in scenarios:
        todo.put(scenario)
    failure: list[BaseException] = []
    stop = threading.Event()
    pacer = Pacer(rate)

    def drain() -> None:
        worker = Worker(settings, recorder)
        try:
            while not stop.is_set():
                pacer.wait_turn(stop)
                try:
                    scenario = todo.get_nowait()
                except queue.Empty:
                    return
                with gate.scenario() if gate else nullcontext():
                    worker.reconnect_if_lost()
                    worker.run(scenario)
        except BaseException:
            stop.set()
            raise
        finally:
            worker.close()

    threads = [
        threading.Thread(target=_capture(failure, drain), name=f"verify-worker-{n}")
        for n in range(connections)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    finally:
        # Also on an interrupt of this thread: no worker starts another scenario.
        stop.set()
        for thread in threads:
            thread.join()
    if failure:
        raise failure[0]


# -- orchestration ----------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyOptions:
    transactions: int = 200
    parallelism: int = 1
    seed: int = 1
    # None: the transaction-aligned job; "python" or "sql": a pipeline without
    # alignment (flink_jobs.options BASELINES), expected to show violations.
    baseline: str | None = None
    products: int = 30
    connections: int = 2
    scale: Scale = field(default_factory=Scale)
    sync_timeout_s: float = 600.0
    final_timeout_s: float = 300.0
    ensure_stack: bool = True
    stack_down: bool = False
    # False: the job replays the capture into an emptied store (reproducible,
    # and the baseline shares the store); True: it restores from its newest
    # retained checkpoint, which also exercises restart and rescaling.
    restore: bool = False
    sample_interval_s: float = 0.02
    # Kill the job (SIGKILL) at evenly spaced points of the workload and start
    # it again from its newest checkpoint at these parallelisms (rescaling).
    restart_parallelisms: tuple[int, ...] = ()
    # Kill the job, let the source move on, and start it again from its OLDEST
    # retained checkpoint (the store ahead of it) at these parallelisms.
    restore_older_parallelisms: tuple[int, ...] = ()
    # Other faults (catalog_view.faults.FAULTS), after the job restarts.
    faults: tuple[str, ...] = ()
    # Scenarios started per second at most (None: as fast as they go).
    rate: float | None = None
    # Where the job runs: "mini" (one local process) or "cluster" (the local
    # standalone session cluster, catalog_view/stack/cluster.py).
    flink: str = "mini"

    def __post_init__(self) -> None:
        # baseline=True (what it was before there were two) means "python".
        if isinstance(self.baseline, bool):
            object.__setattr__(self, "baseline", "python" if self.baseline else None)

    def validate(self) -> None:
        for name in ("transactions", "parallelism", "connections"):
            if getattr(self, name) < 1:
                raise VerifyError(f"--{name} must be >= 1, got {getattr(self, name)}")
        if self.products < 0:
            raise VerifyError(f"--products must be >= 0, got {self.products}")
        if self.rate is not None and self.rate <= 0:
            raise VerifyError(f"--rate must be > 0, got {self.rate}")
        if self.baseline is not None and self.baseline not in BASELINES:
            raise VerifyError(
                f"--baseline must be one of {', '.join(BASELINES)}, got {self.baseline!r}"
            )
        if self.flink not in ("mini", "cluster"):
            raise VerifyError(f"--flink must be mini or cluster, got {self.flink!r}")
        if self.flink == "cluster" and (self.restart_parallelisms or self.faults):
            raise VerifyError("--restart-job and --fault run on the mini-cluster (--flink mini)")
        if min(self.sync_timeout_s, self.final_timeout_s) <= 0:
            raise VerifyError("timeouts must be > 0")
        try:
            self.scale.validate()
        except WorkloadError as exc:
            raise VerifyError(str(exc)) from exc


@dataclass
class VerifyReport:
    observations: int
    violations: int
    final_equal: bool
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    lag_observed: int
    transactions: int
    seed: int
    parallelism: int
    baseline: str | None
    connections: int
    duration_s: float
    scenarios: dict[str, int]
    violation_examples: list[str]
    final_difference: str = ""
    job_restarts: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    store_unavailable_samples: int = 0

    @property
    def passed(self) -> bool:
        return self.violations == 0 and self.final_equal

    def to_json(self) -> str:
        data = asdict(self)
        data["passed"] = self.passed
        for key in ("lag_p50_ms", "lag_p99_ms", "duration_s"):
            if data[key] is not None:
                data[key] = round(data[key], 1)
        return json.dumps(data, sort_keys=True)

    def lines(self) -> list[str]:
        lag = "n/a"
        if self.lag_p50_ms is not None and self.lag_p99_ms is not None:
            lag = f"p50 {self.lag_p50_ms:.0f} ms, p99 {self.lag_p99_ms:.0f} ms"
        mode = PIPELINE_NAMES[self.baseline]
        out = [
            f"verify: {self.transactions} source transactions, {mode} pipeline at "
            f"parallelism {self.parallelism}, seed {self.seed}, {self.duration_s:.1f}s",
            f"verify: observations {self.observations}, violations {self.violations}, "
            f"final equal {'yes' if self.final_equal else 'NO'}",
            f"verify: commit-to-visible lag {lag} over {self.lag_observed} transactions",
        ]
        out += [f"verify: fault {f}" for f in [*self.job_restarts, *self.faults]]
        if self.store_unavailable_samples:
            out.append(
                f"verify: samples with the store unreachable: {self.store_unavailable_samples}"
            )
        out += [f"verify: violation: {v}" for v in self.violation_examples]
        if self.final_difference:
            out.append(f"verify: final difference: {self.final_difference}")
        out.append(f"verify: {'PASS' if self.passed else 'FAIL'}")
        return out


def _log(message: str) -> None:
    print(f"verify: {message}", file=sys.stderr, flush=True)


def _progress(judge: Judge, total: int, every: int) -> Callable[[Recorded], None]:
    def report(entry: Recorded) -> None:
        if entry.index and entry.index % every == 0:
            _log(
                f"committed {entry.index}/{total}, observations {judge.observations}, "
                f"violations {judge.violations}"
            )

    return report


@contextmanager
def _running_job(settings: Settings, options: VerifyOptions) -> Iterator[FlinkJob]:
    """Start the job; stops it on the way out (also after a restart)."""
    from catalog_view.stack.job import FlinkJob
    from catalog_view.stack.lifecycle import ClusterJob

    job = ClusterJob(settings) if options.flink == "cluster" else FlinkJob(settings)
    try:
        job.start(
            parallelism=options.parallelism, baseline=options.baseline, fresh=not options.restore
        )
        yield job
    finally:
        job.stop()


def prepare(settings: Settings, options: VerifyOptions) -> Settings:
    """Stack up without the job, any job stopped, a freshly seeded catalog."""
    from catalog_view.seed import seed_catalog
    from catalog_view.stack.job import FlinkJob
    from catalog_view.stack.lifecycle import ClusterJob
    from catalog_view.stack.local import LocalStack

    if options.ensure_stack:
        stack = LocalStack(settings)
        stack.up(with_job=False, flink=options.flink)
        settings = stack.settings
    if FlinkJob(settings).stop():
        _log("stopped the running job")
    if options.flink == "cluster" and ClusterJob(settings).stop():
        _log("cancelled the job on the cluster")
    report = seed_catalog(settings, options.products, options.seed, reset=True, progress=False)
    _log(f"catalog reset and seeded: {report.total} rows, {options.products} products")
    return settings


def _wait_for_final(
    judge: Judge, sampler: Sampler, timeout_s: float, job_alive: Callable[[], bool]
) -> bool:
    """True once the sampler saw the last recorded state; False on timeout or
    when the job process is gone (it will not get there any more)."""
    from catalog_view.waiting import WaitTimeout, wait_until

    def settled() -> bool:
        sampler.check()
        return judge.at_final() or not job_alive()

    try:
        wait_until(settled, timeout_s=timeout_s, what="final state", interval_s=0.05)
    except WaitTimeout:
        return False
    return judge.at_final()


def _job_log(settings: Settings) -> str:
    return str(settings.data_dir / "logs" / "flink-job.log")


def _initial_sync(
    settings: Settings, judge: Judge, timeout_s: float, job_alive: Callable[[], bool]
) -> None:
    """Wait until the watermark names the setup transaction (the only one
    recorded so far). Its rows are not awaited: from here on the sampler judges
    them, so a pipeline that never converges shows up as violations. Judging by
    state (no watermark), wait until the store equals the setup's state."""
    from catalog_view.waiting import WaitTimeout, wait_until

    setup = judge.recording.last
    assert setup is not None
    seen: list[int | None] = [None]
    with store_reader(settings) as conn:

        def synced() -> bool:
            if not job_alive():
                raise VerifyError(
                    f"the Flink job exited during the initial sync: {_job_log(settings)}"
                )
            if judge.by_state:
                return observe(conn, settings).state.digests == setup.digests
            seen[0] = read_watermark_txid(conn, settings)
            return seen[0] is not None and xid32(seen[0]) == xid32(setup.txid)

        try:
            wait_until(synced, timeout_s=timeout_s, what="initial sync", interval_s=0.2)
        except WaitTimeout as exc:
            never = (
                f"the store never equaled the state of the setup transaction {setup.txid} "
                f"({_final_difference(settings, judge.recording)})"
                if judge.by_state
                else f"the watermark never named the setup transaction {setup.txid} "
                f"(last seen: {seen[0]})"
            )
            raise VerifyError(
                f"{exc}: {never}; see {_job_log(settings)} and "
                f"{settings.data_dir / 'logs' / 'flink'}"
            ) from None


def _final_difference(settings: Settings, recording: Recording) -> str:
    last = recording.last
    expected = None if last is None else recording.state(last.txid)
    if last is None or expected is None:
        return "nothing recorded"
    with store_reader(settings) as conn:
        observation = observe(conn, settings)
    return f"watermark txid {observation.txid}, expected {last.txid}: " + expected.difference(
        observation.state
    )


def run_verify(settings: Settings, options: VerifyOptions) -> VerifyReport:
    """Reset, start the job, sync, run the workload while sampling, judge."""
    options.validate()
    workload = plan(options.seed, options.transactions, options.scale)
    _log(
        f"seed {options.seed} (replay: --seed {options.seed}), "
        f"{workload.transactions} transactions in {len(workload.scenarios)} scenarios, "
        f"parallelism {options.parallelism}, {PIPELINE_NAMES[options.baseline]}"
    )
    started = time.monotonic()
    settings = prepare(settings, options)
    recording = Recording()
    # The SQL baseline writes no watermark: judged by reference comparison.
    judge = Judge(recording, by_state=options.baseline == "sql")
    every = max(10, workload.transactions // 20)
    recorder = Recorder(settings, recording, _progress(judge, workload.transactions, every))
    try:
        with _running_job(settings, options) as job:
            report = _verify_with_job(settings, options, workload, recorder, judge, job)
            if not job.alive():
                report.final_difference += f" (the Flink job exited: {_job_log(settings)})"
            report.duration_s = time.monotonic() - started
            return report
    finally:
        if options.stack_down:
            from catalog_view.stack.local import LocalStack

            LocalStack(settings).down()


def _verify_with_job(
    settings: Settings,
    options: VerifyOptions,
    workload: Plan,
    recorder: Recorder,
    judge: Judge,
    job: FlinkJob,
) -> VerifyReport:
    def job_alive() -> bool:
        return job.alive()

    started = time.monotonic()
    with admin_connection(settings) as conn:
        recorder.commit(conn, fan_out_tree(options.scale).steps[0])
    _initial_sync(settings, judge, options.sync_timeout_s, job_alive)
    _log(f"initial sync after {time.monotonic() - started:.1f}s; workload starts")
    sampler = Sampler(settings, judge, options.sample_interval_s)
    sampler.start()
    gate = WorkloadGate()
    restarter = FaultRunner(
        _planned_faults(settings, options, job, gate, lambda: len(recorder.recording)),
        len(recorder.recording) + workload.transactions,
        lambda: len(recorder.recording),
        _log,
    )
    restarter.start()
    try:
        try:
            run_workload(
                settings, recorder, workload.scenarios, options.connections, gate, options.rate
            )
        except BaseException:
            restarter.cancel()
            raise
        injected = restarter.finish()
        with admin_connection(settings) as conn:
            recorder.commit(conn, lambda c: touch_marker(c, "end of workload"))
        _log(f"workload done: {len(recorder.recording)} commits; waiting for the final state")
        final_equal = _wait_for_final(judge, sampler, options.final_timeout_s, job_alive)
    finally:
        sampler.stop()
    sampler.check()
    report = _report(settings, options, workload, judge, final_equal)
    described = [
        f"{r}; store past it after "
        + (f"{s:.1f}s" if (s := r.recovery_s(judge.seen)) is not None else "never")
        for r in injected
    ]
    report.job_restarts = [d for d, r in zip(described, injected, strict=True) if r.name == "job"]
    report.faults = [d for d, r in zip(described, injected, strict=True) if r.name != "job"]
    report.store_unavailable_samples = sampler.unavailable
    return report


def _planned_faults(
    settings: Settings,
    options: VerifyOptions,
    job: FlinkJob,
    gate: WorkloadGate,
    committed: Callable[[], int],
) -> list[Fault]:
    """Job restarts at the given parallelisms, then the other faults."""
    from catalog_view.stack.local import LocalStack

    stack = LocalStack(settings)
    planned = [restart_job(job, p, options.baseline) for p in options.restart_parallelisms]
    older = [
        restore_older(job, p, options.baseline, committed)
        for p in options.restore_older_parallelisms
    ]
    return planned + older + [build_fault(name, stack, gate) for name in options.faults]


def _report(
    settings: Settings,
    options: VerifyOptions,
    workload: Plan,
    judge: Judge,
    final_equal: bool,
) -> VerifyReport:
    recording = judge.recording
    # Commit #0 is the setup transaction: its lag includes the job's start.
    lag = commit_to_visible(recording.commit_times(), judge.seen, first=1)
    counts: dict[str, int] = {}
    for scenario in workload.scenarios:
        counts[scenario.name] = counts.get(scenario.name, 0) + 1
    return VerifyReport(
        observations=judge.observations,
        violations=judge.violations,
        final_equal=final_equal,
        lag_p50_ms=lag.p50_ms,
        lag_p99_ms=lag.p99_ms,
        lag_observed=lag.observed,
        # Without the setup and end-of-workload marker transactions.
        transactions=len(recording) - 2,
        seed=options.seed,
        parallelism=options.parallelism,
        baseline=options.baseline,
        connections=options.connections,
        duration_s=0.0,  # set by run_verify, which also counts the preparation
        scenarios=counts,
        violation_examples=[str(v) for v in judge.examples],
        final_difference="" if final_equal else _final_difference(settings, recording),
    )


# -- command line ---------------------------------------------------------------------------


def add_verify_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `catalog-view verify` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="drive a workload and judge the store against the reference queries",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--transactions", type=int, default=200, help="source transactions")
    parser.add_argument("--parallelism", type=int, default=1, help="Flink parallelism")
    parser.add_argument(
        "--flink",
        choices=("mini", "cluster"),
        default="mini",
        help="run the job on the local mini-cluster (default) or the standalone session cluster",
    )
    parser.add_argument("--seed", type=int, default=None, help="workload seed (default: random)")
    parser.add_argument(
        "--baseline",
        nargs="?",
        const="python",
        choices=BASELINES,
        default=None,
        help="judge a pipeline without transaction alignment (expect violations): 'python' "
        "(alone: the default), the plain join written row by row, or 'sql', plain Flink SQL "
        "with JDBC sinks and no watermark (judged by comparing the store with every recorded "
        "state)",
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--products", type=int, default=30, help="products seeded before the run")
    parser.add_argument(
        "--connections", type=int, default=2, help="concurrent workload connections"
    )
    parser.add_argument(
        "--bulk-rows", type=int, default=2000, help="rows per bulk import (--full-scale: 12000)"
    )
    parser.add_argument(
        "--fan-out", type=int, default=200, help="products beneath the fan-out category"
    )
    parser.add_argument(
        "--full-scale",
        action="store_true",
        help="the design's sizes: 12k-row bulk imports, 3000-product fan-out, 40 kB TOASTed text",
    )
    parser.add_argument(
        "--sync-timeout", type=float, default=600.0, help="seconds for the job's initial sync"
    )
    parser.add_argument(
        "--final-timeout", type=float, default=300.0, help="seconds for the final state"
    )
    parser.add_argument(
        "--restore",
        action="store_true",
        help="start the job from its newest checkpoint (default: a fresh replay)",
    )
    parser.add_argument(
        "--restart-job",
        metavar="P[,P...]",
        default="",
        help="kill the job (SIGKILL) at evenly spaced points of the workload and restart it "
        "from its newest checkpoint at these parallelisms; --parallelism 2 --restart-job 4,1 "
        "rescales 2 -> 4 -> 1",
    )
    parser.add_argument(
        "--restore-older",
        metavar="P[,P...]",
        default="",
        help="kill the job, let the source move on, and start it again at these parallelisms "
        "from its OLDEST retained checkpoint while the store is ahead (docs/restore.md)",
    )
    parser.add_argument(
        "--faults",
        metavar="F[,F...]",
        default="",
        help="after the job restarts, inject these faults at evenly spaced points: job (SIGKILL "
        "and restore), connect and kafka (SIGKILL and start again), store (connections refused "
        "for 20 s), source (PostgreSQL restarted, every connection cut)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="start at most this many scenarios per second (stretches the workload around faults)",
    )
    parser.add_argument("--stack-down", action="store_true", help="stop the whole stack afterwards")
    parser.set_defaults(func=cmd_verify)
    return parser


def options_from_args(args: argparse.Namespace, seed: int) -> VerifyOptions:
    scale = (
        Scale.full()
        if args.full_scale
        else Scale(bulk_rows=args.bulk_rows, fan_out_products=args.fan_out)
    )
    return VerifyOptions(
        transactions=args.transactions,
        parallelism=args.parallelism,
        seed=seed,
        baseline=args.baseline,
        products=args.products,
        connections=args.connections,
        scale=scale,
        sync_timeout_s=args.sync_timeout,
        final_timeout_s=args.final_timeout,
        stack_down=args.stack_down,
        restore=args.restore,
        flink=args.flink,
        restart_parallelisms=parse_parallelisms(args.restart_job) if args.restart_job else (),
        restore_older_parallelisms=(
            parse_parallelisms(args.restore_older) if args.restore_older else ()
        ),
        faults=parse_faults(args.faults) if args.faults else (),
        rate=args.rate,
    )


def cmd_verify(args: argparse.Namespace) -> int:
    """Print the report (JSON as the last line with --json); 0 only on a pass."""
    import random

    from catalog_view.settings import load_settings

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    options = options_from_args(args, seed)
    options.validate()
    print(f"verify: seed {seed}", flush=True)
    report = run_verify(load_settings(), options)
    for line in report.lines():
        print(line)
    if args.json:
        print(report.to_json())
    return 0 if report.passed else 1
