"""Command-line options of the job. Secrets come from the environment only."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flink_jobs.topics import CaptureTopics

STORE_PASSWORD_ENV = "CATALOG_VIEW_STORE_PASSWORD"
VIEWS = ("product", "product_channel")
# --baseline PIPELINE: "python" (row-by-row writer, flink_jobs/pipeline.py) or
# "sql" (plain Flink SQL with a JDBC sink, flink_jobs/sql_baseline.py).
BASELINES = ("python", "sql")
# When the commit sink applies a unit: as the barrier passes it, or once the checkpoint completed.
COMMIT_POINTS = ("barrier", "checkpoint")
CHECKPOINT_SUBDIRS = {None: "aligned", "python": "baseline", "sql": "baseline-sql"}


@dataclass(frozen=True)
class JobOptions:
    bootstrap_servers: str
    topic_prefix: str
    source_schema: str
    tables: tuple[str, ...]
    # Captured beside the catalog, never viewed: its transactions advance the watermark.
    heartbeat_table: str | None
    store_host: str
    store_port: int
    store_db: str
    store_schema: str
    store_user: str
    store_password: str
    parallelism: int
    checkpoint_dir: Path
    checkpoint_interval_ms: int
    # One of COMMIT_POINTS: "barrier" or "checkpoint" (docs/design.md, "Commit stage").
    commit_at: str
    sql_dir: Path
    jars: tuple[str, ...]
    group_id: str
    print_sink: bool
    # None: the transaction-aligned job; else one of BASELINES.
    baseline: str | None
    fresh: bool
    # Debezium takes an initial snapshot (snapshot.mode=initial) and reports it
    # on the notification topic: no streamed transaction before that epoch.
    initial_snapshot: bool
    # How long the assembler waits on one transaction before it logs what is missing.
    stall_report_ms: int
    # "stop" (default): a change that cannot be applied stops the watermark;
    # "dead-letter": it goes to <prefix>.dead-letter and is left out.
    bad_records: str
    # Off-heap memory of the state backend (RocksDB): what bounds the memory of
    # buffered transactions and of the views' state, beside the JVM heap.
    managed_memory: str
    # How long the views' aggregates and joins may hold changes to fold them.
    mini_batch_ms: int
    # An explicit restore point (a savepoint), instead of the newest retained
    # checkpoint; the store may be ahead of it (docs/restore.md).
    restore_from: Path | None = None
    # The mini-cluster's REST port (None: Flink's default); ignored on a cluster.
    rest_port: int | None = None
    # Completed checkpoints kept on disk: older ones are restore points too.
    retained_checkpoints: int = 3
    # Port (or range "9250-9260") of Flink's Prometheus reporter; None: no reporter.
    metrics_port: str | None = None

    @property
    def topics(self) -> CaptureTopics:
        return CaptureTopics(self.topic_prefix, self.source_schema)

    def topic(self, table: str) -> str:
        return self.topics.table(table)

    @property
    def captured_topics(self) -> list[str]:
        """The topics the aligned job reads: catalog tables, heartbeat,
        transactions and the snapshot notifications."""
        heartbeat = [self.topic(self.heartbeat_table)] if self.heartbeat_table else []
        tables = [self.topic(t) for t in self.tables]
        return [*tables, *heartbeat, self.topics.transaction, self.topics.notification]

    @property
    def store_jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.store_host}:{self.store_port}/{self.store_db}"

    @property
    def store_conninfo(self) -> str:
        return (
            f"host={self.store_host} port={self.store_port} dbname={self.store_db} "
            f"user={self.store_user} password={self.store_password}"
        )


def parse_options(argv: Sequence[str] | None = None) -> JobOptions:
    parser = argparse.ArgumentParser(prog="flink_jobs", description="catalog-view Flink job")
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic-prefix", required=True)
    parser.add_argument("--source-schema", required=True)
    parser.add_argument(
        "--heartbeat-table",
        default="cdc_heartbeat",
        help="table written by Debezium's heartbeat.action.query ('' for none)",
    )
    parser.add_argument("--store-host", default="127.0.0.1")
    parser.add_argument("--store-port", type=int, default=5432)
    parser.add_argument("--store-db", default="catalog_store")
    parser.add_argument("--store-schema", default="catalog_view")
    parser.add_argument("--store-user", default="catalog_view_writer")
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--checkpoint-dir", type=Path, required=True)
    parser.add_argument("--checkpoint-interval-ms", type=int, default=500)
    parser.add_argument(
        "--commit-at",
        choices=COMMIT_POINTS,
        default="barrier",
        help="when a unit is applied to the store: 'barrier' (default), as the checkpoint "
        "barrier passes the sink; 'checkpoint', once the checkpoint has completed (the store "
        "then waits for the slowest operator's snapshot)",
    )
    parser.add_argument(
        "--sql-dir", type=Path, default=Path(__file__).resolve().parent.parent / "sql"
    )
    parser.add_argument("--jar", action="append", default=[], help="file:// URL of a connector jar")
    parser.add_argument("--group-id", default="catalog-view-job")
    parser.add_argument(
        "--print-sink", action="store_true", help="print view changes, write nothing"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="ignore retained checkpoints: replay the capture into an emptied store",
    )
    parser.add_argument(
        "--baseline",
        nargs="?",
        const="python",
        choices=BASELINES,
        default=None,
        help="a pipeline WITHOUT transaction alignment, for the checker and the benchmark: "
        "'python' (alone: the default) decodes as the aligned job does and writes rows one by "
        "one; 'sql' is plain Flink SQL (Kafka debezium-json sources, the views, JDBC upsert "
        "sinks) and writes no watermark",
    )
    parser.add_argument(
        "--initial-snapshot",
        choices=("required", "none"),
        default="required",
        help="'required' (default): the connector takes an initial snapshot, reported on "
        "<prefix>.notification, and no streamed transaction is shown before it; 'none': the "
        "connector never snapshots (snapshot.mode=no_data)",
    )
    parser.add_argument(
        "--stall-report-ms",
        type=int,
        default=10_000,
        help="log what the assembler waits for when one transaction has held the queue this long",
    )
    parser.add_argument(
        "--bad-records",
        choices=("stop", "dead-letter"),
        default="stop",
        help="a change whose values do not fit the views: 'stop' (default) stops the watermark "
        "with topic, partition, offset and reason; 'dead-letter' records it on "
        "<prefix>.dead-letter and leaves it out of the views (they then differ from the source)",
    )
    parser.add_argument(
        "--managed-memory",
        default="256m",
        help="RocksDB's memory (Flink managed memory, e.g. 256m): buffered transactions and "
        "view state beyond it spill to disk",
    )
    parser.add_argument(
        "--mini-batch-ms",
        type=int,
        default=0,
        help="how long the views' operators may buffer changes to fold them (Flink SQL "
        "mini-batch, flushed at every checkpoint barrier); 0, the default, turns it off "
        "(README: Flink 2.2.1's mini-batch join can lose the TaskManager on a failover)",
    )
    parser.add_argument(
        "--restore-from",
        type=Path,
        default=None,
        help="a savepoint (or checkpoint) directory to restore instead of the newest retained "
        "checkpoint (catalog-view job resume); the store may be ahead of it (docs/restore.md)",
    )
    parser.add_argument(
        "--rest-port",
        type=int,
        default=None,
        help="the local mini-cluster's REST port (catalog-view job status/stop use it)",
    )
    parser.add_argument(
        "--retained-checkpoints",
        type=int,
        default=3,
        help="completed checkpoints kept on disk (older ones are restore points too)",
    )
    parser.add_argument(
        "--metrics-port",
        default=None,
        help="port or range (e.g. 9250-9260) of Flink's Prometheus reporter; none by default",
    )
    args = parser.parse_args(argv)
    if args.restore_from is not None and (args.fresh or args.baseline):
        parser.error("--restore-from restores the aligned job; not with --fresh or --baseline")
    if args.retained_checkpoints < 1:
        parser.error(f"--retained-checkpoints must be >= 1, got {args.retained_checkpoints}")
    if args.mini_batch_ms < 0:
        parser.error(f"--mini-batch-ms must be >= 0 (0: off), got {args.mini_batch_ms}")
    if args.baseline == "sql" and args.print_sink:
        parser.error("--print-sink is not available with --baseline sql (its sinks are JDBC)")
    if args.parallelism < 1:
        parser.error(f"--parallelism must be >= 1, got {args.parallelism}")
    sources = sorted(p.stem for p in (args.sql_dir / "sources").glob("*.sql"))
    if not sources:
        parser.error(f"no source tables in {args.sql_dir / 'sources'}")
    password = os.environ.get(STORE_PASSWORD_ENV)
    if password is None and not args.print_sink:
        parser.error(f"set the store password in the environment variable {STORE_PASSWORD_ENV}")
    return JobOptions(
        bootstrap_servers=args.bootstrap_servers,
        topic_prefix=args.topic_prefix,
        source_schema=args.source_schema,
        tables=tuple(sources),
        heartbeat_table=args.heartbeat_table or None,
        store_host=args.store_host,
        store_port=args.store_port,
        store_db=args.store_db,
        store_schema=args.store_schema,
        store_user=args.store_user,
        store_password=password or "",
        parallelism=args.parallelism,
        # Separate checkpoints per pipeline: their operator graphs differ.
        checkpoint_dir=args.checkpoint_dir / CHECKPOINT_SUBDIRS[args.baseline],
        checkpoint_interval_ms=args.checkpoint_interval_ms,
        commit_at=args.commit_at,
        sql_dir=args.sql_dir,
        jars=tuple(args.jar),
        group_id=args.group_id,
        print_sink=args.print_sink,
        baseline=args.baseline,
        fresh=args.fresh,
        initial_snapshot=args.initial_snapshot == "required",
        stall_report_ms=args.stall_report_ms,
        bad_records=args.bad_records,
        managed_memory=args.managed_memory,
        mini_batch_ms=args.mini_batch_ms,
        restore_from=args.restore_from,
        rest_port=args.rest_port,
        retained_checkpoints=args.retained_checkpoints,
        metrics_port=args.metrics_port,
    )
