"""Faults injected into the running stack during a verify run
(`catalog-view verify --restart-job P,... --faults job,connect,...`).

At evenly spaced points of the workload one action runs each: a hard kill of
the job (restored from its newest checkpoint, possibly at another
parallelism), of Kafka Connect or of the Kafka broker (each started again),
a store outage (connections to the store database refused for a while), or a
restart of the PostgreSQL cluster (the source and, on the embedded stack, the
store with it; every connection cut). A kill is SIGKILL of the whole process
group, like a lost machine. The checker keeps sampling throughout:
the store must stay consistent while a part is down and converge once it is
back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import psycopg
from psycopg import sql

from catalog_view.checker.fault import Fault
from catalog_view.checker.restore_points import restore_older, savepoint_rescale
from catalog_view.errors import CatalogViewError
from catalog_view.settings import Settings
from catalog_view.stack.java import port_open
from catalog_view.stack.job import Baseline, FlinkJob
from catalog_view.stack.lifecycle import ClusterJob
from catalog_view.stack.local import LocalStack
from catalog_view.waiting import wait_until
from connectors.register import ConnectClient

FAULTS = ("job", "connect", "kafka", "store", "source")
STORE_OUTAGE_S = 20.0


class FaultPlanError(CatalogViewError):
    pass


def parse_parallelisms(text: str) -> tuple[int, ...]:
    """ "4,1" -> (4, 1): the parallelism of the job after each restart."""
    values: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise FaultPlanError(
                f"--restart-job {text!r}: {part!r} is not a parallelism >= 1 "
                "(expected a comma-separated list, e.g. 4,1)"
            )
        values.append(int(part))
    return tuple(values)


def parse_faults(text: str) -> tuple[str, ...]:
    """ "connect,kafka" -> ("connect", "kafka"), each one of FAULTS."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [n for n in names if n not in FAULTS]
    if unknown or not names:
        raise FaultPlanError(
            f"--faults {text!r}: unknown fault(s) {unknown or [text]}; choose from "
            f"{', '.join(FAULTS)}"
        )
    return names


def fault_points(transactions: int, faults: int) -> list[int]:
    """Commit counts at which to inject: evenly spaced inside the workload."""
    return [transactions * (i + 1) // (faults + 1) for i in range(faults)]


class WorkloadGate:
    """Scenarios run concurrently through the gate; a fault that takes the
    source away closes it, waits until no scenario is in flight, and reopens
    it afterwards (so no commit is ever in doubt)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._closed = False

    @contextmanager
    def scenario(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._closed)
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    @contextmanager
    def closed(self) -> Iterator[None]:
        with self._cond:
            self._closed = True
            self._cond.wait_for(lambda: self._active == 0)
        try:
            yield
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()


@dataclass(frozen=True)
class Injected:
    at_commit: int  # how many commits the workload had made when the fault began
    name: str
    detail: str
    started: float  # time.monotonic() when the fault began
    took_s: float  # from the fault until the part was back (not the store converged)

    def __str__(self) -> str:
        return f"{self.name} at commit {self.at_commit}: {self.detail} ({self.took_s:.1f}s)"

    def recovery_s(self, seen: list[tuple[float, int]]) -> float | None:
        """From the fault until the store first showed a transaction committed
        after it began (`seen`: observation time, commit index), if it did."""
        after = [at for at, index in seen if index >= self.at_commit and at >= self.started]
        return min(after) - self.started if after else None


def restart_job(job: FlinkJob, parallelism: int, baseline: Baseline) -> Fault:
    def run() -> str:
        started = time.monotonic()
        if not job.process.kill():
            raise CatalogViewError("the job was not running: nothing to kill")
        killed = time.monotonic() - started
        job.start(parallelism=parallelism, baseline=baseline, fresh=False)
        return f"job killed ({killed:.1f}s), restarted at parallelism {parallelism}"

    return Fault("job", run)


def _port_released(port: int) -> None:
    wait_until(lambda: not port_open(port), timeout_s=60, what=f"port {port} released")


def kill_connect(stack: LocalStack) -> Fault:
    def run() -> str:
        stack.connect.process.kill()
        _port_released(stack.settings.connect_port)
        stack.connect.start()
        client = ConnectClient(stack.connect.url)
        name = stack.settings.connector_name
        wait_until(
            lambda: (s := client.status(name)) is not None and s.running,
            timeout_s=120,
            what=f"connector {name} running again",
        )
        return "Kafka Connect killed, started again, connector running"

    return Fault("connect", run)


def kill_kafka(stack: LocalStack) -> Fault:
    def run() -> str:
        stack.kafka.process.kill()
        _port_released(stack.settings.kafka_port)
        stack.kafka.start()
        return "Kafka broker killed and started again"

    return Fault("kafka", run)


def store_outage(settings: Settings, seconds: float = STORE_OUTAGE_S) -> Fault:
    """Connections to the store database refused for `seconds`, open ones cut."""
    db = sql.Identifier(settings.store_db)

    def run() -> str:
        with psycopg.connect(settings.superuser_conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(db))
            try:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (settings.store_db,),
                )
                # The outage itself lasts this long: a fault, not a wait for a condition.
                time.sleep(seconds)
            finally:
                conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(db))
        return f"store refused connections for {seconds:.0f}s"

    return Fault("store", run)


def restart_postgres(stack: LocalStack, gate: WorkloadGate) -> Fault:
    """A restart that cuts every connection (fast shutdown). Not a crash: the
    embedded cluster runs with fsync and synchronous_commit off, so a crash
    would lose acknowledged commits, a property of that throw-away setting,
    not of the pipeline."""

    def run() -> str:
        with gate.closed():
            stack.postgres.stop()
            stack.postgres.start()
            stack.postgres.wait_ready()
        return "PostgreSQL (source and store) restarted, every connection cut"

    return Fault("source", run)


def build_fault(name: str, stack: LocalStack, gate: WorkloadGate) -> Fault:
    if name == "connect":
        return kill_connect(stack)
    if name == "kafka":
        return kill_kafka(stack)
    if name == "store":
        return store_outage(stack.settings)
    if name == "source":
        return restart_postgres(stack, gate)
    return restart_job(stack.job, stack.settings.flink_parallelism, baseline=None)


class FaultRunner:
    """A background thread that runs each fault when the workload reaches its
    point; `finish()` waits for the remaining ones, re-raising a failure."""

    def __init__(
        self,
        faults: list[Fault],
        transactions: int,
        committed: Callable[[], int],
        log: Callable[[str], None],
    ) -> None:
        self.plan = list(zip(fault_points(transactions, len(faults)), faults, strict=True))
        self.committed = committed
        self.log = log
        self.done: list[Injected] = []
        self._error: BaseException | None = None
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-runner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Stop waiting for the next point (the workload failed)."""
        self._cancelled.set()
        self._thread.join()

    def finish(self) -> list[Injected]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.done

    def _reached(self, point: int) -> bool:
        """The workload reached `point` commits, or the run was cancelled."""
        return self._cancelled.is_set() or self.committed() >= point

    def _run(self) -> None:
        try:
            for point, fault in self.plan:
                # Polls the workload's commit count until it reaches the point.
                wait_until(
                    partial(self._reached, point),
                    timeout_s=None,
                    what=f"commit {point}",
                    interval_s=0.05,
                    sleep=self._cancelled.wait,
                )
                if self._cancelled.is_set():
                    return
                started, at_commit = time.monotonic(), self.committed()
                detail = fault.run()
                injected = Injected(
                    at_commit, fault.name, detail, started, time.monotonic() - started
                )
                self.done.append(injected)
                self.log(f"fault {injected}")
        except BaseException as exc:  # noqa: BLE001 - re-raised by finish()
            self._error = exc


@contextmanager
def running_job(
    settings: Settings, *, parallelism: int, baseline: Baseline, restore: bool, flink: str = "mini"
) -> Iterator[FlinkJob | ClusterJob]:
    """Start the job (from its newest checkpoint with `restore`, else a fresh
    replay) on the mini-cluster or the session cluster (`flink`); stops it on
    the way out (also after a restart)."""
    job: FlinkJob | ClusterJob = ClusterJob(settings) if flink == "cluster" else FlinkJob(settings)
    try:
        job.start(parallelism=parallelism, baseline=baseline, fresh=not restore)
        yield job
    finally:
        job.stop()


def job_log(settings: Settings) -> str:
    return str(settings.data_dir / "logs" / "flink-job.log")


def planned_faults(
    job: FlinkJob,
    gate: WorkloadGate,
    *,
    restart_parallelisms: tuple[int, ...],
    faults: tuple[str, ...],
    baseline: Baseline,
    restore_older_parallelisms: tuple[int, ...] = (),
    savepoint_parallelisms: tuple[int, ...] = (),
    committed: Callable[[], int] = lambda: 0,
) -> list[Fault]:
    """Job restarts at the given parallelisms, restores from an older
    checkpoint (committed: source transactions committed so far), then the
    other faults."""
    stack = LocalStack(job.settings)
    planned = [restart_job(job, p, baseline) for p in restart_parallelisms]
    older = [restore_older(job, p, baseline, committed) for p in restore_older_parallelisms]
    savepoints = [savepoint_rescale(job, p, baseline, committed) for p in savepoint_parallelisms]
    return planned + older + savepoints + [build_fault(name, stack, gate) for name in faults]
