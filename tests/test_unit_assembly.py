"""Transaction assembly, on Debezium-shaped events (formats as recorded from
Debezium 3.6.1: ids "<txid>:<lsn>", END with per-table counts). The assembler
runs here over dict-backed state; in the job over Flink keyed state."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flink_jobs.assembly import (
    AssemblerState,
    AssemblyError,
    RecordOrigin,
    ReleasedTransaction,
    TransactionAssembler,
)

pytestmark = pytest.mark.unit

TABLES = {"category", "product"}


class DictMap(dict):  # type: ignore[type-arg]
    """The MapState subset the assembler uses."""

    def put(self, key: Any, value: Any) -> None:
        self[key] = value

    def remove(self, key: Any) -> None:
        del self[key]

    def contains(self, key: Any) -> bool:
        return key in self


def assembler(*, initial_snapshot: bool = False) -> TransactionAssembler:
    maps = {name: DictMap() for name in AssemblerState.MAP_NAMES}
    return TransactionAssembler(
        AssemblerState(maps),  # type: ignore[arg-type]
        TABLES,
        "catalog",
        heartbeat_table="cdc_heartbeat",
        initial_snapshot=initial_snapshot,
    )


def change(table: str, txid: int, order: int, row_id: int, op: str = "c") -> str:
    row = {"id": row_id, "name": f"{table}-{row_id}"}
    return json.dumps({
        "before": row if op in ("u", "d") else None,
        "after": None if op == "d" else row,
        "source": {"table": table, "txId": txid, "lsn": 1000 * txid + order, "snapshot": "false",
                   "ts_ms": 5},
        "transaction": {"id": f"{txid}:{1000 * txid + order}", "total_order": order},
        "op": op,
    })  # fmt: skip


def end(txid: int, counts: dict[str, int]) -> str:
    return json.dumps({
        "status": "END", "id": f"{txid}:{1000 * txid + 999}", "event_count": sum(counts.values()),
        "data_collections": [{"data_collection": f"catalog.{t}", "event_count": n}
                             for t, n in counts.items()],
        "ts_ms": 7,
    })  # fmt: skip


def snapshot_read(
    table: str, row_id: int, marker: str = "true", txid: int = 50, lsn: int = 777
) -> str:
    return json.dumps({
        "before": None, "after": {"id": row_id, "name": f"s{txid}"},
        "source": {"table": table, "txId": txid, "lsn": lsn, "snapshot": marker},
        "transaction": None, "op": "r",
    })  # fmt: skip


def notification(kind: str, table: str | None = None, rows: int | None = None) -> str:
    data: dict[str, Any] = {"connector_name": "catalog"}
    if table is not None:
        data.update(scanned_collection=f"catalog.{table}", total_rows_scanned=str(rows),
                    status="SUCCEEDED")  # fmt: skip
    return json.dumps({"id": "x", "type": kind, "aggregate_type": "Initial Snapshot",
                       "additional_data": data, "timestamp": 1})  # fmt: skip


def scanned(**tables: int) -> list[str]:
    """The notifications of one whole snapshot run, in order."""
    notes = [notification("STARTED")]
    notes += [notification("TABLE_SCAN_COMPLETED", t, n) for t, n in tables.items()]
    return [*notes, notification("COMPLETED")]


def feed(a: TransactionAssembler, *values: str) -> list[ReleasedTransaction]:
    released: list[ReleasedTransaction] = []
    for offset, value in enumerate(values):
        released += a.on_record(value, RecordOrigin("t", 0, offset))
    return released


def ids(txs: list[ReleasedTransaction]) -> list[tuple[int, list[tuple[str, Any]]]]:
    return [
        (t.txid, [(c.table, (c.after or c.before or {})["id"]) for c in t.changes]) for t in txs
    ]


def test_events_before_end_release_at_end_in_total_order() -> None:
    a = assembler()
    got = feed(a, change("product", 7, 2, 70), change("category", 7, 1, 1))
    assert got == []
    got = feed(a, end(7, {"category": 1, "product": 1}))
    assert ids(got) == [(7, [("category", 1), ("product", 70)])]
    assert (got[0].commit_lsn, got[0].commit_ts_ms) == (7999, 7)


def test_end_before_events_releases_with_the_last_event() -> None:
    a = assembler()
    assert feed(a, end(8, {"product": 2}), change("product", 8, 1, 80)) == []
    assert ids(feed(a, change("product", 8, 2, 81))) == [(8, [("product", 80), ("product", 81)])]


def test_commit_order_holds_when_a_later_transaction_completes_first() -> None:
    a = assembler()
    got = feed(a, end(9, {"product": 1}), end(3, {"category": 1}), change("category", 3, 1, 30))
    assert got == [], "txid 3 committed after txid 9 and must wait for it"
    assert ids(feed(a, change("product", 9, 1, 90))) == [
        (9, [("product", 90)]),
        (3, [("category", 30)]),
    ]


def test_end_without_events_advances_at_once() -> None:
    a = assembler()
    got = feed(a, end(11, {}))
    assert [(t.txid, t.changes, t.commit_lsn) for t in got] == [(11, [], 11999)]


def test_heartbeat_transaction_moves_the_position_not_the_state() -> None:
    a = assembler()
    feed(a, change("product", 20, 1, 200), end(20, {"product": 1}))
    got = feed(a, change("cdc_heartbeat", 21, 1, 1, op="u"), end(21, {"cdc_heartbeat": 1}))
    assert [(t.txid, t.changes, t.commit_lsn, t.state_txid) for t in got] == [(21, [], 21999, 20)]
    got = feed(a, end(22, {}))
    assert [(t.txid, t.state_txid) for t in got] == [(22, 20)], "no captured event: same state"
    got = feed(a, change("category", 23, 1, 3), end(23, {"category": 1}))
    assert [(t.txid, t.state_txid) for t in got] == [(23, 23)]


def test_heartbeat_before_any_catalog_change_names_no_state() -> None:
    a = assembler()
    got = feed(a, change("cdc_heartbeat", 5, 1, 1), end(5, {"cdc_heartbeat": 1}))
    assert [(t.txid, t.state_txid) for t in got] == [(5, None)]


def test_redelivered_events_and_ends_are_dropped() -> None:
    a = assembler()
    first = [change("product", 12, 1, 120), change("product", 12, 2, 121)]
    assert len(feed(a, first[0], first[0], *first[1:], end(12, {"product": 2}))) == 1
    # Connect restarted and sent the whole transaction again.
    assert feed(a, *first, end(12, {"product": 2})) == []
    assert ids(feed(a, change("product", 13, 1, 130), end(13, {"product": 1}))) == [
        (13, [("product", 130)])
    ]


def test_snapshot_epoch_closes_on_scanned_counts_whatever_the_arrival_order() -> None:
    """Debezium's `last` record may be read before rows waiting in other
    partitions: the epoch closes only when every table's rows are in."""
    a = assembler(initial_snapshot=True)
    got = feed(a, snapshot_read("category", 1, "first"), end(60, {"product": 1}),
               change("product", 60, 1, 600), snapshot_read("product", 6, "last"),
               *scanned(category=1, product=2, cdc_heartbeat=0))  # fmt: skip
    assert got == [], "product 5 is still on its way from another partition"
    assert "expected" in str(a.waiting_for())
    got = feed(a, snapshot_read("product", 5, "true"))
    assert ids(got) == [(50, [("category", 1), ("product", 6), ("product", 5)]),
                        (60, [("product", 600)])]  # fmt: skip
    assert got[0].commit_lsn == 777
    assert [t.state_txid for t in got] == [50, 60]
    assert a.waiting_for() is None


def test_streamed_transactions_wait_for_the_snapshot_report() -> None:
    a = assembler(initial_snapshot=True)
    assert feed(a, change("product", 60, 1, 600), end(60, {"product": 1})) == []
    assert "not reported it COMPLETED" in str(a.waiting_for())
    got = feed(a, *scanned(category=0, product=0))
    assert ids(got) == [(60, [("product", 600)])], "an empty snapshot releases nothing itself"


def test_heartbeat_row_in_the_snapshot_is_counted_not_viewed() -> None:
    a = assembler(initial_snapshot=True)
    got = feed(a, snapshot_read("cdc_heartbeat", 1), snapshot_read("category", 2),
               *scanned(category=1, cdc_heartbeat=1))  # fmt: skip
    assert ids(got) == [(50, [("category", 2)])]


def test_a_snapshot_restarted_midway_releases_only_the_complete_run() -> None:
    a = assembler(initial_snapshot=True)
    # Run 1 (txid 50) is cut short by a Connect restart; run 2 (txid 52) is whole.
    feed(a, notification("STARTED"), notification("TABLE_SCAN_COMPLETED", "category", 2),
         snapshot_read("category", 1), snapshot_read("category", 2),
         snapshot_read("product", 7))  # fmt: skip
    got = feed(a, *scanned(category=1, product=1), snapshot_read("category", 1, txid=52, lsn=790))
    assert got == []
    got = feed(a, snapshot_read("product", 8, txid=52, lsn=790))
    assert ids(got) == [(52, [("category", 1), ("product", 8)])]
    assert [c.after for c in got[0].changes] == [{"id": 1, "name": "s52"}, {"id": 8, "name": "s52"}]
    # A late row of the abandoned run changes nothing.
    assert feed(a, snapshot_read("product", 9, txid=50)) == []


def test_a_new_snapshot_after_the_epoch_stops_with_the_recovery_command() -> None:
    a = assembler(initial_snapshot=True)
    feed(a, snapshot_read("category", 1), *scanned(category=1))
    with pytest.raises(AssemblyError, match=r"offset 0: snapshot row .* `catalog-view resnapshot`"):
        feed(a, snapshot_read("category", 1, txid=90, lsn=5000))
    with pytest.raises(AssemblyError, match="new initial snapshot .* `catalog-view resnapshot`"):
        feed(a, notification("STARTED"))


def test_transactions_below_the_snapshot_position_are_in_it_already() -> None:
    a = assembler(initial_snapshot=True)
    feed(a, snapshot_read("category", 1, lsn=100_000), *scanned(category=1))
    got = feed(a, change("product", 70, 1, 700), end(70, {"product": 1}),
               change("product", 171, 1, 701), end(171, {"product": 1}))  # fmt: skip
    assert ids(got) == [(171, [("product", 701)])]


def test_logical_messages_and_unread_tables_do_not_hold_a_transaction() -> None:
    """END counts a transactional pg_logical_emit_message and captured tables no
    view reads; their records never reach the job."""
    a = assembler()
    message = "io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$Id@cbdf1fc"
    value = json.loads(end(30, {"product": 1, "audit_log": 2}))
    value["data_collections"].append({"data_collection": message, "event_count": 1})
    value["event_count"] = 4
    got = feed(a, change("product", 30, 3, 300), json.dumps(value))
    assert ids(got) == [(30, [("product", 300)])]
    assert a.ignored_collections == {message, "catalog.audit_log"}


def test_truncate_is_released_in_its_transaction_order() -> None:
    """TRUNCATE then INSERT in one transaction: both leave together, in order."""
    a = assembler()
    truncate = json.loads(change("product", 31, 1, 0))
    truncate.update(op="t", before=None, after=None)
    got = feed(a, change("product", 31, 2, 310), json.dumps(truncate), end(31, {"product": 2}))
    assert [(c.table, c.op) for c in got[0].changes] == [("product", "t"), ("product", "c")]


def test_incremental_snapshots_are_refused() -> None:
    a = assembler()
    with pytest.raises(AssemblyError, match="offset 0: incremental snapshot row of category"):
        feed(a, snapshot_read("category", 1, "incremental"))


def test_counts_that_disagree_with_end_are_an_error() -> None:
    a = assembler()
    with pytest.raises(
        AssemblyError, match=r"transaction 14: END counts \{'catalog.category': 1\}"
    ):
        feed(a, change("product", 14, 1, 140), end(14, {"category": 1}))


def test_unknown_table_and_bad_json_name_the_record() -> None:
    a = assembler()
    with pytest.raises(
        AssemblyError, match="topic t partition 0 offset 0: change of table 'orders'"
    ):
        feed(a, change("orders", 15, 1, 1))
    with pytest.raises(AssemblyError, match="topic t partition 0 offset 0: not JSON"):
        feed(a, "{broken")
