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


def assembler() -> TransactionAssembler:
    maps = {name: DictMap() for name in AssemblerState.MAP_NAMES}
    return TransactionAssembler(
        AssemblerState(maps),  # type: ignore[arg-type]
        TABLES,
        "catalog",
        heartbeat_table="cdc_heartbeat",
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


def snapshot_read(table: str, row_id: int, marker: str = "true") -> str:
    return json.dumps({
        "before": None, "after": {"id": row_id, "name": "s"},
        "source": {"table": table, "txId": 50, "lsn": 777, "snapshot": marker},
        "transaction": None, "op": "r",
    })  # fmt: skip


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


def test_snapshot_is_one_epoch_before_streamed_transactions() -> None:
    a = assembler()
    got = feed(a, snapshot_read("category", 1, "first"), end(60, {"product": 1}),
               change("product", 60, 1, 600), snapshot_read("product", 5, "true"))  # fmt: skip
    assert got == [], "the snapshot epoch is not complete yet"
    got = feed(a, snapshot_read("product", 6, "last"))
    assert ids(got) == [(50, [("category", 1), ("product", 5), ("product", 6)]),
                        (60, [("product", 600)])]  # fmt: skip
    assert got[0].commit_lsn == 777
    assert [t.state_txid for t in got] == [50, 60]


def test_late_snapshot_row_stops_with_its_origin() -> None:
    a = assembler()
    feed(a, snapshot_read("category", 1, "last"))
    with pytest.raises(
        AssemblyError, match="topic t partition 0 offset 0: snapshot row of product"
    ):
        feed(a, snapshot_read("product", 2))


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
