"""Reading the store: the watermark and both views in ONE REPEATABLE READ
read-only transaction, every few milliseconds, judged as they come. The
checker never writes to the store."""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from psycopg import IsolationLevel

from catalog_view.checker.digest import RowCache, ViewState, checker_connection, store_hashes
from catalog_view.checker.errors import VerifyError
from catalog_view.checker.judge import Judge, Observation
from catalog_view.reference import VIEW_KEYS
from catalog_view.settings import Settings
from catalog_view.store import watermark_txid
from catalog_view.waiting import retry_on

# How long the sampler waits before reconnecting to an unreachable store.
STORE_RETRY_S = 0.5

log = logging.getLogger(__name__)


def store_reader(settings: Settings) -> psycopg.Connection:
    conn = checker_connection(settings.store_reader_conninfo())
    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def read_watermark_txid(conn: psycopg.Connection, settings: Settings) -> int | None:
    """The source transaction the store names, in a transaction of its own."""
    with conn.transaction():
        return watermark_txid(conn, settings)


def observe(
    conn: psycopg.Connection, settings: Settings, cache: RowCache | None = None
) -> Observation:
    """Watermark and both views in one REPEATABLE READ read-only transaction."""
    with conn.transaction():
        txid = watermark_txid(conn, settings)
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
        cache = RowCache()

        def sample_until_stopped() -> None:
            with store_reader(self.settings) as conn:
                while not self._stop.is_set():
                    self.judge.observe(observe(conn, self.settings, cache))
                    self._stop.wait(self.interval_s)

        def unreachable(error: BaseException) -> None:
            log.debug("store unreachable: %s", str(error).strip())
            self.unavailable += 1

        try:
            retry_on(
                (psycopg.OperationalError,),
                sample_until_stopped,
                interval_s=STORE_RETRY_S,
                give_up=self._stop.is_set,
                on_retry=unreachable,
                sleep=self._stop.wait,
            )
        except psycopg.OperationalError:
            self.unavailable += 1  # still unreachable when the run stopped
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self.error = exc

    def check(self) -> None:
        if self.error is not None:
            raise VerifyError(f"the store sampler failed: {self.error}") from self.error
