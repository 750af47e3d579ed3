"""Settings validation and connector rendering: no services needed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from catalog_view.errors import ConfigError
from catalog_view.settings import CATALOG_TABLES, REPO_ROOT, Settings, load_settings
from catalog_view.templating import render_text
from connectors.register import ConnectClient, ConnectorError
from connectors.render import password_reference, render_source_connector, render_template

pytestmark = pytest.mark.unit


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path, cdc_password="s3cret")


def test_names_derive_from_one_capture_name(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path, capture_name="shop")
    assert (s.connector_name, s.slot_name, s.publication_name) == (
        "shop-source",
        "shop_slot",
        "shop_publication",
    )
    assert s.transaction_topic == "shop.transaction"
    assert s.table_topic("product") == "shop.catalog.product"


def test_invalid_capture_name_is_rejected_with_the_variable_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CATALOG_VIEW_CAPTURE_NAME", "Bad-Name")
    with pytest.raises(
        ConfigError, match=r"CATALOG_VIEW_CAPTURE_NAME: .*lower-case SQL identifier"
    ):
        load_settings()


def test_invalid_port_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_VIEW_PG_PORT", "99999")
    with pytest.raises(ConfigError, match="CATALOG_VIEW_PG_PORT: Input should be less than"):
        load_settings()


def test_missing_settings_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_VIEW_SETTINGS_FILE", "/nonexistent/catalog.env")
    with pytest.raises(ConfigError, match="/nonexistent/catalog.env: no such file"):
        load_settings()


def test_settings_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "catalog.env"
    env_file.write_text("CATALOG_VIEW_TOPIC_PARTITIONS=4\nCATALOG_VIEW_CAPTURE_NAME=shop\n")
    monkeypatch.setenv("CATALOG_VIEW_SETTINGS_FILE", str(env_file))
    s = load_settings(data_dir=tmp_path)
    assert (s.topic_partitions, s.capture_name) == (4, "shop")


def test_missing_secret_says_how_to_get_one(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    with pytest.raises(
        ConfigError, match="admin_password is not set: set CATALOG_VIEW_ADMIN_PASSWORD"
    ):
        s.admin_conninfo()


def test_rendered_connector_config(settings: Settings) -> None:
    config = render_source_connector(settings)
    assert config["plugin.name"] == "pgoutput"
    assert config["provide.transaction.metadata"] == "true"
    assert config["slot.name"] == "catalog_slot"
    assert config["publication.name"] == "catalog_publication"
    assert config["publication.autocreate.mode"] == "disabled"
    captured = [*CATALOG_TABLES, "cdc_heartbeat"]
    assert config["table.include.list"].split(",") == [rf"catalog\.{t}" for t in captured]
    assert config["heartbeat.action.query"] == (
        "INSERT INTO catalog.cdc_heartbeat (id, beat_at) VALUES (1, now()) "
        "ON CONFLICT (id) DO UPDATE SET beat_at = EXCLUDED.beat_at"
    )
    assert config["topic.creation.transaction.include"] == r"catalog\.(transaction|notification)"
    # TRUNCATE reaches the job (which stops on it by name) instead of being skipped
    # silently; the notification topic carries the snapshot's per-table counts.
    assert config["skipped.operations"] == "none"
    assert config["notification.enabled.channels"] == "sink"
    assert config["notification.sink.topic.name"] == "catalog.notification"
    assert config["topic.creation.transaction.partitions"] == "1"
    # Debezium waits poll.interval.ms for more changes before it hands a batch on.
    assert config["poll.interval.ms"] == str(settings.capture_poll_interval_ms) == "100"
    assert all(isinstance(v, str) for v in config.values())


def test_password_is_a_config_provider_reference_never_the_secret(settings: Settings) -> None:
    config = render_source_connector(settings)
    assert config["database.password"] == password_reference(settings)
    assert config["database.password"].startswith("${file:")
    assert "s3cret" not in json.dumps(config)


def test_missing_template_variable_fails_loudly(settings: Settings) -> None:
    with pytest.raises(
        ConfigError, match="template catalog-source.json.j2: 'database_port' is undefined"
    ):
        render_template("catalog-source.json.j2", {"database_host": "h"})


def test_missing_template_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no template nope.j2"):
        render_text(tmp_path, "nope.j2", {})


def test_invalid_rendered_json_names_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken.json.j2").write_text('{\n  "a": {{ value }}\n}\n')
    monkeypatch.setattr("connectors.render.TEMPLATE_DIR", tmp_path)
    with pytest.raises(ConfigError, match=r"broken.json.j2 rendered invalid JSON at line 2"):
        render_template("broken.json.j2", {"value": "not json"})


def test_connect_unreachable_is_a_clear_error() -> None:
    client = ConnectClient("http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(
        ConnectorError, match=r"Kafka Connect is not reachable at http://127.0.0.1:9"
    ):
        client.version()


@pytest.fixture
def job_base_argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The job's required arguments, the store password in the environment."""
    monkeypatch.setenv("CATALOG_VIEW_STORE_PASSWORD", "x")
    base = ["--bootstrap-servers", "k:9092", "--topic-prefix", "c", "--source-schema", "catalog"]
    return [*base, "--checkpoint-dir", str(tmp_path)]


def test_mini_batches_are_opt_in_and_never_negative(
    job_base_argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from flink_jobs.options import parse_options

    base = job_base_argv
    assert parse_options(base).mini_batch_ms == 0
    assert parse_options([*base, "--mini-batch-ms", "200"]).mini_batch_ms == 200
    with pytest.raises(SystemExit):
        parse_options([*base, "--mini-batch-ms", "-1"])
    assert "--mini-batch-ms must be >= 0 (0: off), got -1" in capsys.readouterr().err


def test_units_are_applied_at_the_barrier_unless_told_otherwise(
    job_base_argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from flink_jobs.options import parse_options

    base = job_base_argv
    assert parse_options(base).commit_at == "barrier"
    assert parse_options([*base, "--commit-at", "checkpoint"]).commit_at == "checkpoint"
    with pytest.raises(SystemExit):
        parse_options([*base, "--commit-at", "later"])
    assert "--commit-at: invalid choice: 'later'" in capsys.readouterr().err


def test_the_commit_point_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("CATALOG_VIEW_COMMIT_AT", "checkpoint")
    assert Settings().commit_at == "checkpoint"
    monkeypatch.setenv("CATALOG_VIEW_COMMIT_AT", "soon")
    with pytest.raises(ValidationError, match="commit_at"):
        Settings()


def test_release_passes_name_left_sides_of_left_joins_once() -> None:
    """The assembler's later passes (flink_jobs/pipeline.py) hold catalog tables
    that some view reads on the left of a LEFT JOIN, each in one pass only."""
    from flink_jobs.pipeline import RELEASE_PASSES

    named = [table for release_pass in RELEASE_PASSES for table in release_pass]
    assert len(named) == len(set(named))
    views = "\n".join(p.read_text() for p in (REPO_ROOT / "sql" / "views").rglob("*.sql"))
    for table in named:
        assert table in CATALOG_TABLES
        left_of_a_left_join = re.search(
            rf"FROM {table} AS \w+\s*(\n\s*(LEFT )?JOIN [^\n]*)*\n\s*LEFT JOIN", views
        )
        assert left_of_a_left_join, f"{table} is the left side of no LEFT JOIN in sql/views"
