"""The JVM committer's own tests against the test stack's PostgreSQL (they
skip themselves without a database): netting, idempotent replays and the
watermark, units staged in the store and their garbage, on the real store
schema."""

from __future__ import annotations

import os
import re
import subprocess

import psycopg
import pytest

from catalog_view.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.e2e


def test_store_committer_junit_runs_against_the_store(settings: Settings) -> None:
    env = dict(os.environ)
    env["CATALOG_VIEW_TEST_JDBC_URL"] = (
        f"jdbc:postgresql://{settings.pg_host}:{settings.pg_port}/{settings.store_db}"
    )
    env["CATALOG_VIEW_TEST_USER"] = settings.writer_user
    env["CATALOG_VIEW_TEST_PASSWORD"] = settings.secret("writer_password")
    result = subprocess.run(
        ["mvn", "-B", "-f", str(REPO_ROOT / "jvm" / "pom.xml"), "test",
         "-Dtest=StoreCommitterTest,StagedUnitTest", "-Dsurefire.failIfNoSpecifiedTests=false"],
        capture_output=True, text=True, env=env, check=False, timeout=600,
    )  # fmt: skip
    summary = re.findall(r"Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)",
                         result.stdout)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert summary, result.stdout[-3000:]
    run, failures, errors, skipped = map(int, summary[-1])
    assert run >= 13 and (failures, errors, skipped) == (0, 0, 0), summary[-1]


def test_readers_cannot_see_the_sinks_staging(
    settings: Settings, store: psycopg.Connection
) -> None:
    """unit_staging holds units not yet committed: the reader role gets no privilege on it,
    while it still reads the view tables."""
    staging = f"{settings.store_schema}.unit_staging"
    row = store.execute(
        "SELECT has_table_privilege(%s, 'SELECT'), has_table_privilege(%s, 'SELECT')",
        (staging, f"{settings.store_schema}.product"),
    ).fetchone()
    assert row == (False, True)
