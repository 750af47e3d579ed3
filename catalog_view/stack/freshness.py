"""Is the store keeping up, or stalled? `catalog-view stack status` asks this.

The source's head is the last END on the transaction topic (what Debezium has
captured); the store's position is its watermark. The store is

- fresh: the watermark names the last captured commit;
- catching up: behind, but the watermark moved within the stall threshold;
- stalled: behind, and the watermark has not moved for longer than the
  threshold (heartbeats commit every few seconds, so a healthy job moves it
  even when the catalog is quiet).

When stalled, the report adds the job's own last word: what the assembler
waits for and what is missing, or the error that stops it, from its log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, TopicPartition

from catalog_view.settings import Settings
from catalog_view.store import Watermark, read_watermark, store_clock

# How much of each log's end is searched for the job's last report.
LOG_TAIL_BYTES = 512 * 1024
REPORT_MARKERS = ("catalog-view assembler: waiting for", "AssemblyError: ", "DecodeError: ")


@dataclass(frozen=True)
class SourceHead:
    """The last source transaction Debezium has captured."""

    txid: int
    lsn: int


@dataclass(frozen=True)
class Freshness:
    state: str  # fresh, catching-up, stalled, no-data
    detail: str

    @property
    def stalled(self) -> bool:
        return self.state == "stalled"


def last_captured(settings: Settings, timeout_s: float = 10) -> SourceHead | None:
    """The last END on the transaction topic (one partition), or None."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.bootstrap_servers,
            "group.id": "catalog-view-status",
            "enable.auto.commit": False,
        }
    )
    try:
        partition = TopicPartition(settings.transaction_topic, 0)
        low, high = consumer.get_watermark_offsets(partition, timeout=timeout_s)
        # The last record may be a BEGIN of a transaction still being written.
        start = max(low, high - 4)
        if high <= start:
            return None
        consumer.assign([TopicPartition(settings.transaction_topic, 0, start)])
        head = None
        for message in consumer.consume(num_messages=high - start, timeout=timeout_s):
            value = message.value()
            if message.error() or value is None:
                continue
            event = json.loads(value)
            if event.get("status") == "END":
                txid, _, lsn = str(event["id"]).partition(":")
                head = SourceHead(int(txid), int(lsn))
        return head
    finally:
        consumer.close()


def last_job_report(log_files: list[Path]) -> str | None:
    """The job's last line saying what it waits for or why it fails."""
    best: tuple[float, str] | None = None
    for path in log_files:
        try:
            with path.open("rb") as log:
                size = log.seek(0, 2)
                log.seek(max(0, size - LOG_TAIL_BYTES))
                lines = log.read().decode("utf-8", "replace").splitlines()
            mtime = path.stat().st_mtime
        except OSError:
            continue
        for line in reversed(lines):
            marker = next((m for m in REPORT_MARKERS if m in line), None)
            if marker:
                text = line[line.index(marker) :].strip()
                if best is None or mtime > best[0]:
                    best = (mtime, text)
                break
    return best[1] if best else None


def job_log_files(settings: Settings) -> list[Path]:
    logs = settings.data_dir / "logs"
    cluster = sorted((logs / "flink-cluster").glob("taskmanager-*/*.log"))
    return [logs / "flink-job.log", *sorted((logs / "flink").glob("*.log")), *cluster]


def judge(
    head: SourceHead | None,
    mark: Watermark | None,
    now: datetime,
    stall_after_s: float,
    since: datetime | None,
) -> Freshness:
    """The verdict from the facts (pure, unit-tested). `since`: when the job started."""
    if head is None:
        return Freshness("no-data", "no source transaction captured yet")
    if mark is not None and mark.commit_lsn >= head.lsn:
        return Freshness("fresh", f"watermark at the last captured commit (lsn {head.lsn})")
    moved = mark.applied_at if mark is not None else since
    idle_s = (now - moved).total_seconds() if moved is not None else None
    position = f"lsn {mark.commit_lsn}" if mark is not None else "no watermark"
    behind = f"source captured up to txid {head.txid} (lsn {head.lsn}), store at {position}"
    if idle_s is not None and idle_s <= stall_after_s:
        return Freshness("catching-up", f"{behind}; watermark moved {idle_s:.0f}s ago")
    idle = f"{idle_s:.0f}s" if idle_s is not None else "ever"
    return Freshness(
        "stalled", f"{behind}; watermark has not moved for {idle} (threshold {stall_after_s:g}s)"
    )


def assess(settings: Settings, job_started: datetime | None) -> Freshness:
    try:
        head = last_captured(settings)
    except KafkaException as exc:
        return Freshness("unknown", f"transaction topic unreadable: {exc}")
    verdict = judge(
        head,
        read_watermark(settings),
        store_clock(settings),
        settings.stall_after_s,
        job_started,
    )
    if verdict.stalled:
        report = last_job_report(job_log_files(settings))
        if report:
            return Freshness(verdict.state, f"{verdict.detail}; job says: {report}")
    return verdict
