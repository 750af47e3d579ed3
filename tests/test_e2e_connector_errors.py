"""Misconfigurations of the capture, against the real PostgreSQL and Kafka
Connect: each fails with a message that says what is wrong."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from catalog_view.settings import CATALOG_TABLES, Settings
from connectors.register import ConnectClient, ConnectorError, preflight, register
from connectors.render import render_source_connector

pytestmark = pytest.mark.e2e


def _superuser(settings: Settings, db: str) -> psycopg.Connection:
    return psycopg.connect(settings.superuser_conninfo(db), autocommit=True)


def test_wrong_password_is_named_by_preflight(settings: Settings) -> None:
    with pytest.raises(ConnectorError, match="password authentication failed for user"):
        preflight(settings, password="not-the-password")


def test_wrong_password_is_reported_by_connect_validation(settings: Settings) -> None:
    probe = settings.model_copy(update={"capture_name": "wrongpw"})
    config = render_source_connector(probe, database_password="not-the-password")
    with pytest.raises(ConnectorError, match=r"database\.hostname: .*password authentication"):
        register(probe, config, check_database=False, timeout_s=30)
    assert ConnectClient(settings.connect_endpoint).status(probe.connector_name) is None


@pytest.fixture
def role_without_replication(settings: Settings) -> Iterator[str]:
    role = "catalog_norepl"
    with _superuser(settings, settings.admin_db) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'norepl-pw'")
        conn.execute(f"GRANT CONNECT ON DATABASE {settings.admin_db} TO {role}")
        conn.execute(f"GRANT USAGE ON SCHEMA {settings.admin_schema} TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {settings.admin_schema} TO {role}")
    yield role
    with _superuser(settings, settings.admin_db) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def test_missing_replication_permission_is_named_by_preflight(
    settings: Settings, role_without_replication: str
) -> None:
    probe = settings.model_copy(update={"cdc_user": role_without_replication})
    with pytest.raises(ConnectorError, match="lacks the REPLICATION attribute"):
        preflight(probe, password="norepl-pw")


def test_missing_replication_permission_fails_the_task_with_its_reason(
    settings: Settings, role_without_replication: str
) -> None:
    """Connect's validation does not catch it; the task fails, and we say why."""
    probe = settings.model_copy(update={"capture_name": "norepl"})
    config = render_source_connector(
        probe,
        database_user=role_without_replication,
        database_password="norepl-pw",
        publication_name=settings.publication_name,
    )
    client = ConnectClient(settings.connect_endpoint)
    try:
        with pytest.raises(ConnectorError, match="superuser or replication role"):
            register(probe, config, check_database=False, timeout_s=60)
    finally:
        client.delete(probe.connector_name)


@pytest.fixture
def partial_schema(settings: Settings) -> Iterator[str]:
    """A schema holding only some of the catalog tables."""
    schema = "catalog_partial"
    with _superuser(settings, settings.admin_db) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.category (id bigint PRIMARY KEY)")
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {settings.cdc_user}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {settings.cdc_user}")
    yield schema
    with _superuser(settings, settings.admin_db) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_missing_table_is_named(settings: Settings, partial_schema: str) -> None:
    probe = settings.model_copy(update={"admin_schema": partial_schema})
    with pytest.raises(ConnectorError) as raised:
        preflight(probe)
    message = str(raised.value)
    for table in CATALOG_TABLES[1:]:
        assert f"table {partial_schema}.{table} does not exist" in message
    assert f"table {partial_schema}.category does not exist" not in message


def test_missing_publication_is_named(settings: Settings) -> None:
    probe = settings.model_copy(update={"capture_name": "nopub"})
    with pytest.raises(ConnectorError, match="publication nopub_publication does not exist"):
        preflight(probe)


def test_validation_errors_are_reported_by_field(settings: Settings) -> None:
    probe = settings.model_copy(update={"capture_name": "badfield"})
    config = {**render_source_connector(probe), "snapshot.mode": "sometimes"}
    errors = ConnectClient(settings.connect_endpoint).validate(probe.connector_name, config)
    assert any(e.startswith("snapshot.mode: ") for e in errors), errors
    with pytest.raises(
        ConnectorError, match=r"rejected the badfield-source config:\n  snapshot\.mode: "
    ):
        register(probe, config, check_database=False)


def test_registering_twice_is_harmless(settings: Settings) -> None:
    config = render_source_connector(settings)
    first = register(settings, config)
    second = register(settings, config)
    assert first.running and second.running
