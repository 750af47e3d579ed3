"""The SQL baseline (`--baseline sql`: Kafka debezium-json sources, the views,
JDBC upsert sinks; flink_jobs/sql_baseline.py) on the session stack.

It writes no watermark, so it is judged by final equality with the reference
queries, and by the checker comparing every observed store state with the
recorded source states. The catalog is reset and seeded first (the baseline
replays the whole capture; rows a TRUNCATE removed, which it cannot apply,
then belong to deleted parents and show in no view). When the module ends the
session's aligned job is restarted fresh and awaited until the store equals
the reference again, so later tests see the usual stack.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from catalog_view.catalog.seeded import seed_catalog
from catalog_view.checker.draws import Scale
from catalog_view.checker.options import VerifyOptions
from catalog_view.checker.scenarios import plan
from catalog_view.checker.verify import run_verify
from catalog_view.reference import converged
from catalog_view.settings import Settings
from catalog_view.stack.job import taken_over, wrote_since
from catalog_view.stack.local import LocalStack
from catalog_view.store import read_watermark
from catalog_view.waiting import wait_until
from tests.helpers import TIMEOUT_S

pytestmark = pytest.mark.e2e

SMALL = Scale(bulk_rows=500, fan_out_products=100, toast_bytes=4096)
# A full replay of the session's capture on a busy machine.
START_TIMEOUT_S = 600.0


@pytest.fixture(scope="module")
def module_stack(stack: LocalStack) -> Iterator[LocalStack]:
    """The session stack; its aligned job is back when the module ends."""
    try:
        yield stack
    finally:
        since = stack.job.restart(fresh=True)
        wait_until(
            lambda: wrote_since(stack.settings, since) and converged(stack.settings),
            timeout_s=START_TIMEOUT_S,
            what="session job back and store == reference",
            interval_s=1.0,
        )


@pytest.fixture(scope="module")
def sql_baseline(module_stack: LocalStack) -> Settings:
    """A freshly seeded catalog, and the SQL baseline instead of the aligned
    job, once it has replayed the capture into the emptied store."""
    settings = module_stack.settings
    module_stack.job.stop()
    seed_catalog(settings, 20, seed=11, reset=True, progress=False)
    since = module_stack.job.restart(baseline="sql", fresh=True)
    wait_until(
        lambda: taken_over(settings, since, "sql") and converged(settings),
        timeout_s=START_TIMEOUT_S,
        what="SQL baseline replayed the capture: store == reference",
        interval_s=1.0,
    )
    return settings


def _edge_values(conn: psycopg.Connection) -> None:
    """A date before the epoch (a negative day count from Debezium), a null
    date, and prices whose text form matters (decimal.handling.mode=string)."""
    conn.execute(
        "UPDATE product_channel_listing SET publication_date = CASE WHEN id % 2 = 0 "
        "THEN DATE '1969-12-31' ELSE NULL END "
        "WHERE id IN (SELECT id FROM product_channel_listing ORDER BY id LIMIT 4)"
    )
    conn.execute(
        "UPDATE product_variant_channel_listing SET price_amount = CASE WHEN id % 2 = 0 "
        "THEN 0.10 ELSE 1234567890.05 END "
        "WHERE id IN (SELECT id FROM product_variant_channel_listing ORDER BY id LIMIT 4)"
    )


def test_sql_baseline_converges_to_the_reference(
    sql_baseline: Settings, admin: psycopg.Connection
) -> None:
    """Every workload scenario once (primary-key update, TOASTed text, bulk
    import, deletes, a category fan-out ...), each transaction committed on its
    own, plus edge values of DATE and NUMERIC: the store ends equal to the
    reference queries, and no watermark is ever written."""
    workload = plan(20250611, 30, SMALL)
    for scenario in workload.scenarios:
        for step in scenario.steps:
            with admin.transaction():
                step(admin)
    with admin.transaction():
        _edge_values(admin)
    wait_until(
        lambda: converged(sql_baseline),
        timeout_s=TIMEOUT_S * 2,
        what="store == reference after the workload",
        interval_s=1.0,
    )
    assert read_watermark(sql_baseline) is None


def test_verify_judges_the_sql_baseline(module_stack: LocalStack) -> None:
    """The checker runs against the SQL baseline by reference comparison:
    the store reaches the last recorded state, and each observation is
    judged. Whether a short run catches an intermediate state that never
    existed in the source is a matter of timing, so violations are reported,
    not asserted."""
    options = VerifyOptions(
        transactions=40,
        parallelism=1,
        seed=20250612,
        baseline="sql",
        products=20,
        scale=SMALL,
        ensure_stack=False,
        sync_timeout_s=START_TIMEOUT_S,
        final_timeout_s=300.0,
    )
    report = run_verify(module_stack.settings, options)
    print("\n".join(report.lines()))
    assert report.baseline == "sql"
    assert "SQL baseline" in report.lines()[0]
    assert report.final_equal, report.final_difference
    assert report.observations > 0
    # Matching recorded states also gives commit-to-visible times.
    assert report.lag_observed > 0
    assert len(report.violation_examples) == min(report.violations, 5)
