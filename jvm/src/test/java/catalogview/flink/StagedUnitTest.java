package catalogview.flink;

import static catalogview.flink.StoreCommitterTest.product;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Units staged by the writer in the store and applied set-based by the committer, against a
 * real PostgreSQL (see {@link TestStore}: skipped without one).
 */
class StagedUnitTest {

    private TestStore store;
    private StoreCommitter committer;
    private final List<UnitWriter> writers = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        store = TestStore.create();
        committer = store.committer();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (UnitWriter w : writers) {
            w.close();
        }
        if (committer != null) {
            committer.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private UnitWriter writer(int maxImagesInMemory) {
        UnitWriter w = new UnitWriter(maxImagesInMemory, store.staging());
        writers.add(w);
        return w;
    }

    private static void add(UnitWriter w, long id, String name) throws IOException {
        w.write(Row.ofKind(RowKind.INSERT, "product", "" + id, product(id, name)), null);
    }

    private static void retract(UnitWriter w, long id, String name) throws IOException {
        w.write(Row.ofKind(RowKind.UPDATE_BEFORE, "product", "" + id, product(id, name)), null);
    }

    private static void marker(UnitWriter w, long lsn) throws IOException {
        w.write(Row.ofKind(RowKind.INSERT, "__watermark", "" + lsn,
                "{\"source_txid\": " + lsn + ", \"source_commit_ms\": null}"), null);
    }

    private static StoreUnit unit(UnitWriter w) throws IOException {
        Collection<StoreUnit> units = w.prepareCommit();
        assertEquals(1, units.size());
        return units.iterator().next();
    }

    private Map<Long, String> productNames() throws SQLException {
        Map<Long, String> out = new TreeMap<>();
        try (Statement st = store.admin.createStatement();
                ResultSet rs = st.executeQuery("SELECT product_id, name FROM " + store.schema + ".product")) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getString(2));
            }
        }
        return out;
    }

    private long watermark() throws SQLException {
        try (Statement st = store.admin.createStatement();
                ResultSet rs = st.executeQuery("SELECT commit_lsn FROM " + store.schema + ".watermark")) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    @Test
    void chunksThatCancelOutAcrossChunksNetToTheRightRows() throws Exception {
        UnitWriter w = writer(2);
        add(w, 1, "a");
        add(w, 4, "d");
        marker(w, 100);
        StoreUnit first = unit(w);
        assertEquals(0, first.stagedRows(), "two images are within the bound");
        assertTrue(committer.apply(first));
        assertEquals(0, store.stagedRows(), "inline rows leave no staging behind");

        add(w, 2, "two");
        add(w, 5, "transient");
        add(w, 3, "three"); // third image: chunk 1 = {+2, +5, +3}
        retract(w, 5, "transient");
        retract(w, 1, "a");
        add(w, 1, "uno"); // chunk 2 = {-5, -1a, +1uno}
        add(w, 5, "transient");
        retract(w, 4, "d");
        marker(w, 200);
        retract(w, 5, "transient"); // remainder = {-4} after +5/-5 netted in memory
        StoreUnit second = unit(w);
        assertEquals(7, second.stagedRows());
        assertTrue(second.changes().isEmpty());
        assertEquals(7, store.stagedRows());

        assertTrue(committer.apply(second));
        assertEquals(Map.of(1L, "uno", 2L, "two", 3L, "three"), productNames());
        assertEquals(200, watermark());
        assertEquals(0, store.stagedRows());
    }

    @Test
    void appliesAUnitOfTwoHundredThousandRows() throws Exception {
        UnitWriter w = writer(UnitWriter.DEFAULT_MAX_IMAGES_IN_MEMORY);
        int n = 200_000;
        for (long id = 1; id <= n; id++) {
            add(w, id, "p" + id);
        }
        marker(w, 100);
        StoreUnit big = unit(w);
        assertEquals(n, big.stagedRows());
        assertTrue(big.changes().isEmpty());
        assertTrue(committer.apply(big));
        assertEquals(n, store.count(store.schema + ".product"));
        assertEquals(0, store.count(store.schema + ".product WHERE name <> 'p' || product_id"));
        assertEquals(0, store.stagedRows());

        // and back out again, with an update of every other row.
        for (long id = 1; id <= n; id++) {
            retract(w, id, "p" + id);
            if (id % 2 == 0) {
                add(w, id, "q" + id);
            }
        }
        marker(w, 200);
        StoreUnit second = unit(w);
        assertEquals(n + n / 2, second.stagedRows());
        assertTrue(committer.apply(second));
        assertEquals(n / 2, store.count(store.schema + ".product"));
        assertEquals(0, store.count(store.schema + ".product WHERE name <> 'q' || product_id"));
        assertEquals(0, store.stagedRows());
    }

    @Test
    void replayedSpilledUnitsAreSkippedAndTheirStagedRowsDeleted() throws Exception {
        UnitWriter w = writer(1);
        add(w, 1, "a");
        add(w, 2, "b");
        marker(w, 100);
        StoreUnit u = unit(w);
        assertTrue(committer.apply(u));
        // a restored committable, committed again: its rows are gone already.
        assertFalse(committer.apply(u));

        // the source replays the same transaction after a restart, to a new writer.
        UnitWriter again = writer(1);
        add(again, 1, "a");
        add(again, 2, "b");
        marker(again, 100);
        StoreUnit replay = unit(again);
        assertEquals(2, store.stagedRows());
        store.execute("UPDATE " + store.schema + ".product SET name = 'edited' WHERE product_id = 1");
        assertFalse(committer.apply(replay));
        assertEquals(Map.of(1L, "edited", 2L, "b"), productNames());
        assertEquals(0, store.stagedRows());
        assertEquals(100, watermark());
    }

    @Test
    void aStagedCountThatDiffersFromTheCommittableFails() throws Exception {
        UnitWriter w = writer(1);
        add(w, 1, "a");
        add(w, 2, "b");
        add(w, 3, "c");
        marker(w, 100);
        StoreUnit u = unit(w);
        store.execute("DELETE FROM " + store.schema + ".unit_staging WHERE payload LIKE '%\"name\": \"b\"%'");
        IOException lost = assertThrows(IOException.class, () -> committer.apply(u));
        assertTrue(lost.getMessage().contains("unit " + u.id() + " up to LSN 100: its writer staged 3 rows, "
                + store.schema + ".unit_staging holds 2"), lost.getMessage());
        assertEquals(Map.of(), productNames());
        assertEquals(-1, watermark());
        assertEquals(2, store.stagedRows(), "a failed unit keeps its staged rows");

        store.execute("INSERT INTO " + store.schema + ".unit_staging SELECT writer_epoch, unit_seq,"
                + " view_name, row_key, payload, net_count FROM " + store.schema + ".unit_staging");
        IOException added = assertThrows(IOException.class, () -> committer.apply(u));
        assertTrue(added.getMessage().contains("holds 4"), added.getMessage());
    }

    @Test
    void stagedRowsOfAnAbandonedWriterAreDeletedByTheNextEpoch() throws Exception {
        UnitWriter abandoned = writer(1);
        add(abandoned, 1, "a");
        add(abandoned, 2, "b"); // staged; the job fails before the checkpoint completes
        assertEquals(2, store.stagedRows());

        UnitWriter next = writer(1000);
        add(next, 1, "a");
        marker(next, 100);
        StoreUnit u = unit(next);
        // a writer after it (say, a zombie of the next attempt) keeps its rows.
        UnitWriter later = writer(1);
        add(later, 7, "x");
        add(later, 8, "y");
        marker(later, 300);
        StoreUnit laterUnit = unit(later);
        assertEquals(4, store.stagedRows());

        assertTrue(committer.apply(u));
        assertEquals(2, store.stagedRows(), "only the later writer's rows remain");
        assertEquals(laterUnit.stagedRows(),
                store.count(store.schema + ".unit_staging WHERE writer_epoch = " + laterUnit.writerEpoch()));
        assertTrue(committer.apply(laterUnit));
        assertEquals(Map.of(1L, "a", 7L, "x", 8L, "y"), productNames());
        assertEquals(0, store.stagedRows());
    }

    @Test
    void inconsistentImagesInDifferentChunksAreNamed() throws Exception {
        UnitWriter w = writer(1);
        add(w, 1, "a");
        add(w, 2, "b");
        add(w, 1, "c");
        marker(w, 100);
        IOException e = assertThrows(IOException.class, () -> committer.apply(unit(w)));
        assertTrue(e.getMessage().contains("inconsistent unit up to LSN 100: view product key 1"
                + " has net counts [1, 1]"), e.getMessage());
        assertEquals(Map.of(), productNames());
    }

    @Test
    void aStagedUnitWithoutMarkerFailsUnlessItNetsToNothing() throws Exception {
        UnitWriter w = writer(1);
        add(w, 1, "a");
        add(w, 2, "b");
        retract(w, 1, "a");
        retract(w, 2, "b");
        StoreUnit nothing = unit(w);
        assertEquals(-1, nothing.commitLsn());
        assertFalse(committer.apply(nothing));
        assertEquals(0, store.stagedRows());
        assertEquals(-1, watermark());

        add(w, 1, "a");
        add(w, 2, "b");
        IOException e = assertThrows(IOException.class, () -> committer.apply(unit(w)));
        assertTrue(e.getMessage().startsWith("view changes without a source transaction marker: a unit"
                + " of 2 changes (first: view product key 1)"), e.getMessage());
    }

    @Test
    void aFailingRowOfAStagedUnitIsNamed() throws Exception {
        UnitWriter w = writer(1);
        add(w, 1, "a");
        w.write(Row.ofKind(RowKind.INSERT, "product", "2",
                product(2, "b").replace("\"product_type_id\": 1", "\"product_type_id\": null")), null);
        add(w, 3, "c");
        marker(w, 100);
        IOException e = assertThrows(IOException.class, () -> committer.apply(unit(w)));
        assertTrue(e.getMessage().contains("LSN 100 (view product, key 2)"), e.getMessage());
        assertTrue(e.getMessage().contains("product_type_id"), e.getMessage());
        assertEquals(Map.of(), productNames());
        assertEquals(3, store.stagedRows());
    }
}
