"""Build the job: all catalog topics through ONE Kafka source operator, decoded
and routed per table into changelog tables, the view SQL over them, and the
store writers.

One source operator for every table is what later lets a checkpoint barrier
cut the whole input at a source-transaction boundary.
"""

from __future__ import annotations

import sys

from pyflink.common import Configuration, Types, WatermarkStrategy
from pyflink.common.serialization import SimpleStringSchema
from pyflink.datastream import CheckpointingMode, DataStream, StreamExecutionEnvironment
from pyflink.datastream.connectors.kafka import KafkaOffsetsInitializer, KafkaSource
from pyflink.table import StreamTableEnvironment
from pyflink.table.changelog_mode import ChangelogMode

from flink_jobs.changes import WATERMARK_TAG, RouteChanges, table_tag
from flink_jobs.options import VIEWS, JobOptions
from flink_jobs.schema import TableSpec, changelog_schema, read_table_spec
from flink_jobs.sql_files import statements, view_files
from flink_jobs.store_writer import ViewWriter, WatermarkWriter


def create_environment(
    options: JobOptions,
) -> tuple[StreamExecutionEnvironment, StreamTableEnvironment]:
    conf = Configuration()
    conf.set_string("pipeline.jars", ";".join(options.jars))
    conf.set_string("execution.checkpointing.dir", options.checkpoint_dir.resolve().as_uri())
    # Small Python bundles: a barrier waits until the current bundle is flushed.
    conf.set_string("python.fn-execution.bundle.size", "500")
    conf.set_string("python.fn-execution.bundle.time", "100")
    conf.set_string("pipeline.name", "catalog-view")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    # Python workers must run in this interpreter's environment (the venv).
    env.set_python_executable(sys.executable)
    env.set_parallelism(options.parallelism)
    env.enable_checkpointing(options.checkpoint_interval_ms, CheckpointingMode.EXACTLY_ONCE)
    return env, StreamTableEnvironment.create(env)


def sql_variables(options: JobOptions) -> dict[str, str]:
    return {
        "topic_prefix": options.topic_prefix,
        "source_schema": options.source_schema,
        "bootstrap_servers": options.bootstrap_servers,
        "group_id": options.group_id,
    }


def table_specs(t_env: StreamTableEnvironment, options: JobOptions) -> dict[str, TableSpec]:
    """Read each source table's columns from its DDL, then drop the DDL table:
    the changelog view registered under the same name replaces it."""
    specs: dict[str, TableSpec] = {}
    for table in options.tables:
        for statement in statements(
            options.sql_dir / "sources" / f"{table}.sql", sql_variables(options)
        ):
            t_env.execute_sql(statement)
        # Every catalog table is keyed by `id` (sql/source_schema).
        specs[table] = read_table_spec(t_env, table, ("id",))
        t_env.execute_sql(f"DROP TABLE `{table}`")
    return specs


def kafka_source(options: JobOptions) -> KafkaSource:
    topics = [options.topic(t) for t in options.tables] + [options.transaction_topic]
    return (
        KafkaSource.builder()
        .set_bootstrap_servers(options.bootstrap_servers)
        .set_topics(*topics)
        .set_group_id(options.group_id)
        # Every start replays the capture from the beginning: the join state is
        # rebuilt and the upserting writer converges on the same rows.
        .set_starting_offsets(KafkaOffsetsInitializer.earliest())
        .set_value_only_deserializer(SimpleStringSchema())
        .build()
    )


def build(
    env: StreamExecutionEnvironment, t_env: StreamTableEnvironment, options: JobOptions
) -> None:
    specs = table_specs(t_env, options)
    records: DataStream = env.from_source(
        kafka_source(options), WatermarkStrategy.no_watermarks(), "debezium-topics"
    )
    routed = records.process(RouteChanges(specs), output_type=Types.STRING()).name("route-changes")
    for name, spec in specs.items():
        changes = routed.get_side_output(table_tag(spec))
        table = t_env.from_changelog_stream(changes, changelog_schema(spec), ChangelogMode.all())
        t_env.create_temporary_view(f"`{name}`", table)
    for path in view_files(options.sql_dir, VIEWS):
        for statement in statements(path, sql_variables(options)):
            t_env.execute_sql(statement)
    watermarks = routed.get_side_output(WATERMARK_TAG)
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
        watermarks.map(
            WatermarkWriter(options.store_conninfo, options.store_schema), output_type=Types.INT()
        ).set_parallelism(1).name("write-watermark")
