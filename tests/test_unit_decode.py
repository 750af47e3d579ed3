"""Decoding Debezium events, on values recorded from Debezium 3.6.1 with
pgoutput (tests/data: snapshot, streamed c/u/d, BEGIN/END, a heartbeat). The
recording's tables had REPLICA IDENTITY DEFAULT, so its updates lack a before
image: the decoder must refuse those."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flink_jobs.debezium import (
    DecodeError,
    RowChange,
    SnapshotNotification,
    TransactionMarker,
    convert,
    decode,
    parse_transaction_id,
)
from flink_jobs.sql_files import render_sql, statements

pytestmark = pytest.mark.unit

RECORDED = Path(__file__).parent / "data" / "debezium-3.6.1-postgres-events.jsonl"


Decoded = RowChange | TransactionMarker | SnapshotNotification | DecodeError | None


def _decode_or_error(line: str) -> Decoded:
    try:
        return decode(line)
    except DecodeError as exc:
        return exc


def recorded() -> list[Decoded]:
    return [_decode_or_error(line) for line in RECORDED.read_text().splitlines() if line.strip()]


def test_recorded_updates_without_before_image_are_refused() -> None:
    errors = [e for e in recorded() if isinstance(e, DecodeError)]
    raw_updates = [
        line
        for line in RECORDED.read_text().splitlines()
        if '"op":"u"' in line and '"before":null' in line
    ]
    assert len(errors) == len(raw_updates) > 0
    assert all("without a before image" in str(e) for e in errors)


def test_recorded_snapshot_reads_have_no_transaction_but_one_txid() -> None:
    reads = [e for e in recorded() if isinstance(e, RowChange) and e.op == "r"]
    assert reads, "the recording starts with a snapshot"
    assert {e.snapshot for e in reads} >= {"first", "last"}
    assert len({e.txid for e in reads}) == 1


def test_recorded_transactions_correlate_by_txid_not_by_id() -> None:
    events = recorded()
    ends = [e for e in events if isinstance(e, TransactionMarker) and e.status == "END"]
    begins = [e for e in events if isinstance(e, TransactionMarker) and e.status == "BEGIN"]
    assert ends and len(begins) == len(ends)
    raw = [json.loads(line) for line in RECORDED.read_text().splitlines()]
    for end in ends:
        changes = [e for e in raw if "op" in e and e["source"]["txId"] == end.txid]
        assert len(changes) == end.event_count
        per_table: dict[str, int] = {}
        for change in changes:
            key = f"public.{change['source']['table']}"
            per_table[key] = per_table.get(key, 0) + 1
        assert per_table == end.table_counts
        ids = {parse_transaction_id(c["transaction"]["id"])[0] for c in changes}
        assert ids == {end.txid}


def test_transaction_id_format() -> None:
    assert parse_transaction_id("738:26404712") == (738, 26404712)
    with pytest.raises(DecodeError, match="'738' is not '<txid>:<lsn>'"):
        parse_transaction_id("738")


def test_heartbeat_and_tombstone_carry_no_change() -> None:
    assert decode('{"ts_ms": 1795712126369}') is None
    assert decode(None) is None


def test_not_json_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="not JSON"):
        decode(b"\xff\xfe")
    with pytest.raises(DecodeError, match="expected a JSON object, got list"):
        decode("[1]")


def _event(**overrides: object) -> str:
    event: dict[str, object] = {
        "before": {"id": 1, "name": "a"},
        "after": {"id": 1, "name": "b"},
        "source": {"table": "product", "txId": 9, "lsn": 100, "snapshot": "false"},
        "op": "u",
    }
    event.update(overrides)
    return json.dumps(event)


def test_update_without_before_image_asks_for_replica_identity_full() -> None:
    with pytest.raises(
        DecodeError, match="product: op u without a before image: .*REPLICA IDENTITY FULL"
    ):
        decode(_event(before=None))


def test_unavailable_toast_value_is_refused_by_name() -> None:
    with pytest.raises(DecodeError, match=r"product: column\(s\) description unavailable"):
        decode(_event(after={"id": 1, "description": "__debezium_unavailable_value"}))


def test_truncate_decodes_as_a_change_without_images() -> None:
    """The assembler decides what a TRUNCATE means (it names the recovery)."""
    event = decode(_event(op="t", before=None, after=None))
    assert isinstance(event, RowChange)
    assert (event.table, event.op, event.before, event.after) == ("product", "t", None, None)


def test_unknown_operation_is_refused() -> None:
    with pytest.raises(DecodeError, match="product: operation 'x' is not supported"):
        decode(_event(op="x"))


def test_schemas_enabled_envelope_is_unwrapped() -> None:
    """JsonConverter with schemas.enable=true wraps the value in schema/payload."""
    wrapped = json.dumps({"schema": {"type": "struct"}, "payload": json.loads(_event())})
    event = decode(wrapped)
    assert isinstance(event, RowChange) and event.after == {"id": 1, "name": "b"}
    assert decode(json.dumps({"schema": None, "payload": None})) is None


def test_records_that_change_no_table_decode_to_nothing() -> None:
    assert decode(None) is None, "a tombstone"
    assert decode(json.dumps({"ts_ms": 5})) is None, "Debezium's own heartbeat"
    message = {"op": "m", "source": {"table": "", "txId": 9}, "message": {"prefix": "audit"}}
    assert decode(json.dumps(message)) is None, "a logical message"


def test_snapshot_notifications() -> None:
    def note(kind: str, aggregate: str = "Initial Snapshot", **data: str) -> str:
        return json.dumps(
            {"id": "u", "type": kind, "aggregate_type": aggregate, "additional_data": data}
        )

    assert decode(note("COMPLETED")) == SnapshotNotification("COMPLETED")
    scanned = note(
        "TABLE_SCAN_COMPLETED",
        scanned_collection="catalog.product",
        total_rows_scanned="30",
        status="SUCCEEDED",
    )
    assert decode(scanned) == SnapshotNotification("TABLE_SCAN_COMPLETED", "catalog.product", 30)
    with pytest.raises(DecodeError, match="Incremental Snapshot notifications are not supported"):
        decode(note("STARTED", "Incremental Snapshot"))
    with pytest.raises(DecodeError, match=r"initial snapshot of catalog.product ended with status"):
        decode(note("TABLE_SCAN_COMPLETED", scanned_collection="catalog.product", status="FAILED"))


def test_convert_types() -> None:
    assert convert("DECIMAL", "19.50", "x") == Decimal("19.50")
    assert convert("DATE", 20148, "x") == date(2025, 3, 1)
    assert convert("BIGINT", 7, "x") == 7
    assert convert("STRING", None, "x") is None


def test_convert_names_the_column_on_bad_values() -> None:
    with pytest.raises(DecodeError, match="product.rating: expected an integer, got 'five'"):
        convert("INT", "five", "product.rating")
    with pytest.raises(DecodeError, match="product.price: "):
        convert("DECIMAL", "12,50", "product.price")
    with pytest.raises(DecodeError, match="product.flag: expected a boolean"):
        convert("BOOLEAN", 1, "product.flag")


def test_sql_placeholders_must_all_be_filled(tmp_path: Path) -> None:
    path = tmp_path / "t.sql"
    path.write_text("-- comment\nSELECT '${a}' AS x;\nSELECT 2;\n")
    assert statements(path, {"a": "v"}) == ["SELECT 'v' AS x", "SELECT 2"]
    with pytest.raises(ValueError, match=r"t.sql: no value for placeholder \$\{a\}"):
        render_sql(path, {})
