"""Settings of the local stack and of the capture, from the environment.

Every value can be set with an environment variable `CATALOG_VIEW_<FIELD>` or in
a dotenv-style settings file named by `CATALOG_VIEW_SETTINGS_FILE`. Passwords
are never checked in: `catalog-view stack up` generates them once into
`<data_dir>/secrets.env`, which is read after the environment.

Slot, publication, topic prefix and connector name all derive from one
`capture_name`, so two captures on one database cannot collide.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog_view.errors import ConfigError
from flink_jobs.topics import CaptureTopics

REPO_ROOT = Path(__file__).resolve().parent.parent

# The catalog tables Debezium captures, in dependency order (parents first).
CATALOG_TABLES: tuple[str, ...] = (
    "category",
    "product_type",
    "attribute",
    "attribute_value",
    "channel",
    "product",
    "assigned_product_attribute_value",
    "product_variant",
    "assigned_variant_attribute_value",
    "product_channel_listing",
    "product_variant_channel_listing",
)

# Written by Debezium's heartbeat.action.query (sql/source_schema/002_heartbeat.sql):
# captured with the catalog so that heartbeats are source transactions too.
HEARTBEAT_TABLE = "cdc_heartbeat"
CAPTURED_TABLES: tuple[str, ...] = (*CATALOG_TABLES, HEARTBEAT_TABLE)

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class Settings(BaseSettings):
    """One place for every knob; validated on load so a typo fails early."""

    model_config = SettingsConfigDict(env_prefix="CATALOG_VIEW_", extra="ignore")

    data_dir: Path = Field(default=REPO_ROOT / ".stack")

    pg_host: str = "127.0.0.1"
    pg_port: int = Field(default=55432, ge=1, le=65535)
    pg_superuser_password: SecretStr | None = None

    admin_db: str = "catalog_admin"
    admin_schema: str = "catalog"
    admin_user: str = "catalog_admin"
    admin_password: SecretStr | None = None

    store_db: str = "catalog_store"
    store_schema: str = "catalog_view"
    writer_user: str = "catalog_view_writer"
    writer_password: SecretStr | None = None
    reader_user: str = "catalog_view_reader"
    reader_password: SecretStr | None = None

    cdc_user: str = "catalog_cdc"
    cdc_password: SecretStr | None = None

    kafka_port: int = Field(default=59092, ge=1, le=65535)
    kafka_controller_port: int = Field(default=59093, ge=1, le=65535)
    connect_port: int = Field(default=58083, ge=1, le=65535)
    connect_url: str | None = None
    # Where clients reach Kafka when it is not the local broker (docker-compose).
    kafka_bootstrap_servers: str | None = None

    capture_name: str = "catalog"
    # Several partitions per table topic by default: the job must not depend
    # on Kafka order across records of one table.
    topic_partitions: int = Field(default=3, ge=1, le=64)
    heartbeat_interval_ms: int = Field(default=5000, ge=100)
    # How long Debezium waits for more changes before it hands a batch on
    # (its poll.interval.ms, 500 by default): part of every commit-to-visible
    # time, so the project's default is shorter.
    capture_poll_interval_ms: int = Field(default=100, ge=10)
    flink_parallelism: int = Field(default=1, ge=1, le=64)
    # The local job's JVM heap (-Xmx) and RocksDB's off-heap memory (Flink
    # managed memory): together they bound the job's memory; buffered
    # transactions and view state beyond them spill to disk. 1g held a
    # 1M-row source transaction; the rest of the process (RocksDB, network,
    # metaspace, threads) comes on top.
    job_heap: str = Field(default="1g", pattern=r"^[0-9]+[mMgG]$")
    job_managed_memory: str = Field(default="256m", pattern=r"^[0-9]+[mMgG]$")
    # A unit is what arrives between two checkpoints: the interval bounds how
    # fresh the store can be, and each checkpoint costs every operator a snapshot.
    # 500 ms: B1's p99 at 50 tx/s 0.92 s (1.44 s at 1 s); bulk imports and
    # 200 tx/s pay for it (README, "Checkpoint interval").
    checkpoint_interval_ms: int = Field(default=500, ge=100)
    # When a unit reaches the store: "barrier", as the checkpoint barrier passes
    # the sink (fresher); "checkpoint", once the checkpoint has completed.
    # Exactly-once either way (docs/design.md, "Commit stage").
    commit_at: Literal["barrier", "checkpoint"] = "barrier"
    # Completed checkpoints kept: the older ones are restore points too (docs/restore.md).
    retained_checkpoints: int = Field(default=3, ge=1, le=100)
    # Port range of the job's Prometheus reporter (Flink metrics, read by
    # `stack status`); "" for no reporter.
    metrics_port: str = Field(default="59250-59259", pattern=r"^([0-9]+(-[0-9]+)?)?$")
    # `stack status` says "stalled" when the source has committed past the
    # watermark and the watermark has not moved for this long.
    stall_after_s: float = Field(default=60.0, gt=0)
    # What the job does with a change whose values do not fit the views:
    # "stop" the watermark (default), or "dead-letter" it and go on.
    bad_records: Literal["stop", "dead-letter"] = "stop"

    # The standalone session cluster (`stack up --flink cluster`): the
    # JobManager's REST and RPC ports, TaskManager i's RPC port is
    # flink_rpc_port + i. The mini-cluster job serves REST on its own port.
    flink_rest_port: int = Field(default=58081, ge=1, le=65535)
    flink_rpc_port: int = Field(default=58123, ge=1, le=65535)
    flink_mini_rest_port: int = Field(default=58082, ge=1, le=65535)
    # Flink's Prometheus reporter (in the wheel's plugins/): the JobManager
    # serves /metrics on this port, TaskManager i on this port + i.
    flink_prometheus_port: int = Field(default=58249, ge=1, le=65535)
    flink_taskmanagers: int = Field(default=2, ge=1, le=16)
    flink_slots_per_taskmanager: int = Field(default=2, ge=1, le=64)
    flink_taskmanager_memory: str = Field(default="1536m", pattern=r"^[0-9]+[mMgG]$")
    # A remote cluster's REST address (http://host:port) for `catalog-view job`;
    # unset: the local cluster when it runs, else the local mini-cluster.
    flink_rest_address: str | None = None
    # Where stop-with-savepoint writes on a remote cluster (a path its
    # JobManager and TaskManagers share); locally <data_dir>/flink/savepoints.
    flink_savepoint_dir: str | None = None

    @field_validator("capture_name", "admin_db", "store_db", "admin_schema", "store_schema")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(
                f"{value!r} must be a lower-case SQL identifier (letters, digits, _), "
                "because slot, publication and topic names derive from it"
            )
        return value

    # Names derived from capture_name.
    @property
    def connector_name(self) -> str:
        return f"{self.capture_name}-source"

    @property
    def slot_name(self) -> str:
        return f"{self.capture_name}_slot"

    @property
    def publication_name(self) -> str:
        return f"{self.capture_name}_publication"

    @property
    def topic_prefix(self) -> str:
        return self.capture_name

    @property
    def topics(self) -> CaptureTopics:
        return CaptureTopics(self.topic_prefix, self.admin_schema)

    @property
    def transaction_topic(self) -> str:
        return self.topics.transaction

    @property
    def notification_topic(self) -> str:
        return self.topics.notification

    @property
    def dead_letter_topic(self) -> str:
        return self.topics.dead_letter

    def table_topic(self, table: str) -> str:
        return self.topics.table(table)

    @property
    def table_topics(self) -> list[str]:
        return [self.table_topic(t) for t in CAPTURED_TABLES]

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or f"127.0.0.1:{self.kafka_port}"

    @property
    def connect_endpoint(self) -> str:
        return self.connect_url or f"http://127.0.0.1:{self.connect_port}"

    @property
    def secrets_file(self) -> Path:
        return self.data_dir / "secrets.env"

    def secret(self, name: str) -> str:
        """A password by field name; a clear error when it was never generated."""
        value = getattr(self, name)
        if value is None:
            raise ConfigError(
                f"{name} is not set: set CATALOG_VIEW_{name.upper()} or run "
                f"`catalog-view stack up`, which writes {self.secrets_file}"
            )
        secret: str = value.get_secret_value()
        return secret

    def conninfo(self, db: str, user: str, password_field: str) -> str:
        return (
            f"host={self.pg_host} port={self.pg_port} dbname={db} user={user} "
            f"password={self.secret(password_field)} connect_timeout=5"
        )

    def admin_conninfo(self) -> str:
        return self.conninfo(self.admin_db, self.admin_user, "admin_password")

    def store_writer_conninfo(self) -> str:
        return self.conninfo(self.store_db, self.writer_user, "writer_password")

    def store_reader_conninfo(self) -> str:
        return self.conninfo(self.store_db, self.reader_user, "reader_password")

    def superuser_conninfo(self, db: str = "postgres") -> str:
        return self.conninfo(db, "postgres", "pg_superuser_password")


def load_settings(**overrides: Any) -> Settings:
    """Environment first, then the optional settings file, then generated secrets."""
    env_files: list[Path] = []
    settings_file = os.environ.get("CATALOG_VIEW_SETTINGS_FILE")
    if settings_file:
        path = Path(settings_file)
        if not path.is_file():
            raise ConfigError(f"CATALOG_VIEW_SETTINGS_FILE={settings_file}: no such file")
        env_files.append(path)
    try:
        first = Settings(_env_file=env_files or None, **overrides)  # type: ignore[call-arg]
        if first.secrets_file.is_file():
            # Later files win in pydantic-settings, so the generated secrets come
            # first: an explicit settings file still overrides them.
            env_files.insert(0, first.secrets_file)
            return Settings(_env_file=env_files, **overrides)  # type: ignore[call-arg]
        return first
    except ValidationError as exc:
        problems = "; ".join(
            f"CATALOG_VIEW_{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
