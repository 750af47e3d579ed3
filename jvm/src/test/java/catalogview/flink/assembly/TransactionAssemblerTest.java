package catalogview.flink.assembly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import catalogview.flink.assembly.DebeziumRecord.RowChange;

/**
 * Transaction assembly on Debezium-shaped events (as recorded from Debezium 3.6.1: ids
 * "txid:lsn", END with per-table counts), over HashMap-backed state; in the job the same
 * class runs over Flink keyed state.
 */
class TransactionAssemblerTest {

    /** A HashMap with the MapState subset the assembler uses. */
    static final class HashStore<K, V> implements MapStore<K, V> {
        final Map<K, V> map = new LinkedHashMap<>();

        @Override public V get(K key) { return map.get(key); }
        @Override public void put(K key, V value) { map.put(key, value); }
        @Override public void remove(K key) { map.remove(key); }
        @Override public boolean contains(K key) { return map.containsKey(key); }
        @Override public Iterable<Map.Entry<K, V>> entries() { return new ArrayList<>(map.entrySet()); }
        @Override public Iterable<K> keys() { return new ArrayList<>(map.keySet()); }
        @Override public void clear() { map.clear(); }
    }

    record Change(String table, long id, String op) {}

    record Tx(long txid, long lsn, Long tsMs, Long stateTxid, List<Change> changes) {}

    /** Collects what the assembler releases. */
    static final class Collected implements TransactionAssembler.Released {
        final List<Tx> txs = new ArrayList<>();
        List<Change> open = new ArrayList<>();

        @Override
        public void change(long txid, long commitLsn, RowChange c, String origin) {
            var image = c.after() != null ? c.after() : c.before();
            open.add(new Change(c.table(), image == null ? 0 : image.get("id").asLong(), c.op()));
        }

        @Override
        public void transaction(long txid, long commitLsn, Long commitTsMs, Long stateTxid) {
            txs.add(new Tx(txid, commitLsn, commitTsMs, stateTxid, open));
            open = new ArrayList<>();
        }
    }

    static AssemblerState hashState() {
        return new AssemblerState(new HashStore<>(), new HashStore<>(),
                new HashStore<>(), new HashStore<>(), new HashStore<>(), new HashStore<>(),
                new HashStore<>(), new HashStore<>(), new HashStore<>(), new HashStore<>());
    }

    static TransactionAssembler assembler(AssemblerState state, boolean initialSnapshot) {
        return new TransactionAssembler(state, Set.of("category", "product"), "catalog",
                "cdc_heartbeat", initialSnapshot);
    }

    static TransactionAssembler assembler(boolean initialSnapshot) {
        return assembler(hashState(), initialSnapshot);
    }

    /** An assembler that releases product rows after every other table's. */
    static TransactionAssembler productLast(boolean initialSnapshot) {
        return new TransactionAssembler(hashState(), Set.of("category", "product"), "catalog",
                "cdc_heartbeat", initialSnapshot, List.of(Set.of("product")));
    }

    /** An assembler with two later passes: product_variant, then product. */
    static TransactionAssembler variantThenProduct(boolean initialSnapshot) {
        return new TransactionAssembler(hashState(),
                Set.of("category", "product", "product_variant"), "catalog", "cdc_heartbeat",
                initialSnapshot, List.of(Set.of("product_variant"), Set.of("product")));
    }

    static String change(String table, long txid, long order, long id, String op) {
        String row = "{\"id\":" + id + ",\"name\":\"" + table + "-" + id + "\"}";
        return "{\"before\":" + (op.equals("u") || op.equals("d") ? row : "null")
                + ",\"after\":" + (op.equals("d") || op.equals("t") ? "null" : row)
                + ",\"source\":{\"table\":\"" + table + "\",\"txId\":" + txid + ",\"lsn\":"
                + (1000 * txid + order) + ",\"snapshot\":\"false\",\"ts_ms\":5},"
                + "\"transaction\":{\"id\":\"" + txid + ":" + (1000 * txid + order)
                + "\",\"total_order\":" + order + "},\"op\":\"" + op + "\"}";
    }

    static String change(String table, long txid, long order, long id) {
        return change(table, txid, order, id, "c");
    }

    static String end(long txid, Map<String, Integer> counts, String... extra) {
        StringBuilder collections = new StringBuilder();
        int total = 0;
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            collections.append(collections.length() == 0 ? "" : ",")
                    .append("{\"data_collection\":\"catalog.").append(e.getKey())
                    .append("\",\"event_count\":").append(e.getValue()).append("}");
            total += e.getValue();
        }
        for (String name : extra) {
            collections.append(",{\"data_collection\":\"").append(name)
                    .append("\",\"event_count\":1}");
            total += 1;
        }
        return "{\"status\":\"END\",\"id\":\"" + txid + ":" + (1000 * txid + 999)
                + "\",\"event_count\":" + total + ",\"data_collections\":[" + collections
                + "],\"ts_ms\":7}";
    }

    static String snapshotRead(String table, long id, String marker, long txid, long lsn) {
        return "{\"before\":null,\"after\":{\"id\":" + id + ",\"name\":\"s" + txid + "\"},"
                + "\"source\":{\"table\":\"" + table + "\",\"txId\":" + txid + ",\"lsn\":" + lsn
                + ",\"snapshot\":\"" + marker + "\"},\"transaction\":null,\"op\":\"r\"}";
    }

    static String snapshotRead(String table, long id) {
        return snapshotRead(table, id, "true", 50, 777);
    }

    static String notification(String kind, String table, Integer rows) {
        String data = table == null ? "{\"connector_name\":\"catalog\"}"
                : "{\"connector_name\":\"catalog\",\"scanned_collection\":\"catalog." + table
                        + "\",\"total_rows_scanned\":\"" + rows + "\",\"status\":\"SUCCEEDED\"}";
        return "{\"id\":\"x\",\"type\":\"" + kind + "\",\"aggregate_type\":\"Initial Snapshot\","
                + "\"additional_data\":" + data + ",\"timestamp\":1}";
    }

    /** The notifications of one whole snapshot run, in order. */
    static List<String> scanned(Map<String, Integer> tables) {
        List<String> notes = new ArrayList<>();
        notes.add(notification("STARTED", null, null));
        tables.forEach((t, n) -> notes.add(notification("TABLE_SCAN_COMPLETED", t, n)));
        notes.add(notification("COMPLETED", null, null));
        return notes;
    }

    static List<Tx> feed(TransactionAssembler a, Object... values) throws Exception {
        Collected out = new Collected();
        int offset = 0;
        for (Object value : values) {
            List<?> many = value instanceof List<?> list ? list : List.of(value);
            for (Object v : many) {
                a.onRecord((String) v, "topic t partition 0 offset " + offset++, out);
            }
        }
        return out.txs;
    }

    static Change c(String table, long id) {
        return new Change(table, id, "c");
    }

    /** A snapshot read. */
    static Change r(String table, long id) {
        return new Change(table, id, "r");
    }

    static Map<String, Integer> counts(Object... pairs) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], (Integer) pairs[i + 1]);
        }
        return m;
    }

    @Test
    void eventsBeforeEndReleaseAtEndInTotalOrder() throws Exception {
        TransactionAssembler a = assembler(false);
        assertEquals(List.of(), feed(a, change("product", 7, 2, 70), change("category", 7, 1, 1)));
        List<Tx> got = feed(a, end(7, counts("category", 1, "product", 1)));
        assertEquals(List.of(new Tx(7, 7999, 7L, 7L, List.of(c("category", 1), c("product", 70)))), got);
    }

    @Test
    void endBeforeEventsReleasesWithTheLastEvent() throws Exception {
        TransactionAssembler a = assembler(false);
        assertEquals(List.of(), feed(a, end(8, counts("product", 2)), change("product", 8, 1, 80)));
        assertEquals(List.of(c("product", 80), c("product", 81)),
                feed(a, change("product", 8, 2, 81)).get(0).changes());
    }

    @Test
    void commitOrderHoldsWhenALaterTransactionCompletesFirst() throws Exception {
        TransactionAssembler a = assembler(false);
        assertEquals(List.of(), feed(a, end(9, counts("product", 1)), end(3, counts("category", 1)),
                change("category", 3, 1, 30)), "txid 3 committed after txid 9 and must wait for it");
        List<Tx> got = feed(a, change("product", 9, 1, 90));
        assertEquals(List.of(9L, 3L), got.stream().map(Tx::txid).toList());
        assertEquals(List.of(c("category", 30)), got.get(1).changes());
    }

    @Test
    void endWithoutEventsAdvancesAtOnce() throws Exception {
        TransactionAssembler a = assembler(false);
        assertEquals(List.of(new Tx(11, 11999, 7L, null, List.of())), feed(a, end(11, counts())));
    }

    @Test
    void heartbeatTransactionMovesThePositionNotTheState() throws Exception {
        TransactionAssembler a = assembler(false);
        feed(a, change("product", 20, 1, 200), end(20, counts("product", 1)));
        List<Tx> got = feed(a, change("cdc_heartbeat", 21, 1, 1, "u"), end(21, counts("cdc_heartbeat", 1)));
        assertEquals(List.of(new Tx(21, 21999, 7L, 20L, List.of())), got);
        assertEquals(20L, feed(a, end(22, counts())).get(0).stateTxid(), "no captured event: same state");
        assertEquals(23L, feed(a, change("category", 23, 1, 3), end(23, counts("category", 1)))
                .get(0).stateTxid());
    }

    @Test
    void heartbeatBeforeAnyCatalogChangeNamesNoState() throws Exception {
        TransactionAssembler a = assembler(false);
        List<Tx> got = feed(a, change("cdc_heartbeat", 5, 1, 1), end(5, counts("cdc_heartbeat", 1)));
        assertNull(got.get(0).stateTxid());
    }

    @Test
    void redeliveredEventsAndEndsAreDropped() throws Exception {
        TransactionAssembler a = assembler(false);
        String first = change("product", 12, 1, 120);
        String second = change("product", 12, 2, 121);
        assertEquals(1, feed(a, first, first, second, end(12, counts("product", 2))).size());
        // Connect restarted and sent the whole transaction again.
        assertEquals(List.of(), feed(a, first, second, end(12, counts("product", 2))));
        assertEquals(List.of(c("product", 130)),
                feed(a, change("product", 13, 1, 130), end(13, counts("product", 1))).get(0).changes());
    }

    @Test
    void anAssemblerRestartedOverItsStateGoesOnWhereItStopped() throws Exception {
        // As after a restore: a new assembler over the same state (its in-memory mirrors of
        // counters and receive counts start empty and must load what the state holds).
        AssemblerState state = hashState();
        TransactionAssembler before = assembler(state, false);
        String first = change("product", 14, 1, 140);
        assertEquals(List.of(), feed(before, end(14, counts("product", 2)), end(15, counts("product", 1)),
                change("product", 15, 1, 150), first), "txid 15 committed after txid 14: it waits");
        TransactionAssembler after = assembler(state, false);
        assertEquals(2, after.queued());
        List<Tx> got = feed(after, first, change("product", 14, 2, 141));
        assertEquals(List.of(14L, 15L), got.stream().map(Tx::txid).toList());
        assertEquals(List.of(c("product", 140), c("product", 141)), got.get(0).changes(),
                "the redelivered first event was counted once");
        assertEquals(List.of(), feed(after, first), "a released transaction's event is dropped");
        assertEquals(0, after.queued());
    }

    @Test
    void snapshotEpochClosesOnScannedCountsWhateverTheArrivalOrder() throws Exception {
        // Debezium's `last` record may be read before rows waiting in other partitions.
        TransactionAssembler a = assembler(true);
        List<Tx> got = feed(a, snapshotRead("category", 1, "first", 50, 777),
                end(60, counts("product", 1)), change("product", 60, 1, 600),
                snapshotRead("product", 6, "last", 50, 777),
                scanned(counts("category", 1, "product", 2, "cdc_heartbeat", 0)));
        assertEquals(List.of(), got, "product 5 is still on its way from another partition");
        assertTrue(a.waitingFor().what().contains("expected"));
        got = feed(a, snapshotRead("product", 5));
        assertEquals(List.of(50L, 60L), got.stream().map(Tx::txid).toList());
        assertEquals(Set.of(r("category", 1), r("product", 6), r("product", 5)),
                Set.copyOf(got.get(0).changes()));
        assertEquals(777, got.get(0).lsn());
        assertEquals(List.of(50L, 60L), got.stream().map(Tx::stateTxid).toList());
        assertNull(a.waitingFor());
    }

    @Test
    void theSnapshotReleasesTheTablesNamedLastAfterEveryOtherWhateverTheArrivalOrder()
            throws Exception {
        TransactionAssembler a = productLast(true);
        List<Tx> got = feed(a, snapshotRead("product", 5, "first", 50, 777),
                snapshotRead("category", 1), snapshotRead("product", 6),
                snapshotRead("category", 2, "last", 50, 777),
                scanned(counts("category", 2, "product", 2, "cdc_heartbeat", 0)));
        assertEquals(1, got.size(), "one epoch, released in one call");
        List<Change> changes = got.get(0).changes();
        assertEquals(Set.of(r("category", 1), r("category", 2)), Set.copyOf(changes.subList(0, 2)),
                "the other tables first");
        assertEquals(Set.of(r("product", 5), r("product", 6)), Set.copyOf(changes.subList(2, 4)),
                "then the tables named last, each row once");
        assertEquals(50L, got.get(0).stateTxid());
    }

    @Test
    void aTransactionReleasesTheTablesNamedLastAfterTheOthersEachRowInItsOrder()
            throws Exception {
        TransactionAssembler a = productLast(false);
        Collected out = new Collected();
        String[][] events = {
            {"product", change("product", 70, 1, 7)},
            {"category", change("category", 70, 2, 3)},
            {"product", change("product", 70, 3, 7, "u")},
            {"category", change("category", 70, 4, 4)},
        };
        int offset = 0;
        for (String[] e : events) {
            a.onRecord(e[1], "topic catalog.catalog." + e[0] + " partition 0 offset " + offset++,
                    out);
        }
        a.onRecord(end(70, counts("category", 2, "product", 2)), "topic catalog.transaction"
                + " partition 0 offset 0", out);
        assertEquals(1, out.txs.size());
        assertEquals(List.of(c("category", 3), c("category", 4), c("product", 7),
                new Change("product", 7, "u")), out.txs.get(0).changes(),
                "the other tables first, then product's changes in their order");
    }

    @Test
    void laterPassesAreReleasedInTheirOrderInATransactionAndInTheSnapshot() throws Exception {
        TransactionAssembler a = variantThenProduct(false);
        Collected out = new Collected();
        String[][] events = {
            {"product", change("product", 70, 1, 7)},
            {"product_variant", change("product_variant", 70, 2, 9)},
            {"category", change("category", 70, 3, 3)},
            {"product", change("product", 70, 4, 7, "u")},
            {"product_variant", change("product_variant", 70, 5, 9, "u")},
        };
        int offset = 0;
        for (String[] e : events) {
            a.onRecord(e[1], "topic catalog.catalog." + e[0] + " partition 0 offset " + offset++,
                    out);
        }
        a.onRecord(end(70, counts("category", 1, "product", 2, "product_variant", 2)),
                "topic catalog.transaction partition 0 offset 0", out);
        assertEquals(List.of(c("category", 3), c("product_variant", 9),
                new Change("product_variant", 9, "u"), c("product", 7),
                new Change("product", 7, "u")), out.txs.get(0).changes(),
                "tables not named, then each pass in turn, each row's changes in their order");

        List<Tx> snapshot = feed(variantThenProduct(true),
                snapshotRead("product", 5, "first", 50, 777), snapshotRead("product_variant", 8),
                snapshotRead("category", 1, "last", 50, 777),
                scanned(counts("category", 1, "product", 1, "product_variant", 1,
                        "cdc_heartbeat", 0)));
        assertEquals(List.of(r("category", 1), r("product_variant", 8), r("product", 5)),
                snapshot.get(0).changes(), "the snapshot epoch in the same passes");
    }

    @Test
    void theTableOfABufferedChangeIsReadFromItsOrigin() {
        assertEquals("product_variant", TransactionAssembler.originTable(
                "topic catalog.catalog.product_variant partition 2 offset 9\u0001{}"));
        assertEquals("", TransactionAssembler.originTable("from somewhere else"));
    }

    @Test
    void streamedTransactionsWaitForTheSnapshotReport() throws Exception {
        TransactionAssembler a = assembler(true);
        assertEquals(List.of(), feed(a, change("product", 60, 1, 600), end(60, counts("product", 1))));
        assertTrue(a.waitingFor().what().contains("not reported it COMPLETED"));
        List<Tx> got = feed(a, scanned(counts("category", 0, "product", 0)));
        assertEquals(List.of(60L), got.stream().map(Tx::txid).toList(),
                "an empty snapshot releases nothing itself");
    }

    @Test
    void heartbeatRowInTheSnapshotIsCountedNotViewed() throws Exception {
        TransactionAssembler a = assembler(true);
        List<Tx> got = feed(a, snapshotRead("cdc_heartbeat", 1), snapshotRead("category", 2),
                scanned(counts("category", 1, "cdc_heartbeat", 1)));
        assertEquals(List.of(new Tx(50, 777, null, 50L, List.of(r("category", 2)))), got);
    }

    @Test
    void aSnapshotRestartedMidwayReleasesOnlyTheCompleteRun() throws Exception {
        TransactionAssembler a = assembler(true);
        // Run 1 (txid 50) is cut short by a Connect restart; run 2 (txid 52) is whole.
        feed(a, notification("STARTED", null, null), notification("TABLE_SCAN_COMPLETED", "category", 2),
                snapshotRead("category", 1), snapshotRead("category", 2), snapshotRead("product", 7));
        assertEquals(List.of(), feed(a, scanned(counts("category", 1, "product", 1)),
                snapshotRead("category", 1, "true", 52, 790)));
        List<Tx> got = feed(a, snapshotRead("product", 8, "true", 52, 790));
        assertEquals(52, got.get(0).txid());
        assertEquals(Set.of(r("category", 1), r("product", 8)), Set.copyOf(got.get(0).changes()));
        // A late row of the abandoned run changes nothing.
        assertEquals(List.of(), feed(a, snapshotRead("product", 9, "true", 50, 777)));
    }

    @Test
    void aNewSnapshotAfterTheEpochStopsWithTheRecoveryCommand() throws Exception {
        TransactionAssembler a = assembler(true);
        feed(a, snapshotRead("category", 1), scanned(counts("category", 1)));
        AssemblyError row = assertThrows(AssemblyError.class,
                () -> feed(a, snapshotRead("category", 1, "true", 90, 5000)));
        assertTrue(row.getMessage().matches("topic t partition 0 offset 0: snapshot row .* `catalog-view resnapshot`.*"),
                row.getMessage());
        AssemblyError started = assertThrows(AssemblyError.class,
                () -> feed(a, notification("STARTED", null, null)));
        assertTrue(started.getMessage().contains("new initial snapshot"), started.getMessage());
    }

    @Test
    void transactionsBelowTheSnapshotPositionAreInItAlready() throws Exception {
        TransactionAssembler a = assembler(true);
        feed(a, snapshotRead("category", 1, "true", 50, 100_000), scanned(counts("category", 1)));
        List<Tx> got = feed(a, change("product", 70, 1, 700), end(70, counts("product", 1)),
                change("product", 171, 1, 701), end(171, counts("product", 1)));
        assertEquals(List.of(new Tx(171, 171999, 7L, 171L, List.of(c("product", 701)))), got);
    }

    @Test
    void logicalMessagesAndUnreadTablesDoNotHoldATransaction() throws Exception {
        // END counts a transactional pg_logical_emit_message and captured tables no view reads.
        TransactionAssembler a = assembler(false);
        String message = "io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$Id@cbdf1fc";
        List<Tx> got = feed(a, change("product", 30, 3, 300),
                end(30, counts("product", 1, "audit_log", 2), message));
        assertEquals(List.of(c("product", 300)), got.get(0).changes());
        assertEquals(Set.of(message, "catalog.audit_log"), new HashSet<>(a.ignoredCollections()));
    }

    @Test
    void truncateIsReleasedInItsTransactionOrder() throws Exception {
        TransactionAssembler a = assembler(false);
        List<Tx> got = feed(a, change("product", 31, 2, 310), change("product", 31, 1, 0, "t"),
                end(31, counts("product", 2)));
        assertEquals(List.of("t", "c"), got.get(0).changes().stream().map(Change::op).toList());
    }

    @Test
    void incrementalSnapshotsAreRefused() {
        TransactionAssembler a = assembler(false);
        AssemblyError e = assertThrows(AssemblyError.class,
                () -> feed(a, snapshotRead("category", 1, "incremental", 50, 777)));
        assertTrue(e.getMessage().startsWith("topic t partition 0 offset 0: incremental snapshot row of category"));
    }

    @Test
    void countsThatDisagreeWithEndAreAnError() {
        TransactionAssembler a = assembler(false);
        AssemblyError e = assertThrows(AssemblyError.class,
                () -> feed(a, change("product", 14, 1, 140), end(14, counts("category", 1))));
        assertEquals("transaction 14: END counts {catalog.category=1} but received "
                + "{catalog.product=1}", e.getMessage());
    }

    @Test
    void unknownTableAndBadJsonNameTheRecord() {
        TransactionAssembler a = assembler(false);
        AssemblyError table = assertThrows(AssemblyError.class, () -> feed(a, change("orders", 15, 1, 1)));
        assertTrue(table.getMessage().startsWith("topic t partition 0 offset 0: change of table 'orders'"));
        AssemblyError json = assertThrows(AssemblyError.class, () -> feed(a, "{broken"));
        assertTrue(json.getMessage().startsWith("topic t partition 0 offset 0: not JSON"), json.getMessage());
    }
}
