package catalogview.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.flink.api.connector.sink2.Committer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The committer against a real PostgreSQL (see {@link TestStore}: skipped without one); each
 * test gets a fresh schema built from sql/store/ and dropped afterwards.
 */
class StoreCommitterTest {

    private TestStore store;
    private String schema;
    private Connection admin;
    private StoreCommitter committer;

    @BeforeEach
    void setUp() throws Exception {
        store = TestStore.create();
        schema = store.schema;
        admin = store.admin;
        committer = store.committer();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (committer != null) {
            committer.close();
        }
        if (store != null) {
            store.close();
        }
    }

    static String product(long id, String name) {
        return "{\"product_id\": " + id + ", \"name\": \"" + name + "\", \"slug\": \"p" + id + "\","
                + " \"description\": \"\", \"rating\": null, \"product_type_id\": 1,"
                + " \"product_type_name\": \"t\", \"product_type_slug\": \"t\", \"category_id\": 3,"
                + " \"category_name\": \"c\", \"category_slug\": \"c\","
                + " \"category_path\": [{\"id\": 3, \"name\": \"c\", \"slug\": \"c\"}],"
                + " \"attributes\": {}, \"variants\": {\"7\": {\"sku\": \"S7\", \"name\": \"v\", \"attributes\": {}}}}";
    }

    static String listing(long productId, long channelId, String price) {
        return "{\"product_id\": " + productId + ", \"channel_id\": " + channelId
                + ", \"channel_slug\": \"web\", \"currency_code\": \"EUR\", \"is_published\": true,"
                + " \"publication_date\": \"2024-05-01\", \"visible_in_listings\": false,"
                + " \"variants\": {\"7\": {\"sku\": \"S7\", \"price\": " + price + "}},"
                + " \"min_price\": " + price + ", \"max_price\": " + price + "}";
    }

    private static StoreUnit.Change add(String view, String key, String payload) {
        return new StoreUnit.Change(view, key, payload, 1);
    }

    private static StoreUnit.Change del(String view, String key, String payload) {
        return new StoreUnit.Change(view, key, payload, -1);
    }

    private void commit(StoreUnit... units) throws IOException, InterruptedException {
        List<Committer.CommitRequest<StoreUnit>> requests = new ArrayList<>();
        for (StoreUnit u : units) {
            requests.add(new Request(u));
        }
        committer.commit(requests);
    }

    private Map<Long, String> productNames() throws SQLException {
        Map<Long, String> out = new TreeMap<>();
        try (Statement st = admin.createStatement();
                ResultSet rs = st.executeQuery("SELECT product_id, name FROM " + schema + ".product")) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getString(2));
            }
        }
        return out;
    }

    private String watermark() throws SQLException {
        try (Statement st = admin.createStatement();
                ResultSet rs = st.executeQuery("SELECT commit_lsn, source_txid,"
                        + " (extract(epoch FROM source_commit) * 1000)::bigint FROM " + schema + ".watermark")) {
            return rs.next() ? rs.getLong(1) + "/" + rs.getObject(2) + "/" + rs.getObject(3) : "none";
        }
    }

    @Test
    void appliesUnitsAndSkipsReplays() throws Exception {
        StoreUnit u1 = new StoreUnit(100, 5L, 1_700_000_000_000L, List.of(
                add("product", "1", product(1, "one")), add("product", "2", product(2, "two")),
                add("product_channel", "1,1", listing(1, 1, "9.99"))));
        // upsert before retraction in the list, on purpose; plus a delete.
        StoreUnit u2 = new StoreUnit(200, 6L, 1_700_000_001_000L, List.of(
                add("product", "1", product(1, "uno")), del("product", "1", product(1, "one")),
                del("product", "2", product(2, "two"))));
        StoreUnit markerOnly = new StoreUnit(300, 7L, null, List.of());
        commit(u1, u2);
        assertEquals(Map.of(1L, "uno"), productNames());
        assertEquals("200/6/1700000001000", watermark());

        // Flink re-commits restored committables after a restart: they must change nothing,
        // even if the store moved on (simulated by editing a row by hand).
        try (Statement st = admin.createStatement()) {
            st.execute("UPDATE " + schema + ".product SET name = 'edited' WHERE product_id = 1");
        }
        assertFalse(committer.apply(u1));
        assertFalse(committer.apply(u2));
        assertEquals(Map.of(1L, "edited"), productNames());
        assertEquals("200/6/1700000001000", watermark());

        assertTrue(committer.apply(markerOnly));
        assertEquals("300/7/null", watermark());
        try (Statement st = admin.createStatement();
                ResultSet rs = st.executeQuery("SELECT min_price::text, variants->'7'->>'price',"
                        + " publication_date::text, visible_in_listings FROM " + schema + ".product_channel")) {
            assertTrue(rs.next());
            assertEquals("9.99", rs.getString(1));
            assertEquals("9.99", rs.getString(2));
            assertEquals("2024-05-01", rs.getString(3));
            assertFalse(rs.getBoolean(4));
        }
    }

    /** A unit of transactions first..last after previous, as the writer builds it. */
    private static StoreUnit bounded(long previous, long first, long last, long txid,
            List<StoreUnit.Change> changes) {
        return new StoreUnit(1, last, previous, first, last, txid, null, changes, 0);
    }

    /**
     * docs/restore.md against a real store at watermark 200: behind and equal units are
     * skipped, a straddling or gapped one is refused without writing, the one that follows the
     * watermark is applied.
     */
    @Test
    void restoreFromAnOlderPointSkipsAppliesAndRefusesByBounds() throws Exception {
        commit(bounded(-1, 100, 200, 2L, List.of(add("product", "1", product(1, "at 200")))));
        assertEquals("200/2/null", watermark());

        // Behind and equal: the store holds them; nothing moves back.
        assertFalse(committer.apply(bounded(-1, 50, 150, 1L,
                List.of(add("product", "1", product(1, "at 150"))))));
        assertFalse(committer.apply(bounded(150, 180, 200, 2L,
                List.of(del("product", "1", product(1, "at 150")),
                        add("product", "1", product(1, "at 200"))))));
        assertEquals(Map.of(1L, "at 200"), productNames());

        // Straddling: 180 (in the store) and 250 (not) in one netted unit.
        IOException straddles = assertThrows(IOException.class, () -> commit(bounded(150, 180,
                250, 3L, List.of(add("product", "2", product(2, "at 250"))))));
        assertTrue(straddles.getMessage().contains("it straddles the store's watermark"),
                straddles.getMessage());
        // Ahead with a gap: transactions 200..300 would be missing.
        IOException gap = assertThrows(IOException.class, () -> commit(bounded(300, 320, 400,
                4L, List.of(add("product", "2", product(2, "at 400"))))));
        assertTrue(gap.getMessage().contains("it starts above the store's watermark"),
                gap.getMessage());
        assertEquals(Map.of(1L, "at 200"), productNames());
        assertEquals("200/2/null", watermark());

        // Cut at the watermark: the next unit starts above it and is applied.
        assertTrue(committer.apply(bounded(200, 220, 250, 3L,
                List.of(add("product", "2", product(2, "at 250"))))));
        assertEquals(Map.of(1L, "at 200", 2L, "at 250"), productNames());
        assertEquals("250/3/null", watermark());
    }

    @Test
    void rejectsInconsistentUnitWithoutWriting() throws Exception {
        StoreUnit twoImages = new StoreUnit(100, 1L, null, List.of(
                add("product", "1", product(1, "a")), add("product", "1", product(1, "b"))));
        IOException e = assertThrows(IOException.class, () -> commit(twoImages));
        assertTrue(e.getMessage().contains("inconsistent unit up to LSN 100: view product key 1"), e.getMessage());
        StoreUnit doubled = new StoreUnit(100, 1L, null, List.of(
                new StoreUnit.Change("product", "1", product(1, "a"), 2)));
        assertThrows(IOException.class, () -> commit(doubled));
        assertEquals(Map.of(), productNames());
        assertEquals("none", watermark());
    }

    @Test
    void rejectsChangesWithoutMarker() {
        StoreUnit unit = new StoreUnit(-1, null, null, List.of(add("product", "1", product(1, "a"))));
        IOException e = assertThrows(IOException.class, () -> commit(unit));
        assertTrue(e.getMessage().startsWith("view changes without a source transaction marker"), e.getMessage());
    }

    @Test
    void sqlErrorRollsBackTheWholeUnitAndNamesIt() throws Exception {
        commit(new StoreUnit(100, 1L, null, List.of(add("product", "1", product(1, "a")))));
        String broken = product(2, "b").replace("\"product_type_id\": 1", "\"product_type_id\": null");
        StoreUnit unit = new StoreUnit(200, 2L, null, List.of(
                del("product", "1", product(1, "a")), add("product", "3", product(3, "c")),
                add("product", "2", broken)));
        IOException e = assertThrows(IOException.class, () -> commit(unit));
        assertTrue(e.getMessage().contains("LSN 200"), e.getMessage());
        assertTrue(e.getMessage().contains("view product, key 2"), e.getMessage());
        assertTrue(e.getMessage().contains("product_type_id"), e.getMessage());
        assertEquals(Map.of(1L, "a"), productNames());
        assertEquals("100/1/null", watermark());
        // the committer recovers: the next (fixed) unit goes through on the same committer.
        commit(new StoreUnit(200, 2L, null, List.of(del("product", "1", product(1, "a")))));
        assertEquals(Map.of(), productNames());
    }

    @Test
    void unknownViewAndMisspeltColumnsAreNamed() {
        IOException e = assertThrows(IOException.class, () -> commit(new StoreUnit(1, null, null,
                List.of(add("prodcut", "1", "{\"product_id\": 1}")))));
        assertTrue(e.getMessage().contains("view 'prodcut' has no store table " + schema + ".prodcut"), e.getMessage());
        IOException keys = assertThrows(IOException.class, () -> commit(new StoreUnit(1, null, null,
                List.of(add("product", "1", product(1, "a").replace("\"slug\"", "\"slgu\""))))));
        assertTrue(keys.getMessage().contains("missing [slug], unknown [slgu]"), keys.getMessage());
    }

    /** A commit request that succeeds unless the committer throws. */
    private record Request(StoreUnit unit) implements Committer.CommitRequest<StoreUnit> {
        @Override public StoreUnit getCommittable() { return unit; }
        @Override public int getNumberOfRetries() { return 0; }
        @Override public void signalFailedWithKnownReason(Throwable t) { throw new AssertionError(t); }
        @Override public void signalFailedWithUnknownReason(Throwable t) { throw new AssertionError(t); }
        @Override public void retryLater() { throw new AssertionError("retryLater"); }
        @Override public void updateAndRetryLater(StoreUnit u) { throw new AssertionError("retryLater"); }
        @Override public void signalAlreadyCommitted() { }
    }
}
