package catalogview.flink;

import static catalogview.flink.StoreCommitterTest.product;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Store rows written per second: the committer before unit_staging ({@link RowByRowCommitter},
 * whole unit inline, one batched statement per row) against the writer's staging plus the
 * set-based {@link StoreCommitter}; one large unit of inserts, one of updates, then many small
 * units. Off by default; run with
 * {@code mvn -f jvm/pom.xml test -Dtest=StoreApplyBenchmark -Dcatalogview.bench=true} and
 * CATALOG_VIEW_TEST_JDBC_URL set (-Dcatalogview.bench.rows=N, -Dcatalogview.bench.rounds=R).
 * Prints the median of the rounds.
 */
@EnabledIfSystemProperty(named = "catalogview.bench", matches = "true")
class StoreApplyBenchmark {

    private static final int ROWS = Integer.getInteger("catalogview.bench.rows", 100_000);
    private static final int ROUNDS = Integer.getInteger("catalogview.bench.rounds", 3);
    private static final int SMALL_UNITS = 500;
    private static final int SMALL_UNIT_ROWS = 10;

    private final Map<String, List<Long>> nanos = new LinkedHashMap<>();
    private final Map<String, Integer> rows = new LinkedHashMap<>();

    @Test
    void rowsPerSecond() throws Exception {
        List<StoreUnit.Change> inserts = new ArrayList<>(ROWS);
        List<StoreUnit.Change> updates = new ArrayList<>(2 * ROWS);
        for (long id = 1; id <= ROWS; id++) {
            inserts.add(new StoreUnit.Change("product", "" + id, product(id, "p" + id), 1));
            updates.add(new StoreUnit.Change("product", "" + id, product(id, "p" + id), -1));
            updates.add(new StoreUnit.Change("product", "" + id, product(id, "q" + id), 1));
        }
        for (int round = 0; round < ROUNDS; round++) {
            try (TestStore store = TestStore.create();
                    RowByRowCommitter committer = new RowByRowCommitter(
                            TestStore.URL, TestStore.USER, TestStore.PASSWORD, store.schema)) {
                rowByRow(committer, "row-by-row inserts", inserts, 100);
                rowByRow(committer, "row-by-row updates", updates, 200);
                rowByRowSmallUnits(committer);
            }
            try (TestStore store = TestStore.create(); StoreCommitter committer = store.committer()) {
                setBased(store, committer, "set-based inserts", inserts, 100);
                setBased(store, committer, "set-based updates", updates, 200);
                assertEquals(ROWS, store.count(store.schema + ".product WHERE name LIKE 'q%'"));
                setBasedSmallUnits(store, committer);
            }
        }
        nanos.forEach((what, all) -> {
            List<Long> sorted = all.stream().sorted().toList();
            long ms = Math.max(sorted.get(sorted.size() / 2) / 1_000_000, 1);
            int n = rows.get(what);
            System.out.printf("%-36s %8d rows %7d ms %9d rows/s%n", what, n, ms, n * 1000L / ms);
        });
    }

    private void record(String what, int n, long took) {
        nanos.computeIfAbsent(what, k -> new ArrayList<>()).add(took);
        rows.put(what, n);
    }

    private void rowByRow(RowByRowCommitter committer, String what, List<StoreUnit.Change> changes,
            long lsn) throws Exception {
        long started = System.nanoTime();
        committer.apply(new StoreUnit(lsn, null, null, changes));
        record(what, changes.size(), System.nanoTime() - started);
    }

    private void setBased(TestStore store, StoreCommitter committer, String what,
            List<StoreUnit.Change> changes, long lsn) throws Exception {
        long started = System.nanoTime();
        try (UnitWriter writer = new UnitWriter(UnitWriter.DEFAULT_MAX_IMAGES_IN_MEMORY, store.staging())) {
            for (StoreUnit.Change ch : changes) {
                writer.write(Row.ofKind(ch.count() > 0 ? RowKind.INSERT : RowKind.DELETE,
                        ch.view(), ch.rowKey(), ch.payload()), null);
            }
            writer.write(Row.ofKind(RowKind.INSERT, "__watermark", "" + lsn, "{}"), null);
            StoreUnit unit = writer.prepareCommit().iterator().next();
            long staged = System.nanoTime();
            committer.apply(unit);
            long done = System.nanoTime();
            record(what + " (writer: stage)", changes.size(), staged - started);
            record(what + " (commit: apply)", changes.size(), done - staged);
        }
    }

    private static List<StoreUnit.Change> smallUnit(int u) {
        List<StoreUnit.Change> changes = new ArrayList<>(SMALL_UNIT_ROWS);
        for (int i = 0; i < SMALL_UNIT_ROWS; i++) {
            long id = 1_000_000L + (long) u * SMALL_UNIT_ROWS + i;
            changes.add(new StoreUnit.Change("product", "" + id, product(id, "s" + id), 1));
        }
        return changes;
    }

    private void rowByRowSmallUnits(RowByRowCommitter committer) throws Exception {
        long started = System.nanoTime();
        for (int u = 0; u < SMALL_UNITS; u++) {
            committer.apply(new StoreUnit(1000 + u, null, null, smallUnit(u)));
        }
        record("row-by-row " + SMALL_UNITS + " small units", SMALL_UNITS * SMALL_UNIT_ROWS,
                System.nanoTime() - started);
    }

    private void setBasedSmallUnits(TestStore store, StoreCommitter committer) throws Exception {
        long total = 0;
        try (UnitWriter writer = new UnitWriter(UnitWriter.DEFAULT_MAX_IMAGES_IN_MEMORY, store.staging())) {
            for (int u = 0; u < SMALL_UNITS; u++) {
                for (StoreUnit.Change ch : smallUnit(u)) {
                    writer.write(Row.ofKind(RowKind.INSERT, ch.view(), ch.rowKey(), ch.payload()), null);
                }
                writer.write(Row.ofKind(RowKind.INSERT, "__watermark", "" + (1000 + u), "{}"), null);
                StoreUnit unit = writer.prepareCommit().iterator().next();
                long started = System.nanoTime();
                committer.apply(unit);
                total += System.nanoTime() - started;
            }
        }
        record("set-based " + SMALL_UNITS + " small units", SMALL_UNITS * SMALL_UNIT_ROWS, total);
    }
}
