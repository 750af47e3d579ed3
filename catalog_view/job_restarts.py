"""Hard job restarts during a verify run (`catalog-view verify --restart-job`).

At evenly spaced points of the workload the job is killed with SIGKILL, its
whole process group at once (no clean shutdown, like a lost machine), and
started again from its newest retained checkpoint, at the next parallelism of
the plan (rescaling). Transactions buffered in the assembler, rows of a
checkpoint not yet committed, and a commit interrupted half way must all come
back from the checkpoint, none lost or doubled. The checker keeps sampling
throughout: the store must stay consistent while the job is down and converge
once it is back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from catalog_view.errors import CatalogViewError
from catalog_view.stack.job import FlinkJob


class RestartPlanError(CatalogViewError):
    pass


def parse_parallelisms(text: str) -> tuple[int, ...]:
    """ "4,1" -> (4, 1): the parallelism of the job after each restart."""
    values: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise RestartPlanError(
                f"--restart-job {text!r}: {part!r} is not a parallelism >= 1 "
                "(expected a comma-separated list, e.g. 4,1)"
            )
        values.append(int(part))
    return tuple(values)


def restart_points(transactions: int, restarts: int) -> list[int]:
    """Commit counts at which to restart: evenly spaced inside the workload."""
    return [transactions * (i + 1) // (restarts + 1) for i in range(restarts)]


@dataclass(frozen=True)
class Restart:
    at_commit: int
    parallelism: int
    killed_in_s: float  # from SIGKILL until no process of the job was left

    def __str__(self) -> str:
        return (
            f"killed at commit {self.at_commit}, restarted at parallelism {self.parallelism} "
            f"(kill took {self.killed_in_s:.1f}s)"
        )


class JobRestarter:
    """A background thread that restarts the job when the workload reaches
    each point; `finish()` waits for the remaining restarts, re-raising a
    failure of the thread."""

    def __init__(
        self,
        job: FlinkJob,
        parallelisms: tuple[int, ...],
        transactions: int,
        committed: Callable[[], int],
        baseline: bool,
        log: Callable[[str], None],
    ) -> None:
        self.job = job
        points = restart_points(transactions, len(parallelisms))
        self.plan = list(zip(points, parallelisms, strict=True))
        self.committed = committed
        self.baseline = baseline
        self.log = log
        self.done: list[Restart] = []
        self._error: BaseException | None = None
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-restarter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Stop waiting for the next point (the workload failed)."""
        self._cancelled.set()
        self._thread.join()

    def finish(self) -> list[Restart]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.done

    def _run(self) -> None:
        try:
            for point, parallelism in self.plan:
                # Polls the workload's commit count until it reaches the point.
                while self.committed() < point:
                    if self._cancelled.wait(0.05):
                        return
                self._restart(point, parallelism)
        except BaseException as exc:  # noqa: BLE001 - re-raised by finish()
            self._error = exc

    def _restart(self, point: int, parallelism: int) -> None:
        started = time.monotonic()
        if not self.job.process.kill():
            raise CatalogViewError(f"the job was not running at commit {point}: nothing to kill")
        restart = Restart(point, parallelism, time.monotonic() - started)
        self.job.start(parallelism=parallelism, baseline=self.baseline, fresh=False)
        self.done.append(restart)
        self.log(f"job {restart}")
