"""Flink's REST API, as far as `catalog-view job` needs it.

The same endpoints answer on a session cluster's JobManager and on the local
mini-cluster. Parsing is kept in plain functions over the decoded JSON, so
unit tests check it without a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from catalog_view.errors import CatalogViewError
from catalog_view.waiting import WaitTimeout, wait_until

JOB_NAME = "catalog-view"
# States after which a job does nothing more (Flink's globally terminal ones).
TERMINAL_STATES = frozenset({"FINISHED", "CANCELED", "FAILED"})


class FlinkRestError(CatalogViewError):
    """Flink's REST API could not be reached or refused a request."""


@dataclass(frozen=True)
class JobSummary:
    job_id: str
    name: str
    state: str
    start_time_ms: int


@dataclass(frozen=True)
class Vertex:
    vertex_id: str
    name: str
    parallelism: int
    status: str


@dataclass(frozen=True)
class JobDetail:
    job_id: str
    name: str
    state: str
    vertices: tuple[Vertex, ...]

    @property
    def parallelism(self) -> int:
        """The job's parallelism: the widest of its operators."""
        return max((v.parallelism for v in self.vertices), default=0)

    @property
    def all_running(self) -> bool:
        return bool(self.vertices) and all(v.status == "RUNNING" for v in self.vertices)


@dataclass(frozen=True)
class CheckpointInfo:
    completed: int
    failed: int
    in_progress: int
    # The last completed checkpoint (or savepoint): id, when its last ack came
    # in, its full and its incremental size, where it was written.
    last_id: int | None
    last_ack_ms: int | None
    last_state_size: int | None
    last_checkpointed_size: int | None
    last_path: str | None
    restored_from: str | None


@dataclass(frozen=True)
class SavepointStatus:
    done: bool
    location: str | None
    failure: str | None


def parse_jobs_overview(data: dict[str, Any]) -> list[JobSummary]:
    return [
        JobSummary(job["jid"], job["name"], job["state"], int(job.get("start-time", 0)))
        for job in data.get("jobs", [])
    ]


def parse_job_detail(data: dict[str, Any]) -> JobDetail:
    vertices = tuple(
        Vertex(v["id"], v["name"], int(v["parallelism"]), v["status"])
        for v in data.get("vertices", [])
    )
    return JobDetail(data["jid"], data["name"], data["state"], vertices)


def parse_checkpoints(data: dict[str, Any]) -> CheckpointInfo:
    counts = data.get("counts") or {}
    latest = data.get("latest") or {}
    last = latest.get("completed") or {}
    restored = latest.get("restored") or {}
    return CheckpointInfo(
        completed=int(counts.get("completed", 0)),
        failed=int(counts.get("failed", 0)),
        in_progress=int(counts.get("in_progress", 0)),
        last_id=last.get("id"),
        last_ack_ms=last.get("latest_ack_timestamp"),
        last_state_size=last.get("state_size"),
        last_checkpointed_size=last.get("checkpointed_size"),
        last_path=last.get("external_path"),
        restored_from=restored.get("external_path"),
    )


def parse_savepoint_status(data: dict[str, Any]) -> SavepointStatus:
    """The answer of GET /jobs/:id/savepoints/:trigger (also for stop)."""
    state = (data.get("status") or {}).get("id")
    if state != "COMPLETED":
        return SavepointStatus(False, None, None)
    operation = data.get("operation") or {}
    cause = operation.get("failure-cause")
    if cause:
        text = cause.get("stack-trace") or cause.get("class") or str(cause)
        # The first line names the reason; the rest is the Java stack.
        return SavepointStatus(True, None, str(text).strip().splitlines()[0])
    return SavepointStatus(True, operation.get("location"), None)


def parse_metric(data: list[dict[str, Any]], name: str) -> float | None:
    for item in data:
        if item.get("id") == name:
            try:
                return float(item["value"])
            except (KeyError, TypeError, ValueError):
                return None
    return None


def running_job(jobs: list[JobSummary], name: str = JOB_NAME) -> JobSummary | None:
    """The one job of that name not yet terminal; an error if there are several."""
    live = [j for j in jobs if j.name == name and j.state not in TERMINAL_STATES]
    if len(live) > 1:
        ids = ", ".join(j.job_id for j in live)
        raise FlinkRestError(f"{len(live)} jobs named {name!r} are running ({ids}); cancel one")
    return live[0] if live else None


class FlinkRest:
    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}{path}"
        try:
            response = requests.request(method, url, json=body, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise FlinkRestError(f"Flink REST {url} unreachable: {exc}") from None
        if response.status_code >= 400:
            try:
                errors = response.json().get("errors", [])
            except ValueError:
                errors = [response.text]
            reason = str(errors[0]).strip().splitlines()[0] if errors else response.reason
            raise FlinkRestError(f"Flink REST {method} {url}: {response.status_code} {reason}")
        return response.json() if response.content else None

    def reachable(self) -> bool:
        try:
            self._call("GET", "/overview")
        except FlinkRestError:
            return False
        return True

    def overview(self) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", "/overview")
        return data

    def jobs(self) -> list[JobSummary]:
        return parse_jobs_overview(self._call("GET", "/jobs/overview"))

    def running_job(self, name: str = JOB_NAME) -> JobSummary | None:
        return running_job(self.jobs(), name)

    def job(self, job_id: str) -> JobDetail:
        return parse_job_detail(self._call("GET", f"/jobs/{job_id}"))

    def checkpoints(self, job_id: str) -> CheckpointInfo:
        return parse_checkpoints(self._call("GET", f"/jobs/{job_id}/checkpoints"))

    def restarts(self, job_id: str) -> int | None:
        value = parse_metric(
            self._call("GET", f"/jobs/{job_id}/metrics?get=numRestarts"), "numRestarts"
        )
        return None if value is None else int(value)

    def backpressure(self, job_id: str, vertex_id: str) -> str:
        """ok, low or high (Flink samples it; the first answer may be 'deprecated')."""
        data = self._call("GET", f"/jobs/{job_id}/vertices/{vertex_id}/backpressure")
        return str(data.get("backpressureLevel") or data.get("status") or "?")

    def stop_with_savepoint(self, job_id: str, target_dir: str | None) -> str:
        """Trigger stop-with-savepoint; returns the trigger id."""
        body: dict[str, Any] = {"drain": False}
        if target_dir is not None:
            body["targetDirectory"] = target_dir
        data = self._call("POST", f"/jobs/{job_id}/stop", body)
        return str(data["request-id"])

    def savepoint_status(self, job_id: str, trigger_id: str) -> SavepointStatus:
        return parse_savepoint_status(self._call("GET", f"/jobs/{job_id}/savepoints/{trigger_id}"))

    def wait_savepoint(self, job_id: str, trigger_id: str, timeout_s: float) -> str:
        """The savepoint's location once written; an error naming why it failed."""
        result: list[SavepointStatus] = []

        def done() -> bool:
            result[:] = [self.savepoint_status(job_id, trigger_id)]
            return result[0].done

        try:
            wait_until(done, timeout_s=timeout_s, what="stop-with-savepoint", interval_s=0.2)
        except WaitTimeout as exc:
            raise FlinkRestError(f"{exc}: job {job_id} is still stopping") from None
        status = result[0]
        if status.location is None:
            raise FlinkRestError(f"stop-with-savepoint of job {job_id} failed: {status.failure}")
        return status.location

    def wait_state(self, job_id: str, states: set[str], timeout_s: float) -> JobDetail:
        """Wait until the job is in one of `states` (RUNNING: every task runs)."""
        seen: list[JobDetail] = []

        def reached() -> bool:
            seen[:] = [self.job(job_id)]
            detail = seen[0]
            if detail.state in TERMINAL_STATES and detail.state not in states:
                raise FlinkRestError(f"job {job_id} ended {detail.state}; see the JobManager log")
            if detail.state == "RUNNING" and "RUNNING" in states:
                return detail.all_running
            return detail.state in states

        try:
            wait_until(reached, timeout_s=timeout_s, what=f"job {job_id} {'/'.join(states)}")
        except WaitTimeout as exc:
            last = seen[0].state if seen else "unknown"
            raise FlinkRestError(f"{exc} (last state {last})") from None
        return seen[0]

    def cancel(self, job_id: str) -> None:
        self._call("PATCH", f"/jobs/{job_id}?mode=cancel")
