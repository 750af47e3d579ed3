"""The Flink job on a local mini-cluster, as a background process of ours.

Status reads the store's watermark row: what source position the views
reflect, and how far behind the source's last commit it is.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from catalog_view.errors import StackError
from catalog_view.settings import REPO_ROOT, Settings
from catalog_view.stack import jars
from catalog_view.stack.process import ManagedProcess
from catalog_view.stack.status import ComponentStatus
from catalog_view.store import read_watermark, store_clock
from flink_jobs.arguments import JobArguments
from flink_jobs.checkpoints import savepoint_after_checkpoints
from flink_jobs.options import BASELINES

log = logging.getLogger(__name__)

# Which pipeline without transaction alignment to run (BASELINES): "python"
# or "sql"; None (or False) for the aligned job, True for "python" (what a
# plain `--baseline` meant before there were two).
Baseline = str | bool | None


def baseline_pipeline(baseline: Baseline) -> str | None:
    """The job's `--baseline` value for `baseline`, or None for the aligned job."""
    if baseline is True:
        return "python"
    if not baseline:
        return None
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    return str(baseline)


def wrote_since(settings: Settings, since: datetime) -> bool:
    """Whether a job wrote the watermark after `since`: a job started fresh
    has taken over the store (before that, the store may still hold what an
    earlier job left, which can equal the reference by coincidence)."""
    mark = read_watermark(settings)
    return mark is not None and mark.applied_at > since


def taken_over(settings: Settings, since: datetime, baseline: Baseline = None) -> bool:
    """Whether the job started at `since` (FlinkJob.restart) has taken over the
    store. The SQL baseline writes no watermark; it empties the store, the
    watermark included, when it starts: once the watermark is gone, what the
    store holds comes from it."""
    if baseline_pipeline(baseline) == "sql":
        return read_watermark(settings) is None
    return wrote_since(settings, since)


def savepoint_dir(settings: Settings) -> Path:
    """Where `catalog-view job stop` writes savepoints on this machine."""
    return settings.data_dir / "flink" / "savepoints"


def resume_point(settings: Settings, checkpoint_dir: Path) -> Path | None:
    """Where a start without --fresh or --from goes on from, when that is not
    the newest retained checkpoint: the savepoint of a `catalog-view job
    stop` (the stop finished the job, and Flink deleted its checkpoints)."""
    found = savepoint_after_checkpoints(checkpoint_dir, savepoint_dir(settings))
    if found is not None:
        log.info("resuming from %s: the job was stopped with this savepoint", found)
    return found


def job_arguments(
    settings: Settings,
    *,
    checkpoint_dir: str,
    sql_dir: str,
    parallelism: int | None = None,
    baseline: Baseline = None,
    fresh: bool = False,
    restore_from: Path | str | None = None,
    rest_port: int | None = None,
    metrics_port: str | None = None,
    jars: tuple[str, ...] = (),
) -> JobArguments:
    """The job's arguments (flink_jobs.arguments) from the settings: the local
    start, the cluster submission and docker-compose's job-submit render this."""
    return JobArguments(
        bootstrap_servers=settings.bootstrap_servers,
        topic_prefix=settings.topic_prefix,
        source_schema=settings.admin_schema,
        store_host=settings.pg_host,
        store_port=settings.pg_port,
        store_db=settings.store_db,
        store_schema=settings.store_schema,
        store_user=settings.writer_user,
        parallelism=parallelism or settings.flink_parallelism,
        bad_records=settings.bad_records,
        managed_memory=settings.job_managed_memory,
        checkpoint_interval_ms=settings.checkpoint_interval_ms,
        commit_at=settings.commit_at,
        checkpoint_dir=checkpoint_dir,
        sql_dir=sql_dir,
        baseline=baseline_pipeline(baseline),
        fresh=fresh,
        restore_from=None if restore_from is None else str(restore_from),
        rest_port=rest_port,
        retained_checkpoints=settings.retained_checkpoints,
        metrics_port=metrics_port,
        jars=jars,
    )


@dataclass(frozen=True)
class FlinkJob:
    settings: Settings

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess.of("flink-job", self.settings.data_dir)

    @property
    def checkpoint_root(self) -> Path:
        return self.settings.data_dir / "flink" / "checkpoints"

    @property
    def checkpoint_dir(self) -> Path:
        """Where the transaction-aligned job keeps its checkpoints (flink_jobs.options)."""
        return self.checkpoint_root / "aligned"

    def argv(
        self,
        *,
        parallelism: int | None = None,
        baseline: Baseline = None,
        fresh: bool = False,
        restore_from: Path | None = None,
    ) -> list[str]:
        arguments = job_arguments(
            self.settings,
            parallelism=parallelism,
            baseline=baseline,
            fresh=fresh,
            restore_from=restore_from,
            checkpoint_dir=str(self.checkpoint_root),
            sql_dir=str(REPO_ROOT / "sql"),
            rest_port=self.settings.flink_mini_rest_port,
            metrics_port=self.settings.metrics_port or None,
            jars=tuple(jars.flink_jar_urls()),
        )
        return [sys.executable, "-m", "flink_jobs", *arguments.argv()]

    def start(
        self,
        *,
        parallelism: int | None = None,
        baseline: Baseline = None,
        fresh: bool = False,
        restore_from: Path | None = None,
    ) -> int:
        """Start the job (no-op when running). `baseline` runs a pipeline
        without transaction alignment, for the checker to judge: "python" (the
        plain join written row by row; True means it too) or "sql" (plain Flink
        SQL with JDBC sinks, no watermark); `fresh` ignores retained
        checkpoints (a full replay into an emptied store); `restore_from` starts
        from that checkpoint or savepoint instead of the newest checkpoint."""
        if restore_from is None and not fresh and not baseline:
            restore_from = resume_point(self.settings, self.checkpoint_dir)
        env = dict(os.environ)
        # The password travels in the environment, never on the command line.
        env["CATALOG_VIEW_STORE_PASSWORD"] = self.settings.secret("writer_password")
        # The mini-cluster's own log (task failures, commits), per data directory.
        flink_logs = self.settings.data_dir / "logs" / "flink"
        flink_logs.mkdir(parents=True, exist_ok=True)
        env["FLINK_LOG_DIR"] = str(flink_logs)
        # A JVM crash report goes beside those logs, not into the working
        # directory (the repository): RocksDB's native code has crashed a job
        # that was being stopped while it flushed.
        env.setdefault(
            "JVM_ARGS",
            f"-Xmx{self.settings.job_heap} -XX:+UseG1GC "
            f"-XX:ErrorFile={flink_logs / 'hs_err_pid%p.log'}",
        )
        # RocksDB allocates from many threads; glibc's per-thread malloc arenas
        # then hold freed memory apart, and the job's resident size outgrew its
        # heap plus managed memory by ~900 MiB under a 1M-row transaction.
        env.setdefault("MALLOC_ARENA_MAX", "2")
        if s_port := self.settings.metrics_port:
            # PyFlink's local gateway JVM appends HADOOP_CLASSPATH to its
            # classpath: the one way to put the reporter where Flink's metric
            # registry finds it (a --jar lands in the user class loader).
            reporter = [str(j) for j in jars.metric_reporter_jars()]
            if not reporter:
                raise StackError(
                    f"CATALOG_VIEW_METRICS_PORT={s_port} but no flink-metrics-prometheus jar in "
                    f"{jars.component_dir('flink')}: run `catalog-view jars`"
                )
            env["HADOOP_CLASSPATH"] = os.pathsep.join(
                [*reporter, *([env["HADOOP_CLASSPATH"]] if env.get("HADOOP_CLASSPATH") else [])]
            )
        argv = self.argv(
            parallelism=parallelism, baseline=baseline, fresh=fresh, restore_from=restore_from
        )
        return self.process.start(argv, env=env, cwd=REPO_ROOT)

    def stop(self) -> bool:
        return self.process.stop(timeout_s=20)

    def alive(self) -> bool:
        return self.process.pid() is not None

    @property
    def rest_url(self) -> str:
        """The mini-cluster's REST endpoint (the job passes --rest-port)."""
        return f"http://127.0.0.1:{self.settings.flink_mini_rest_port}"

    def started_at(self) -> datetime | None:
        """When the running job was started (its pid file), or None."""
        if self.process.pid() is None:
            return None
        mtime = self.process.pid_file.stat().st_mtime
        return datetime.fromtimestamp(mtime, tz=timezone.utc)

    def restart(
        self,
        *,
        parallelism: int | None = None,
        baseline: Baseline = None,
        fresh: bool = False,
    ) -> datetime:
        """Stop the job if it runs, note the store's clock, start it again.
        Returns that time: `wrote_since(settings, it)` tells when the new job
        has taken over the store."""
        self.stop()
        since = store_clock(self.settings)
        self.start(parallelism=parallelism, baseline=baseline, fresh=fresh)
        return since

    def status(self) -> ComponentStatus:
        pid = self.process.pid()
        try:
            mark = read_watermark(self.settings)
        except (psycopg.Error, Exception) as exc:  # noqa: BLE001 - status must not crash
            mark, detail = None, f"store unreadable: {str(exc).strip().splitlines()[0]}"
        else:
            detail = "no watermark yet"
        if mark is not None:
            lag = ""
            if mark.source_commit is not None:
                lag = f", source commit {mark.source_commit.isoformat()}"
            age = (datetime.now(timezone.utc) - mark.applied_at).total_seconds()
            detail = (
                f"watermark lsn {mark.commit_lsn} txid {mark.source_txid}{lag}, "
                f"applied {age:.1f}s ago"
            )
        state = "running" if pid is not None else "stopped"
        if pid is not None:
            detail = f"pid {pid}; {detail}"
        return ComponentStatus("flink-job", state, "pyflink " + _pyflink_version(), detail)


def _pyflink_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("apache-flink")
    except PackageNotFoundError:
        return "?"
