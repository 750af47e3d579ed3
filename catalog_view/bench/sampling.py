"""Background sampling for the bench: a poller thread, and peaks of figures
sampled with it (a process group's resident memory, per component memory)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType


class Poller:
    """Calls `poll()` every `interval_s` on a thread until stopped; the first
    exception it raises stops the poller and is raised again by `stop()`."""

    def __init__(self, poll: Callable[[], object], interval_s: float) -> None:
        self._poll = poll
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._poll()
            while not self._stop.wait(self._interval_s):
                self._poll()
        except BaseException as exc:  # noqa: BLE001 - handed to stop()
            self._error = exc

    def start(self) -> Poller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> Poller:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.stop()
        else:  # the body's exception wins over the poller's
            self._stop.set()
            self._thread.join()


class Peaks:
    """The largest value seen per name, from `measure()` sampled in the background."""

    def __init__(self, measure: Callable[[], dict[str, int]], interval_s: float = 0.05) -> None:
        self._measure = measure
        self.peaks: dict[str, int] = {}
        self._lock = threading.Lock()
        self._poller = Poller(self._sample, interval_s)

    def _sample(self) -> None:
        values = self._measure()
        with self._lock:
            for name, value in values.items():
                self.peaks[name] = max(value, self.peaks.get(name, 0))

    def __enter__(self) -> Peaks:
        self._poller.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._poller.__exit__(kind, exc, tb)

    def mib(self, name: str) -> float | None:
        with self._lock:
            value = self.peaks.get(name)
        return None if value is None else value / 2**20
