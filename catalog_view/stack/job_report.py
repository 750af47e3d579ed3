"""`catalog-view job status`: the job as Flink's REST API sees it (state,
parallelism, restarts, last completed checkpoint with its age and size,
backpressure per operator) and the store as its watermark shows it (position,
lag behind the source's last captured commit, freshness verdict)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import timezone
from typing import Any

from catalog_view.settings import Settings
from catalog_view.stack.flink_rest import CheckpointInfo, FlinkRestError
from catalog_view.stack.lifecycle import Target


@dataclass
class JobReport:
    target: str
    state: str
    job_id: str | None = None
    parallelism: int | None = None
    restarts: int | None = None
    checkpoint: dict[str, Any] | None = None
    # Operators whose backpressure is not "ok": name -> level.
    backpressure: dict[str, str] = field(default_factory=dict)
    watermark: dict[str, Any] | None = None
    freshness: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.state == "RUNNING"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"job        {self.state} on {self.target}"]
        if self.job_id:
            out[0] += f", id {self.job_id}, parallelism {self.parallelism}"
            out.append(f"restarts   {self.restarts if self.restarts is not None else '?'}")
        if self.checkpoint:
            out.append(f"checkpoint {describe_checkpoint(self.checkpoint)}")
        elif self.job_id:
            out.append("checkpoint none completed yet")
        if self.job_id:
            pressure = ", ".join(f"{k}: {v}" for k, v in self.backpressure.items())
            out.append(f"backpressure {pressure or 'ok on every operator'}")
        if self.watermark:
            w = self.watermark
            lag = (
                f", {w['lag_s']:.1f}s behind the store clock" if w.get("lag_s") is not None else ""
            )
            out.append(
                f"watermark  lsn {w['commit_lsn']} txid {w['source_txid']}, source commit "
                f"{w['source_commit']}{lag}"
            )
        else:
            out.append("watermark  none in the store")
        if self.freshness:
            out.append(f"freshness  {self.freshness}")
        out += [f"problem    {p}" for p in self.problems]
        return out


def checkpoint_summary(info: CheckpointInfo, now_ms: int) -> dict[str, Any] | None:
    if info.last_id is None:
        return None
    age = None if info.last_ack_ms is None else max(0.0, (now_ms - info.last_ack_ms) / 1000)
    return {
        "id": info.last_id,
        "age_s": age,
        "state_size": info.last_state_size,
        "checkpointed_size": info.last_checkpointed_size,
        "path": info.last_path,
        "completed": info.completed,
        "failed": info.failed,
        "restored_from": info.restored_from,
    }


def _size(value: int | None) -> str:
    if value is None:
        return "?"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


def describe_checkpoint(c: dict[str, Any]) -> str:
    age = f"{c['age_s']:.1f}s ago" if c.get("age_s") is not None else "age unknown"
    text = (
        f"#{c['id']} {age}, state {_size(c.get('state_size'))} "
        f"(this checkpoint wrote {_size(c.get('checkpointed_size'))}); "
        f"{c['completed']} completed, {c['failed']} failed"
    )
    if c.get("restored_from"):
        text += f"; restored from {c['restored_from']}"
    return text


def job_report(target: Target) -> JobReport:
    report = JobReport(target.describe(), "NOT RUNNING")
    rest = target.rest
    try:
        summary = rest.running_job()
    except FlinkRestError as exc:
        summary = None
        if target.kind != "mini":
            report.problems.append(str(exc))
    if summary is not None:
        report.state, report.job_id = summary.state, summary.job_id
        try:
            detail = rest.job(summary.job_id)
            report.state, report.parallelism = detail.state, detail.parallelism
            report.restarts = rest.restarts(summary.job_id)
            now_ms = int(time.time() * 1000)
            report.checkpoint = checkpoint_summary(rest.checkpoints(summary.job_id), now_ms)
            if detail.state == "RUNNING":
                for vertex in detail.vertices:
                    level = rest.backpressure(summary.job_id, vertex.vertex_id)
                    if level != "ok":
                        report.backpressure[vertex.name[:60]] = level
        except FlinkRestError as exc:
            report.problems.append(str(exc))
    _store(target.settings, report)
    return report


def _store(settings: Settings, report: JobReport) -> None:
    from catalog_view.stack.freshness import assess
    from catalog_view.store import read_watermark, store_clock

    try:
        mark = read_watermark(settings)
        now = store_clock(settings)
        verdict = assess(settings, None)
        report.freshness = f"{verdict.state}: {verdict.detail}"
    except Exception as exc:  # noqa: BLE001 - status must not crash on the store
        report.problems.append(f"store unreadable: {str(exc).strip().splitlines()[0]}")
        return
    if mark is not None:
        lag = None
        if mark.source_commit is not None:
            lag = max(0.0, (now - mark.source_commit).total_seconds())
        report.watermark = {
            "commit_lsn": mark.commit_lsn,
            "source_txid": mark.source_txid,
            "source_commit": mark.source_commit.isoformat() if mark.source_commit else None,
            "applied_at": mark.applied_at.astimezone(timezone.utc).isoformat(),
            "lag_s": lag,
        }
