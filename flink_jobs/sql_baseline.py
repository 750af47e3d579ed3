"""The SQL baseline (`--baseline sql`): the job a Flink user writes today to
keep these views, in plain Flink SQL with no Python in its data path.

  per catalog table: a Kafka source on its Debezium topic, 'debezium-json'
    (sql/baseline/sources.sql)
  -> the views, unchanged (sql/views/)
  -> JDBC upsert sinks into the store's view tables (sql/baseline/sinks.sql),
     both INSERTs in one statement set (sql/baseline/insert.sql).

No transaction alignment and no watermark row: the store shows whatever rows
the joins have emitted and the sink has flushed, so readers can see states the
source never had; the checker and the benchmark judge it by comparing the
store with the reference queries. Every start replays the topics from the
first offset into an emptied store (no restore).

This module only assembles the job: it reads the SQL files, fills their
`${name}` placeholders from the job options (sql_files.statements), applies
the SET statements of sql/baseline/settings.sql to the table config (PyFlink's
execute_sql does not take SET) and submits the statement set.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pyflink.common import Configuration
from pyflink.table import EnvironmentSettings, StatementSet, TableEnvironment

from flink_jobs.options import VIEWS, JobOptions
from flink_jobs.sql_files import statements, view_files
from flink_jobs.store_writer import reset_store

_SET = re.compile(r"SET\s+'(?P<key>[^']+)'\s*=\s*'(?P<value>[^']*)'", re.IGNORECASE)


def baseline_dir(options: JobOptions) -> Path:
    return options.sql_dir / "baseline"


def sql_variables(options: JobOptions) -> dict[str, str]:
    return {
        "topic_prefix": options.topic_prefix,
        "source_schema": options.source_schema,
        "bootstrap_servers": options.bootstrap_servers,
        "group_id": options.group_id,
        "store_jdbc_url": options.store_jdbc_url,
        "store_schema": options.store_schema,
        "store_user": options.store_user,
        "store_password": options.store_password,
    }


def settings(path: Path, variables: dict[str, str]) -> list[tuple[str, str]]:
    """The (key, value) of each `SET 'key' = 'value'` statement of a file."""
    found = []
    for statement in statements(path, variables):
        match = _SET.fullmatch(statement)
        if match is None:
            raise ValueError(f"{path}: expected only SET 'key' = 'value' statements: {statement}")
        found.append((match["key"], match["value"]))
    return found


def create_table_environment(options: JobOptions) -> TableEnvironment:
    """A streaming TableEnvironment on the local mini-cluster. Checkpoints
    make the JDBC sinks flush at each barrier; the job never restores one."""
    conf = Configuration()
    conf.set_string("pipeline.jars", ";".join(options.jars))
    conf.set_string("pipeline.name", "catalog-view-sql-baseline")
    conf.set_string("parallelism.default", str(options.parallelism))
    conf.set_string("execution.checkpointing.interval", f"{options.checkpoint_interval_ms} ms")
    conf.set_string("execution.checkpointing.dir", options.checkpoint_dir.resolve().as_uri())
    environment = (
        EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(conf).build()
    )
    return TableEnvironment.create(environment)


def build(t_env: TableEnvironment, options: JobOptions) -> StatementSet:
    """Register the sources, views and sinks; the INSERTs as one statement set."""
    variables = sql_variables(options)
    sql_dir = baseline_dir(options)
    for key, value in settings(sql_dir / "settings.sql", variables):
        t_env.get_config().set(key, value)
    ddl = [sql_dir / "sources.sql", *view_files(options.sql_dir, VIEWS), sql_dir / "sinks.sql"]
    for path in ddl:
        for statement in statements(path, variables):
            t_env.execute_sql(statement)
    statement_set = t_env.create_statement_set()
    for statement in statements(sql_dir / "insert.sql", variables):
        statement_set.add_insert_sql(statement)
    return statement_set


def run_sql_baseline(options: JobOptions) -> int:
    """Build, empty the store, run until the job is stopped."""
    t_env = create_table_environment(options)
    statement_set = build(t_env, options)
    reset_store(options.store_conninfo, options.store_schema, list(VIEWS))
    print(
        f"catalog-view job: SQL baseline (no alignment, no watermark), parallelism "
        f"{options.parallelism}, {len(options.tables)} tables from {options.topic_prefix}.*, "
        "replaying the capture from the start",
        file=sys.stderr,
        flush=True,
    )
    statement_set.execute().wait()
    return 0
