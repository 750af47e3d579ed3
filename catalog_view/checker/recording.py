"""The recording of Q(S(t)): every workload transaction commits under a
global commit lock, reads its txid and evaluates the reference queries in that
same transaction (its own writes plus every earlier commit; nothing else that
changes the catalog can commit in between: Debezium's heartbeat transactions
touch only cdc_heartbeat, and the watermark keeps naming the last catalog
transaction across them)."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import errors
from psycopg.pq import TransactionStatus
from psycopg.types.json import set_json_loads

from catalog_view.checker.digest import ViewState, json_loads, reference_hashes
from catalog_view.checker.errors import VerifyError
from catalog_view.reference import VIEW_KEYS
from catalog_view.settings import Settings
from catalog_view.source import Body, connect_source, current_txid, xid32
from catalog_view.waiting import retry_on

# Serializes the commits of every workload transaction (pg_advisory_xact_lock key).
COMMIT_LOCK_KEY = 0x63_76_65_72  # "cver"
RETRIES = 5
ROW_HASH_STATES = 256

log = logging.getLogger(__name__)


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


def admin_connection(settings: Settings) -> psycopg.Connection:
    """An autocommit connection to the source, search_path set (JSON numbers canonical)."""
    conn = connect_source(settings, autocommit=True)
    set_json_loads(json_loads, conn)
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

    def commit(self, conn: psycopg.Connection, body: Body) -> Recorded:
        """Run `body` in a transaction, commit it under the lock, record it;
        a deadlock with another workload connection retries the transaction."""
        return retry_on(
            (errors.DeadlockDetected, errors.SerializationFailure),
            lambda: self._attempt(conn, body),
            attempts=RETRIES,
            on_retry=lambda error: log.debug("retrying a workload transaction: %s", error),
        )

    def _attempt(self, conn: psycopg.Connection, body: Body) -> Recorded:
        conn.execute("BEGIN")
        try:
            body(conn)
            with self._order:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (COMMIT_LOCK_KEY,))
                txid = current_txid(conn)
                state = ViewState.of(
                    {view: reference_hashes(conn, self.settings, view) for view in VIEW_KEYS}
                )
                conn.execute("COMMIT")
                entry = self.recording.add(txid, time.monotonic(), state)
        except BaseException:
            if conn.info.transaction_status != TransactionStatus.IDLE and not conn.closed:
                conn.execute("ROLLBACK")
            raise
        if self.on_commit is not None:
            self.on_commit(entry)
        return entry
