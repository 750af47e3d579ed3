"""What real databases bring on their first day, on the real stack: a catalog
that exists before CDC is set up (the initial snapshot as one atomic epoch),
logical messages, TRUNCATE, schema changes, and a stall that is reported, not
silent.

Each test leaves the session job running and the store equal to the
reference (the fixture re-snapshots when a test stopped the job on purpose).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition

from catalog_view.catalog.seeded import seed_catalog
from catalog_view.reference import VIEW_KEYS, Rows, converged, reference_rows, store_rows
from catalog_view.settings import Settings
from catalog_view.source import current_txid, xid32
from catalog_view.source_setup import check_source, prepare_source
from catalog_view.stack.capture import resnapshot
from catalog_view.stack.freshness import assess
from catalog_view.stack.job import FlinkJob, wrote_since
from catalog_view.stack.local import LocalStack
from catalog_view.store import read_watermark, store_clock
from catalog_view.waiting import wait_until

pytestmark = pytest.mark.e2e

CONVERGE_S = 300.0


def _txid(conn: psycopg.Connection) -> int:
    return xid32(current_txid(conn))


def _wait_converged_at(settings: Settings, txid: int | None = None) -> None:
    """Until the store equals the reference (and its watermark names txid)."""

    def done() -> bool:
        mark = read_watermark(settings)
        if mark is None or (txid is not None and mark.source_txid != txid):
            return False
        return converged(settings)

    wait_until(done, timeout_s=CONVERGE_S, what=f"store == reference at txid {txid}")


@pytest.fixture
def real_inputs(stack: LocalStack) -> Iterator[LocalStack]:
    """The session stack with some catalog; afterwards the job runs and the
    store converged."""
    with psycopg.connect(stack.settings.admin_conninfo()) as conn:
        empty = conn.execute(
            f"SELECT count(*) = 0 FROM {stack.settings.admin_schema}.product"
        ).fetchone() == (True,)
    if empty:
        seed_catalog(stack.settings, 20, seed=5, append=True, progress=False)
        _wait_converged_at(stack.settings)
    try:
        yield stack
    finally:
        if stack.job.process.pid() is None or not converged(stack.settings):
            since = store_clock(stack.settings)
            resnapshot(stack.settings)
            wait_until(
                lambda: wrote_since(stack.settings, since) and converged(stack.settings),
                timeout_s=CONVERGE_S,
                what="session job back after a re-snapshot",
            )


@dataclass
class EpochWatch:
    """Observations of the store while a snapshot epoch is applied."""

    empty: int = 0
    whole: int = 0
    partial: int = 0
    example: str = ""


def _observe(settings: Settings, expected: dict[str, Rows], since: datetime) -> EpochWatch:
    """Sample watermark and views in one REPEATABLE READ transaction until the
    new job shows the whole epoch; every sample is empty or whole."""
    watch = EpochWatch()

    def sample() -> bool:
        with psycopg.connect(settings.store_reader_conninfo()) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            mark = conn.execute(
                f"SELECT applied_at FROM {settings.store_schema}.watermark WHERE id = 1"
            ).fetchone()
            rows = {view: store_rows(conn, settings, view) for view in VIEW_KEYS}
        if mark is None or mark[0] <= since:
            # Not yet taken over by the new job: the old store, or emptied.
            if mark is None:
                if any(rows.values()):
                    watch.partial += 1
                    watch.example = (
                        f"rows without a watermark: { {v: len(r) for v, r in rows.items()} }"
                    )
                else:
                    watch.empty += 1
            return False
        if rows == expected:
            watch.whole += 1
            return True
        watch.partial += 1
        watch.example = (
            f"{ {v: len(r) for v, r in rows.items()} } rows, expected "
            f"{ {v: len(r) for v, r in expected.items()} }"
        )
        return False

    wait_until(sample, timeout_s=CONVERGE_S, what="the snapshot epoch visible", interval_s=0.2)
    return watch


def test_existing_catalog_snapshot_is_one_atomic_epoch(real_inputs: LocalStack) -> None:
    """An existing catalog (3 partitions per table topic, parallelism 2) is
    captured by the initial snapshot and becomes visible whole: a reader sees
    the store empty, then exactly Q(S(seed)), never a part of it. Streamed
    changes follow in commit order."""
    settings = real_inputs.settings
    real_inputs.job.stop()
    seed_catalog(settings, 150, seed=1107, reset=True, progress=False)
    with psycopg.connect(settings.admin_conninfo()) as source:
        expected = {view: reference_rows(source, settings, view) for view in VIEW_KEYS}
    assert len(expected["product"]) == 150
    since = store_clock(settings)
    resnapshot(settings, parallelism=2)
    watch = _observe(settings, expected, since)
    print(f"\nsnapshot epoch observations: {watch}")
    assert watch.partial == 0, watch.example
    assert watch.whole == 1
    with psycopg.connect(settings.admin_conninfo(), autocommit=True) as admin:
        admin.execute(f"SET search_path TO {settings.admin_schema}")
        with admin.transaction():
            admin.execute(
                "UPDATE product SET name = 'After the snapshot' "
                "WHERE id = (SELECT min(id) FROM product)"
            )
            txid = _txid(admin)
    _wait_converged_at(settings, txid)


def test_logical_messages_do_not_hold_transactions(
    real_inputs: LocalStack, admin: psycopg.Connection
) -> None:
    """A transactional logical message is counted in its transaction's END but
    goes to another topic; a non-transactional one has no transaction at all.
    Neither stalls the views."""
    with admin.transaction():
        admin.execute(
            "UPDATE product SET name = name || ' (audited)' "
            "WHERE id = (SELECT min(id) FROM product)"
        )
        admin.execute("SELECT pg_logical_emit_message(true, 'audit', 'renamed a product')")
        txid = _txid(admin)
    admin.execute("SELECT pg_logical_emit_message(false, 'audit', 'outside any transaction')")
    _wait_converged_at(real_inputs.settings, txid)


def test_truncate_empties_the_table_in_every_view(
    real_inputs: LocalStack, admin: psycopg.Connection
) -> None:
    """TRUNCATE of prices alone, then TRUNCATE and re-fill of attribute values
    in one transaction: each is applied whole, in its transaction."""
    admin.execute("TRUNCATE product_variant_channel_listing")
    _wait_converged_at(real_inputs.settings)
    with admin.transaction():
        admin.execute("TRUNCATE assigned_product_attribute_value")
        admin.execute(
            "INSERT INTO assigned_product_attribute_value (product_id, value_id) "
            "SELECT p.id, v.id FROM product p CROSS JOIN (SELECT min(id) AS id "
            "FROM attribute_value) v WHERE p.id % 3 = 0"
        )
        txid = _txid(admin)
    _wait_converged_at(real_inputs.settings, txid)
    with psycopg.connect(real_inputs.settings.store_reader_conninfo()) as store:
        prices = store.execute(
            "SELECT count(*) FROM catalog_view.product_channel WHERE min_price IS NOT NULL"
        ).fetchone()
    assert prices == (0,), "every price was truncated"


def test_add_column_keeps_working(real_inputs: LocalStack, admin: psycopg.Connection) -> None:
    """A column the views do not read appears in the events and is ignored."""
    admin.execute("ALTER TABLE product ADD COLUMN IF NOT EXISTS launch_note text")
    try:
        with admin.transaction():
            admin.execute(
                "UPDATE product SET launch_note = 'new', name = name || ' +' "
                "WHERE id = (SELECT min(id) FROM product)"
            )
            txid = _txid(admin)
        _wait_converged_at(real_inputs.settings, txid)
    finally:
        admin.execute("ALTER TABLE product DROP COLUMN IF EXISTS launch_note")


def test_dropped_view_column_stalls_loudly_and_resnapshot_recovers(
    real_inputs: LocalStack, admin: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropping a column a view reads stops the watermark (stale, consistent);
    status says stalled and names the record and the column; after the column
    is back, `resnapshot` converges again."""
    settings = real_inputs.settings.model_copy(update={"stall_after_s": 5.0})
    before = read_watermark(settings)
    assert before is not None
    admin.execute("ALTER TABLE product DROP COLUMN rating")
    try:
        with admin.transaction():
            admin.execute(
                "UPDATE product SET name = name || ' !' WHERE id = (SELECT max(id) FROM product)"
            )
            # Below this transaction's commit LSN: heartbeats committed before it
            # may still move the watermark, never past it.
            row = admin.execute("SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint").fetchone()
            assert row is not None
            bad_commit_after = int(row[0])
        verdict = wait_until(
            lambda: (
                (v := assess(settings, real_inputs.job.started_at())).stalled
                and "lacks column(s) rating" in v.detail
                and v
            ),
            timeout_s=CONVERGE_S,
            what="status reports the stall and its cause",
        )
        print(f"\nstall report: {verdict}")
        assert "topic catalog.catalog.product partition" in str(verdict)
        after = read_watermark(settings)
        assert after is not None and before.commit_lsn <= after.commit_lsn < bad_commit_after
    finally:
        admin.execute("ALTER TABLE product ADD COLUMN IF NOT EXISTS rating integer")
    since = store_clock(settings)
    resnapshot(settings)
    wait_until(
        lambda: wrote_since(settings, since) and converged(settings),
        timeout_s=CONVERGE_S,
        what="converged after the re-snapshot",
    )


def test_restart_only_checks_the_source_and_prepare_fixes_what_differs(
    real_inputs: LocalStack, admin: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    """Starting the stack again runs no DDL on an existing source: it reports
    what differs. `source prepare` changes exactly that, and nothing else."""
    settings = real_inputs.settings
    assert check_source(settings) == []
    admin.execute("ALTER TABLE channel REPLICA IDENTITY DEFAULT")
    try:
        with caplog.at_level(logging.WARNING, logger="catalog_view.stack.local"):
            real_inputs.up(with_job=False)  # everything runs: a restart of the stack
        identity = admin.execute(
            "SELECT relreplident FROM pg_class WHERE oid = 'channel'::regclass"
        ).fetchone()
        assert identity == ("d",), "stack up changed the source"
        assert "source check: table catalog.channel has REPLICA IDENTITY 'd'" in caplog.text
        admin.execute(f"REVOKE SELECT ON channel FROM {settings.cdc_user}")
        assert len(check_source(settings)) == 2
    finally:
        applied = prepare_source(settings)
    assert applied == [
        'ALTER TABLE "catalog"."channel" REPLICA IDENTITY FULL',
        f'GRANT SELECT ON "catalog"."channel" TO "{settings.cdc_user}"',
    ]
    assert check_source(settings) == []
    assert prepare_source(settings) == [], "prepare is idempotent"


def _dead_letters(settings: Settings) -> list[dict[str, Any]]:
    consumer = Consumer(
        {"bootstrap.servers": settings.bootstrap_servers, "group.id": "test-dead-letter"}
    )
    try:
        partition = TopicPartition(settings.dead_letter_topic, 0)
        low, high = consumer.get_watermark_offsets(partition, timeout=10)
        if high <= low:
            return []
        consumer.assign([TopicPartition(settings.dead_letter_topic, 0, low)])
        messages = consumer.consume(num_messages=high - low, timeout=10)
        return [json.loads(m.value() or b"null") for m in messages if not m.error()]
    finally:
        consumer.close()


def test_dead_letter_policy_records_what_it_leaves_out(
    real_inputs: LocalStack, admin: psycopg.Connection
) -> None:
    """Opt-in: with bad_records=dead-letter, a change that lacks a column the
    views read is recorded on <prefix>.dead-letter (origin, reason, images)
    and left out; the watermark moves past its transaction."""
    settings = real_inputs.settings.model_copy(update={"bad_records": "dead-letter"})
    dead_letter_job = FlinkJob(settings)
    since = dead_letter_job.restart()
    wait_until(lambda: wrote_since(settings, since), timeout_s=CONVERGE_S, what="job restored")
    row = admin.execute("SELECT min(id) FROM product").fetchone()
    assert row is not None and row[0] is not None
    product_id = int(row[0])
    admin.execute("ALTER TABLE product DROP COLUMN rating")
    try:
        with admin.transaction():
            admin.execute("UPDATE product SET name = 'Left out' WHERE id = %s", (product_id,))
            admin.execute(
                "UPDATE category SET name = name || ' (kept)' "
                "WHERE id = (SELECT min(id) FROM category)"
            )
            txid = _txid(admin)
        wait_until(
            lambda: (mark := read_watermark(settings)) is not None and mark.source_txid == txid,
            timeout_s=CONVERGE_S,
            what="the watermark past the transaction with a dead letter",
        )
        letters = [d for d in _dead_letters(settings) if d["source_txid"] == txid]
        assert len(letters) >= 1  # at least once: a restore may write it twice
        letter = letters[0]
        assert letter["origin"].startswith("topic catalog.catalog.product partition ")
        assert "lacks column(s) rating" in letter["reason"]
        assert (letter["table"], letter["op"], letter["after"]["name"]) == (
            "product",
            "u",
            "Left out",
        )
        with psycopg.connect(settings.store_reader_conninfo()) as store:
            name = store.execute(
                "SELECT name FROM catalog_view.product WHERE product_id = %s", (product_id,)
            ).fetchone()
        assert name is not None and name[0] != "Left out", "the change was left out"
    finally:
        admin.execute("ALTER TABLE product ADD COLUMN IF NOT EXISTS rating integer")
        real_inputs.job.stop()  # the fixture re-snapshots with the default policy
