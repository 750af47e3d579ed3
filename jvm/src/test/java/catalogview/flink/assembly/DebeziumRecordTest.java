package catalogview.flink.assembly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Date;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.junit.jupiter.api.Test;

import catalogview.flink.assembly.DebeziumRecord.RowChange;
import catalogview.flink.assembly.DebeziumRecord.SnapshotNote;
import catalogview.flink.assembly.DebeziumRecord.TransactionEnd;

/** Decoding on records captured from Debezium 3.6.1 (tests/data), and value conversion. */
class DebeziumRecordTest {

    private static final Path RECORDED =
            Path.of("..", "tests", "data", "debezium-3.6.1-postgres-events.jsonl");

    private static List<Object> recorded() throws Exception {
        List<Object> out = new ArrayList<>();
        for (String line : Files.readAllLines(RECORDED)) {
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(DebeziumRecord.decode(line));
            } catch (AssemblyError e) {
                out.add(e);
            }
        }
        return out;
    }

    @Test
    void recordedSnapshotReadsCarryOneTxidAndTransactionsCorrelateByTxid() throws Exception {
        List<Object> events = recorded();
        List<RowChange> reads = events.stream().filter(RowChange.class::isInstance)
                .map(RowChange.class::cast).filter(c -> c.op().equals("r")).toList();
        assertTrue(reads.size() > 0, "the recording starts with a snapshot");
        assertEquals(1, reads.stream().map(RowChange::txid).distinct().count());
        List<TransactionEnd> ends = events.stream().filter(TransactionEnd.class::isInstance)
                .map(TransactionEnd.class::cast).toList();
        assertTrue(ends.size() > 0);
        List<String> lines = Files.readAllLines(RECORDED);
        for (TransactionEnd end : ends) {
            // Raw lines: some of the recorded changes are refused (no before image).
            long changes = lines.stream().filter(l -> l.contains("\"op\":")
                    && l.contains("\"txId\":" + end.txid() + ",")).count();
            assertEquals(end.eventCount(), changes, "END of " + end.txid());
        }
    }

    @Test
    void recordedUpdatesWithoutBeforeImageAreRefused() throws Exception {
        List<AssemblyError> errors = recorded().stream().filter(AssemblyError.class::isInstance)
                .map(AssemblyError.class::cast).toList();
        assertTrue(errors.size() > 0);
        errors.forEach(e -> assertTrue(e.getMessage().contains("without a before image"), e.getMessage()));
    }

    @Test
    void envelopesHeartbeatsMessagesAndTombstones() throws Exception {
        assertNull(DebeziumRecord.decode(null));
        assertNull(DebeziumRecord.decode("{\"ts_ms\": 5}"));
        assertNull(DebeziumRecord.decode("{\"op\":\"m\",\"message\":{}}"));
        assertNull(DebeziumRecord.decode("{\"schema\":{},\"payload\":null}"));
        Object wrapped = DebeziumRecord.decode("{\"schema\":{},\"payload\":{\"status\":\"END\","
                + "\"id\":\"5:100\",\"event_count\":0,\"data_collections\":[]}}");
        assertEquals(new TransactionEnd(5, 100, 0, java.util.Map.of(), null), wrapped);
        assertThrows(AssemblyError.class, () -> DebeziumRecord.decode("[1]"));
        AssemblyError id = assertThrows(AssemblyError.class, () -> DebeziumRecord.decode(
                "{\"status\":\"END\",\"id\":\"738\"}"));
        assertEquals("transaction id '738' is not '<txid>:<lsn>'", id.getMessage());
    }

    @Test
    void snapshotNotifications() throws Exception {
        SnapshotNote note = (SnapshotNote) DebeziumRecord.decode("{\"aggregate_type\":\"Initial "
                + "Snapshot\",\"type\":\"TABLE_SCAN_COMPLETED\",\"additional_data\":{"
                + "\"scanned_collection\":\"catalog.product\",\"total_rows_scanned\":\"12\"}}");
        assertEquals(new SnapshotNote("TABLE_SCAN_COMPLETED", "catalog.product", 12L), note);
        AssemblyError incremental = assertThrows(AssemblyError.class, () -> DebeziumRecord.decode(
                "{\"aggregate_type\":\"Incremental Snapshot\",\"type\":\"STARTED\"}"));
        assertTrue(incremental.getMessage().startsWith("Incremental Snapshot notifications are not supported"));
        AssemblyError failed = assertThrows(AssemblyError.class, () -> DebeziumRecord.decode(
                "{\"aggregate_type\":\"Initial Snapshot\",\"type\":\"TABLE_SCAN_COMPLETED\","
                        + "\"additional_data\":{\"scanned_collection\":\"catalog.product\","
                        + "\"status\":\"FAILED\"}}"));
        assertTrue(failed.getMessage().startsWith("initial snapshot of catalog.product ended with status"));
    }

    @Test
    void unavailableToastValuesAreRefused() {
        AssemblyError e = assertThrows(AssemblyError.class, () -> DebeziumRecord.decode(
                "{\"op\":\"u\",\"source\":{\"table\":\"product\"},\"before\":{\"id\":1},"
                        + "\"after\":{\"id\":1,\"description\":\"__debezium_unavailable_value\"}}"));
        assertTrue(e.getMessage().startsWith("product: column(s) description unavailable"));
    }

    private static final TableSpec PRODUCT = new TableSpec("product", List.of(
            new TableSpec.Column("id", "BIGINT"), new TableSpec.Column("rating", "INT"),
            new TableSpec.Column("price", "DECIMAL"), new TableSpec.Column("published", "DATE"),
            new TableSpec.Column("flag", "BOOLEAN"), new TableSpec.Column("name", "STRING")));

    @Test
    void rowsCarryTypedValuesAndTheTruncateFlag() throws Exception {
        RowChange update = (RowChange) DebeziumRecord.decode("{\"op\":\"u\",\"source\":{\"table\":"
                + "\"product\"},\"before\":{\"id\":1,\"rating\":2,\"price\":\"19.50\",\"published\":"
                + "20148,\"flag\":true,\"name\":\"a\"},\"after\":{\"id\":1,\"rating\":3,\"price\":"
                + "\"19.50\",\"published\":null,\"flag\":false,\"name\":\"b\"}}");
        List<Row> rows = PRODUCT.rows(update.op(), update.before(), update.after());
        assertEquals(List.of(RowKind.UPDATE_BEFORE, RowKind.UPDATE_AFTER),
                rows.stream().map(Row::getKind).toList());
        assertEquals(Row.ofKind(RowKind.UPDATE_BEFORE, 1L, 2, new BigDecimal("19.50"),
                Date.valueOf("2025-03-01"), true, "a", false), rows.get(0));
        Row truncate = PRODUCT.rows("t", null, null).get(0);
        assertEquals(RowKind.DELETE, truncate.getKind());
        assertEquals(true, truncate.getField(6));
        assertInstanceOf(org.apache.flink.api.java.typeutils.RowTypeInfo.class, PRODUCT.markedType());
    }

    @Test
    void badValuesAndMissingColumnsNameTheColumn() throws Exception {
        RowChange missing = (RowChange) DebeziumRecord.decode("{\"op\":\"c\",\"source\":{\"table\":"
                + "\"product\"},\"after\":{\"id\":1}}");
        AssemblyError e = assertThrows(AssemblyError.class,
                () -> PRODUCT.rows("c", null, missing.after()));
        assertTrue(e.getMessage().startsWith("product: event lacks column(s) rating, price, "
                + "published, flag, name that the views read"), e.getMessage());
        var json = DebeziumRecord.JSON;
        assertEquals("product.rating: expected an integer, got \"five\"", assertThrows(
                AssemblyError.class, () -> TableSpec.convert("INT", json.readTree("\"five\""),
                        "product.rating")).getMessage());
        assertTrue(assertThrows(AssemblyError.class, () -> TableSpec.convert("DECIMAL",
                json.readTree("\"12,50\""), "product.price")).getMessage().startsWith("product.price: "));
        assertTrue(assertThrows(AssemblyError.class, () -> TableSpec.convert("BOOLEAN",
                json.readTree("1"), "product.flag")).getMessage().startsWith("product.flag: expected a boolean"));
        assertTrue(assertThrows(AssemblyError.class, () -> TableSpec.convert("SMALLINT",
                json.readTree("70000"), "x.y")).getMessage().contains("out of range"));
    }
}
