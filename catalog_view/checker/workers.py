"""Running the workload: scenarios on several concurrent connections, in plan
order per connection; transactions start concurrently, commits are serialized
by the recorder."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext

import psycopg

from catalog_view.checker.draws import Scenario
from catalog_view.checker.errors import VerifyError
from catalog_view.checker.recording import Recorder, admin_connection
from catalog_view.checker.restarts import WorkloadGate
from catalog_view.settings import Settings

EVENT_TIMEOUT_S = 120.0


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
