"""B5 resources, while the product runs its scenarios:

- peak memory per component of the stack (the job's process group, Kafka,
  Connect, PostgreSQL's postmaster and its children), found by their pid
  files in the data directory and sampled every second with psutil. The
  figure is the proportional set size (PSS) summed over the component's
  processes: shared pages are split between the processes sharing them, so
  PostgreSQL's shared buffers count once, not once per backend; for a lone
  JVM it is about its RSS;
- the size of the largest completed checkpoint seen (the newest chk-N
  directory under the job's checkpoint directory, sampled every second);
- store rows written per source row changed over B1: deltas of
  n_tup_ins + n_tup_upd + n_tup_del in pg_stat_user_tables, catalog tables of
  the source against the view tables of the store (the watermark row and the
  heartbeat table left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psutil
import psycopg

from catalog_view.bench.pipelines import check_running
from catalog_view.bench.sampling import Peaks
from catalog_view.reference import VIEW_KEYS
from catalog_view.settings import CATALOG_TABLES, Settings
from catalog_view.stack.java import ConnectWorker, KafkaBroker
from catalog_view.stack.job import FlinkJob
from catalog_view.stack.postgres import PostgresCluster
from catalog_view.stack.process import group_members
from catalog_view.store import read_watermark, store_clock
from catalog_view.waiting import wait_until

CHECKPOINT = "checkpoint"


def component_pids(settings: Settings) -> dict[str, list[int]]:
    """The live processes of each component, by the pid files of the data dir."""
    pids: dict[str, list[int]] = {}
    for name, leader in (
        ("flink job", FlinkJob(settings).process.pid()),
        ("kafka", KafkaBroker(settings).process.pid()),
        ("connect", ConnectWorker(settings).process.pid()),
    ):
        if leader is not None:
            pids[name] = list(group_members(leader))
    postmaster = PostgresCluster(settings).pid()
    if postmaster is not None:
        try:
            children = psutil.Process(postmaster).children(recursive=True)
        except psutil.Error:
            children = []
        pids["postgres"] = [postmaster, *(c.pid for c in children)]
    return pids


def memory_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            info = psutil.Process(pid).memory_full_info()
        except psutil.Error:
            continue  # exited meanwhile
        total += int(getattr(info, "pss", info.rss))
    return total


def checkpoint_bytes(directory: Path) -> int | None:
    """Size of the newest completed checkpoint (a chk-N with _metadata)."""
    done = list(directory.glob("*/chk-*/_metadata"))
    if not done:
        return None
    try:
        newest = max(done, key=lambda m: m.stat().st_mtime).parent
        return sum(f.stat().st_size for f in newest.rglob("*") if f.is_file())
    except OSError:
        return None  # subsumed and deleted meanwhile


def resource_peaks(settings: Settings) -> Peaks:
    checkpoints = FlinkJob(settings).checkpoint_dir

    def measure() -> dict[str, int]:
        values = {name: memory_bytes(pids) for name, pids in component_pids(settings).items()}
        size = checkpoint_bytes(checkpoints)
        if size is not None:
            values[CHECKPOINT] = size
        return values

    return Peaks(measure, interval_s=1.0)


@dataclass(frozen=True)
class RowCounts:
    source: int  # catalog rows inserted, updated or deleted
    store: int  # view rows inserted, updated or deleted


def _changed(conninfo: str, schema: str, tables: list[str]) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables "
            "WHERE schemaname = %s AND relname = ANY(%s)",
            (schema, tables),
        ).fetchone()
    return int(row[0]) if row else 0


def row_counts(settings: Settings, job: FlinkJob) -> RowCounts:
    """Both counters, once the job's statistics are flushed: PostgreSQL
    flushes a backend's table statistics at a commit at least a second after
    its previous flush, so wait for the job to commit (a heartbeat) 1.5 s
    after now. Call it when the store has applied everything."""
    after = store_clock(settings) + timedelta(seconds=1.5)

    def flushed() -> bool:
        check_running(job)
        mark = read_watermark(settings)
        return mark is not None and mark.applied_at > after

    wait_until(
        flushed, timeout_s=60, what="a job commit after the statistics flush", interval_s=0.2
    )
    return RowCounts(
        _changed(settings.admin_conninfo(), settings.admin_schema, list(CATALOG_TABLES)),
        _changed(settings.store_reader_conninfo(), settings.store_schema, list(VIEW_KEYS)),
    )
