"""What the bench is doing, logged (or written to `out`): each step as it
starts and ends, and every few seconds while a step runs (scenario, step, its
time, the run's)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

log = logging.getLogger(__name__)


def clock_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


class Progress:
    def __init__(
        self,
        every_s: float = 5.0,
        out: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every_s = every_s
        self.out = out
        self.clock = clock
        self.started = clock()
        self.scenario = "setup"
        self._step: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def log(self, message: str) -> None:
        total = clock_text(self.clock() - self.started)
        if self.out is None:
            log.info("[%s] %s: %s", total, self.scenario, message)
        else:
            print(f"bench [{total}] {self.scenario}: {message}", file=self.out, flush=True)

    def line(self) -> str | None:
        """The periodic line for the step that runs, or None."""
        with self._lock:
            step = self._step
        if step is None:
            return None
        what, since = step
        return f"{what} ... {clock_text(self.clock() - since)}"

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        started = self.clock()
        with self._lock:
            outer, self._step = self._step, (what, started)
        self.log(f"{what} ...")
        try:
            yield
        finally:
            with self._lock:
                self._step = outer
        self.log(f"{what}: done in {clock_text(self.clock() - started)}")

    def _tick(self) -> None:
        while not self._stop.wait(self.every_s):
            line = self.line()
            if line is not None:
                self.log(line)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
