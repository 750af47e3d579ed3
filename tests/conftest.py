"""Fixtures: the real local stack, started once per test session in its own
data directory and ports (so it never touches a developer's running stack),
and stopped at the end even when tests fail."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from catalog_view.settings import Settings, load_settings
from catalog_view.source import connect_source
from catalog_view.stack.local import LocalStack
from catalog_view.store import connect_store

# Ports of the test stack: the defaults - 30000 (another offset with
# CATALOG_VIEW_TEST_PORT_OFFSET), away from `catalog-view stack up` and below
# Linux's ephemeral range (32768-60999): a client socket that happens to hold a
# broker's port there makes the broker fail to bind.
_OFFSET = int(os.environ.get("CATALOG_VIEW_TEST_PORT_OFFSET", "-30000"))
TEST_PORTS = {
    "pg_port": 55432 + _OFFSET,
    "kafka_port": 59092 + _OFFSET,
    "kafka_controller_port": 59093 + _OFFSET,
    "connect_port": 58083 + _OFFSET,
    "flink_rest_port": 58081 + _OFFSET,
    "flink_rpc_port": 58123 + _OFFSET,
    "flink_mini_rest_port": 58082 + _OFFSET,
    "flink_prometheus_port": 58249 + _OFFSET,
    "metrics_port": f"{59250 + _OFFSET}-{59259 + _OFFSET}",
}


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    keep = os.environ.get("CATALOG_VIEW_TEST_DATA_DIR")
    data_dir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="catalog-view-test-"))
    settings = load_settings(data_dir=data_dir, **TEST_PORTS)
    local = LocalStack(settings)
    try:
        local.up(with_job=True)
        yield local
    finally:
        stopped = local.down()
        print(f"\ntest stack stopped: {', '.join(stopped) or 'nothing running'}")
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(stack: LocalStack) -> Settings:
    return stack.settings


@pytest.fixture
def admin(settings: Settings) -> Iterator[psycopg.Connection]:
    """A connection to the admin database, search_path on the catalog schema."""
    with connect_source(settings, autocommit=True) as conn:
        yield conn


@pytest.fixture
def store(settings: Settings) -> Iterator[psycopg.Connection]:
    with connect_store(settings, autocommit=True) as conn:
        yield conn
