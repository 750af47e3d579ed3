"""Render a connector config from its jinja2 template and the settings.

Templates live in connectors/templates/<name>.json.j2 and are rendered with
StrictUndefined, so a missing variable fails loudly instead of leaving a hole.
The database password is not rendered in clear by default: it is a reference to
Kafka Connect's FileConfigProvider, resolved inside the Connect worker from a
file under the data directory (never checked in).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog_view.errors import ConfigError
from catalog_view.settings import CAPTURED_TABLES, HEARTBEAT_TABLE, Settings
from catalog_view.templating import render_text

TEMPLATE_DIR = Path(__file__).parent / "templates"
SOURCE_TEMPLATE = "catalog-source.json.j2"
CONNECT_SECRETS_KEY = "cdc_password"


def connect_secrets_file(settings: Settings) -> Path:
    """The properties file the Connect worker's FileConfigProvider reads."""
    return settings.data_dir / "connect" / "secrets.properties"


def password_reference(settings: Settings) -> str:
    return f"${{file:{connect_secrets_file(settings)}:{CONNECT_SECRETS_KEY}}}"


def template_variables(settings: Settings, **overrides: Any) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "database_host": settings.pg_host,
        "database_port": settings.pg_port,
        "database_name": settings.admin_db,
        "database_user": settings.cdc_user,
        "database_password": password_reference(settings),
        "schema": settings.admin_schema,
        "tables": list(CAPTURED_TABLES),
        "heartbeat_table": HEARTBEAT_TABLE,
        "topic_prefix": settings.topic_prefix,
        "slot_name": settings.slot_name,
        "publication_name": settings.publication_name,
        "heartbeat_interval_ms": settings.heartbeat_interval_ms,
        "poll_interval_ms": settings.capture_poll_interval_ms,
        "topic_partitions": settings.topic_partitions,
        "replication_factor": 1,
    }
    variables.update(overrides)
    return variables


def render_template(name: str, variables: dict[str, Any]) -> dict[str, str]:
    """Render and parse back; every value must come out as a string for Connect."""
    text = render_text(TEMPLATE_DIR, name, variables)
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"template {name} rendered invalid JSON at line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}"
        ) from exc
    not_strings = sorted(k for k, v in config.items() if not isinstance(v, str))
    if not_strings:
        raise ConfigError(f"template {name}: values must be strings for: {', '.join(not_strings)}")
    return dict(config)


def render_source_connector(settings: Settings, **overrides: Any) -> dict[str, str]:
    return render_template(SOURCE_TEMPLATE, template_variables(settings, **overrides))
