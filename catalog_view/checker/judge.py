"""Observations of the store and their judgement: C1 (the store shows the
recorded state of the transaction its watermark names), C2 (the watermark
never moves backwards), and the commit-to-visible lag."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from catalog_view.checker.digest import ViewState
from catalog_view.checker.recording import Recording

VIOLATION_EXAMPLES = 5


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
            self._count(violation)
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
            self._count(violation)
            if violation is None and index is not None:
                self.last_index = max(index, self.last_index or 0)
                self.seen.append((observation.at, index))
            self._last_digests = observation.state.digests
            self.last_ok = violation is None
            return violation

    def _count(self, violation: Violation | None) -> None:
        """Counts a violation, keeping the first few as examples (lock held)."""
        if violation is not None:
            self.violations += 1
            if len(self.examples) < VIOLATION_EXAMPLES:
                self.examples.append(violation)

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
