"""Build the job.

Transaction-aligned (default), with no Python function in its data path:
  capture_records (ONE Kafka source: every table topic + the transaction topic)
    -> catalogview.flink.assembly (JVM, parallelism 1, keyed state on RocksDB):
       whole source transactions in commit order, each released in one call
    -> per-table changelog tables -> view SQL (any parallelism)
    -> sink rows (view_name, row_key, payload) UNION ALL transaction markers
    -> TransactionalStoreSink (JVM, Sink V2): what arrived between two
       checkpoint barriers is netted and applied in ONE store transaction with
       the watermark, once the checkpoint completes.

Baseline (--baseline): the same decoding and views, but no alignment and rows
applied one by one as they come: what a plain changelog join gives. It exists
so the checker can show what goes wrong without alignment.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from pyflink.common import Configuration, Types, WatermarkStrategy
from pyflink.common.serialization import SimpleStringSchema
from pyflink.datastream import CheckpointingMode, DataStream, StreamExecutionEnvironment
from pyflink.datastream.connectors.base import DeliveryGuarantee
from pyflink.datastream.connectors.kafka import (
    KafkaOffsetsInitializer,
    KafkaRecordSerializationSchema,
    KafkaSink,
    KafkaSource,
)
from pyflink.java_gateway import get_gateway
from pyflink.table import StreamTableEnvironment, Table
from pyflink.table.changelog_mode import ChangelogMode

from flink_jobs.changes import WATERMARK_TAG, RouteChanges, table_tag
from flink_jobs.commit_sink import TransactionalStoreSink
from flink_jobs.options import VIEWS, JobOptions
from flink_jobs.rocksdb_dir import claim_working_dir
from flink_jobs.schema import TableSpec, changelog_schema, read_table_spec
from flink_jobs.sql_files import statements, view_files
from flink_jobs.store_writer import ViewWriter, WatermarkWriter


def create_environment(
    options: JobOptions, restore_from: Path | None = None
) -> tuple[StreamExecutionEnvironment, StreamTableEnvironment]:
    conf = Configuration()
    conf.set_string("pipeline.jars", ";".join(options.jars))
    conf.set_string("execution.checkpointing.dir", options.checkpoint_dir.resolve().as_uri())
    # Keep checkpoints when the job stops, so the next start restores from one.
    conf.set_string(
        "execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION"
    )
    conf.set_string("execution.checkpointing.num-retained", str(options.retained_checkpoints))
    # A barrier passes a source transaction only once every view has digested
    # it: behind a transaction of a million rows a checkpoint takes as long as
    # the views do. Flink's 10 minutes, and failing the job on the first
    # expiry, made such a transaction restart from the last checkpoint forever.
    conf.set_string("execution.checkpointing.timeout", "2 h")
    conf.set_string("execution.checkpointing.tolerable-failed-checkpoints", "3")
    if options.metrics_port:
        # Flink's Prometheus reporter (stack/flink/pom.xml), scraped by `stack status`.
        conf.set_string(
            "metrics.reporter.prom.factory.class",
            "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
        )
        conf.set_string("metrics.reporter.prom.port", options.metrics_port)
    # Aligned checkpoints are what makes a unit a consistent cut: never let a
    # configuration default turn them unaligned.
    conf.set_string("execution.checkpointing.unaligned.enabled", "false")
    # Buffered transactions, per-row images and join state live in RocksDB:
    # memory stays bounded by configuration whatever the size of a transaction
    # or of the catalog; incremental checkpoints upload only what changed.
    conf.set_string("state.backend.type", "rocksdb")
    conf.set_string("execution.checkpointing.incremental", "true")
    conf.set_string("taskmanager.memory.managed.size", options.managed_memory)
    if options.rest_port is not None:
        # Only the local start names the mini-cluster's REST port; on a cluster
        # the TaskManagers' own configuration places RocksDB.
        #
        # RocksDB names each instance's LOG file after the instance's whole
        # path, flattened: under the mini-cluster's temporary directory a
        # restore at another parallelism made that name 256 characters, one too
        # many ("File name too long", every restore failed). A short working
        # directory keeps it well below; the LOG files go beside it, kept to
        # their header. One directory per job process, so that a start can
        # remove what killed jobs left.
        rocksdb_dir = claim_working_dir(Path(tempfile.gettempdir()) / "cv-rocksdb", os.getpid())
        conf.set_string("state.backend.rocksdb.localdir", str(rocksdb_dir))
        conf.set_string("state.backend.rocksdb.log.dir", str(rocksdb_dir / "log"))
        conf.set_string("state.backend.rocksdb.log.level", "HEADER_LEVEL")
    # The assembler looks up each buffered event by key (dedupe on arrival, take
    # on release): bloom filters spare those lookups a read of every SST file.
    conf.set_string("state.backend.rocksdb.use-bloom-filter", "true")
    # RocksDB's background threads are shared by every instance of the process
    # (~45 at parallelism 1): with Flink's 2, compactions fell behind under a
    # large transaction and writes stalled (the views' puts waited on L0 files).
    conf.set_string("state.backend.rocksdb.thread.num", "4")
    # No block compression: under a steady 200 tx/s compactions and flushes
    # took 0.25 of a core, half of it in Snappy, and 0.11 without (profiled);
    # on 2 shared cores CPU is scarcer than disk.
    conf.set_string("state.backend.rocksdb.compression.per.level", "NO_COMPRESSION")
    if restore_from is not None:
        conf.set_string("execution.state-recovery.path", restore_from.as_uri())
    if options.rest_port is not None:
        # Only the local mini-cluster reads it: `catalog-view job` reaches it there.
        conf.set_string("rest.port", str(options.rest_port))
    # Small Python bundles: a barrier waits until the current bundle is flushed.
    conf.set_string("python.fn-execution.bundle.size", "500")
    conf.set_string("python.fn-execution.bundle.time", "100")
    conf.set_string("pipeline.name", "catalog-view")
    # A failing commit (store outage) or a bad event fails the job; it restarts
    # from the last checkpoint and tries again, while the watermark stands still.
    conf.set_string("restart-strategy.type", "exponential-delay")
    conf.set_string("restart-strategy.exponential-delay.max-backoff", "30 s")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    # Python workers must run in this interpreter's environment (the venv).
    env.set_python_executable(sys.executable)
    env.set_parallelism(options.parallelism)
    env.enable_checkpointing(options.checkpoint_interval_ms, CheckpointingMode.EXACTLY_ONCE)
    t_env = StreamTableEnvironment.create(env)
    # Mini-batches (opt-in, --mini-batch-ms > 0): aggregates and joins fold
    # the changes of a batch before they emit, instead of one retraction and
    # one new row per input (a product with 10 new variants is emitted once,
    # not 10 times); a batch is flushed before every checkpoint barrier, so the
    # cut stays consistent. Off by default: in Flink 2.2.1 a mini-batch join
    # cancelled by a failover before it opened throws in close() (NPE on its
    # buffer), which Flink treats as fatal: the TaskManager is lost and the
    # local job never recovers (seen under the checker's store outage).
    table_config = t_env.get_config()
    if options.mini_batch_ms > 0:
        table_config.set("table.exec.mini-batch.enabled", "true")
        table_config.set("table.exec.mini-batch.allow-latency", f"{options.mini_batch_ms} ms")
        table_config.set("table.exec.mini-batch.size", "10000")
    # One aggregation phase: the local/global split pays off for skewed keys
    # over many subtasks, and here only added operators and state copies.
    table_config.set("table.optimizer.agg-phase-strategy", "ONE_PHASE")
    return env, t_env


def sql_variables(options: JobOptions) -> dict[str, str]:
    return {
        "topic_prefix": options.topic_prefix,
        "source_schema": options.source_schema,
        "bootstrap_servers": options.bootstrap_servers,
        "group_id": options.group_id,
        "topics": ";".join(options.captured_topics),
    }


def run_sql_file(t_env: StreamTableEnvironment, path: Path, options: JobOptions) -> None:
    for statement in statements(path, sql_variables(options)):
        t_env.execute_sql(statement)


def table_specs(t_env: StreamTableEnvironment, options: JobOptions) -> dict[str, TableSpec]:
    """Read each source table's columns from its DDL, then drop the DDL table:
    the changelog view registered under the same name replaces it."""
    specs: dict[str, TableSpec] = {}
    for table in options.tables:
        run_sql_file(t_env, options.sql_dir / "sources" / f"{table}.sql", options)
        # Every catalog table is keyed by `id` (sql/source_schema).
        specs[table] = read_table_spec(t_env, table, ("id",))
        if specs[table].columns[0].name != "id":
            raise ValueError(f"sql/sources/{table}.sql: the first column must be the key `id`")
        t_env.execute_sql(f"DROP TABLE `{table}`")
    return specs


def table_entry(stream: DataStream, table: str, parallelism: int) -> DataStream:
    """A table's changelog into the SQL at the job's parallelism, through the
    JVM entry (catalogview.flink.TableChangelogEntry): keyed by id, so every
    operator the planner chains behind it sees all changes of one row on one
    channel, in order (a round-robin hand-over between parallelisms would
    reorder them), with each row's image kept so that a TRUNCATE becomes the
    deletion of every row. Java, because PyFlink's key_by and map would change
    the stream's type and cannot list a subtask's keys."""
    jvm = get_gateway().jvm.catalogview.flink
    entry = jvm.TableChangelogEntry.of(stream._j_data_stream, table, parallelism)
    return DataStream(entry)


def register_tables_and_views(
    t_env: StreamTableEnvironment,
    options: JobOptions,
    specs: dict[str, TableSpec],
    changelogs: dict[str, DataStream],
) -> None:
    """Each table's changelog (keyed by id, at the job's parallelism) as a
    changelog view under the table's name, then the view SQL over them."""
    for name, spec in specs.items():
        table = t_env.from_changelog_stream(
            changelogs[name], changelog_schema(spec), ChangelogMode.all()
        )
        t_env.create_temporary_view(f"`{name}`", table)
    for path in view_files(options.sql_dir, VIEWS):
        run_sql_file(t_env, path, options)


def python_changelogs(
    routed: DataStream, specs: dict[str, TableSpec], options: JobOptions
) -> dict[str, DataStream]:
    """The tables' changelogs from a Python function's side outputs (baseline)."""
    changelogs = {}
    for name, spec in specs.items():
        side = routed.get_side_output(table_tag(spec))
        # PyFlink's get_side_output appends a Python identity map at the default
        # parallelism: fed round-robin from its producer, it would reorder each
        # row's changes. Keep it beside its producer.
        side.set_parallelism(routed._j_data_stream.getParallelism())
        changelogs[name] = table_entry(side, name, options.parallelism)
    return changelogs


# The order the assembler releases a transaction's (and the initial snapshot's)
# tables in: every table not named first, then each later pass in turn. A LEFT
# join's left row that arrives after its right side is joined and emitted once;
# one that arrives first is emitted again for every right row after it. So the
# left sides of the views' LEFT joins (sql/views) come last, innermost first:
# variants (left of their attributes) before products and listings (left of
# variants, attributes and listed prices). Inner joins emit once either way.
RELEASE_PASSES = (("product_variant",), ("product", "product_channel_listing"))


def assembler_config(specs: dict[str, TableSpec], options: JobOptions) -> str:
    """What the JVM assembler needs to know, as one JSON document."""
    return json.dumps(
        {
            "schema": options.source_schema,
            "heartbeat_table": options.heartbeat_table,
            "initial_snapshot": options.initial_snapshot,
            "stall_report_ms": options.stall_report_ms,
            "dead_letter": options.bad_records == "dead-letter",
            "tables": [
                {"name": name, "columns": [{"name": c.name, "kind": c.kind} for c in spec.columns]}
                for name, spec in specs.items()
            ],
            "release_passes": [[t for t in p if t in specs] for p in RELEASE_PASSES],
        }
    )


def build_aligned(
    env: StreamExecutionEnvironment, t_env: StreamTableEnvironment, options: JobOptions
) -> None:
    specs = table_specs(t_env, options)
    run_sql_file(t_env, options.sql_dir / "capture" / "records.sql", options)
    records = t_env.to_data_stream(t_env.from_path("capture_records"))
    jvm = get_gateway().jvm.catalogview.flink.assembly
    # The assembler cuts a replay at the store's watermark (docs/restore.md).
    watermark = (
        None
        if options.print_sink
        else get_gateway().jvm.catalogview.flink.StoreWatermark(
            options.store_jdbc_url, options.store_user, options.store_password, options.store_schema
        )
    )
    assembly = jvm.TransactionAssembly.of(
        records._j_data_stream, assembler_config(specs, options), watermark
    )
    changelogs = {name: DataStream(assembly.table(name, options.parallelism)) for name in specs}
    register_tables_and_views(t_env, options, specs, changelogs)
    t_env.create_temporary_view(
        "transaction_markers", t_env.from_data_stream(DataStream(assembly.markers()))
    )
    changes = t_env.to_changelog_stream(commit_rows(t_env, options))
    # Always part of the graph, whatever --bad-records says (with "stop" it
    # stays empty): switching the policy must not change the operator graph,
    # or the job could not restore its checkpoint.
    dead = DataStream(assembly.deadLetters())
    if options.print_sink:
        dead.print("dead-letter")
    else:
        dead.sink_to(dead_letter_sink(options)).name("dead-letter").uid("dead-letter")
    if options.print_sink:
        changes.print("commit")
        return
    sink = TransactionalStoreSink(
        options.store_jdbc_url,
        options.store_user,
        options.store_password,
        options.store_schema,
        commit_at_barrier=options.commit_at == "barrier",
    )
    # Never chained: otherwise the SQL's last operator would chain into the sink
    # at parallelism 1 only, changing its generated id, and a checkpoint could
    # not be restored at another parallelism (rescaling).
    (
        changes.sink_to(sink)
        .name("commit-to-store")
        .uid("commit-to-store")
        .set_parallelism(1)
        .disable_chaining()
    )


def commit_rows(t_env: StreamTableEnvironment, options: JobOptions) -> Table:
    """Every view's sink rows and the transaction markers as one changelog of
    (view_name, row_key, payload): one input for the one committing sink."""
    parts = [
        "SELECT CAST(view_name AS STRING) AS view_name, CAST(row_key AS STRING) AS row_key, "
        f"CAST(payload AS STRING) AS payload FROM ({statements(path, {})[0]})"
        for path in (options.sql_dir / "sinks" / f"{view}.sql" for view in VIEWS)
    ]
    parts.append("SELECT view_name, row_key, payload FROM transaction_markers")
    return t_env.sql_query("\nUNION ALL\n".join(parts))


def dead_letter_sink(options: JobOptions) -> KafkaSink:
    """At least once: a record may be written twice after a restore, never lost."""
    return (
        KafkaSink.builder()
        .set_bootstrap_servers(options.bootstrap_servers)
        .set_record_serializer(
            KafkaRecordSerializationSchema.builder()
            .set_topic(options.topics.dead_letter)
            .set_value_serialization_schema(SimpleStringSchema())
            .build()
        )
        .set_delivery_guarantee(DeliveryGuarantee.AT_LEAST_ONCE)
        .build()
    )


def kafka_source(options: JobOptions) -> KafkaSource:
    topics = [options.topic(t) for t in options.tables] + [options.topics.transaction]
    return (
        KafkaSource.builder()
        .set_bootstrap_servers(options.bootstrap_servers)
        .set_topics(*topics)
        .set_group_id(options.group_id)
        .set_starting_offsets(KafkaOffsetsInitializer.earliest())
        .set_value_only_deserializer(SimpleStringSchema())
        .build()
    )


def build_baseline(
    env: StreamExecutionEnvironment, t_env: StreamTableEnvironment, options: JobOptions
) -> None:
    specs = table_specs(t_env, options)
    records: DataStream = env.from_source(
        kafka_source(options), WatermarkStrategy.no_watermarks(), "debezium-topics"
    )
    routed = records.process(
        RouteChanges(specs, options.source_schema), output_type=Types.STRING()
    ).name("route-changes")
    register_tables_and_views(t_env, options, specs, python_changelogs(routed, specs, options))
    for view in VIEWS:
        view_table = t_env.from_path(f"{view}_view")
        changes = t_env.to_changelog_stream(view_table)
        if options.print_sink:
            changes.print(view)
            continue
        columns = view_table.get_schema().get_field_names()
        changes.map(
            ViewWriter(options.store_conninfo, options.store_schema, view, columns),
            output_type=Types.INT(),
        ).set_parallelism(1).name(f"write-{view}")
    if not options.print_sink:
        routed.get_side_output(WATERMARK_TAG).map(
            WatermarkWriter(options.store_conninfo, options.store_schema), output_type=Types.INT()
        ).set_parallelism(1).name("write-watermark")
