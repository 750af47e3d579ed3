package catalogview.flink;

import java.io.IOException;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One unit netted in the session's temporary table {@value TableShape#NET_TABLE}, and the
 * set-based writes of the store tables from it. The table is created once per connection and
 * emptied at every commit.
 */
final class NetTable {

    static final String CREATE = "CREATE TEMPORARY TABLE IF NOT EXISTS unit_net ("
            + "view_name text COLLATE \"C\", row_key text COLLATE \"C\", payload text COLLATE \"C\","
            + " net bigint, key_images bigint, key_net bigint) ON COMMIT DELETE ROWS";

    /** A key whose images are not one leaving and/or one arriving, once each. */
    private static final String INCONSISTENT =
            "(abs(n.net) <> 1 OR n.key_images > 2 OR (n.key_images = 2 AND n.key_net <> 0))";

    private static final Pattern BATCH_ENTRY = Pattern.compile("^Batch entry (\\d+) ");
    /** Rows per batch when looking for the row a set-based statement failed on. */
    private static final int LOCATE_BATCH = 1000;

    /** What the unit does to one view, and the first key it does something impossible to. */
    record ViewCounts(String view, long images, long deletes, long upserts, boolean inconsistent,
            String firstInconsistentKey) {}

    private static final String BEFORE_WRITES = "before_view_writes";

    /** Where in a unit an error happened, for the message. */
    static final class Where {
        String view;
        String key;

        @Override
        public String toString() {
            if (view == null) {
                return "";
            }
            return " (view " + view + (key == null ? "" : ", key " + key) + ")";
        }
    }

    /** A view's shape, read once per committer; the sample payload is fetched only then. */
    interface Shapes {
        TableShape of(Connection c, String view, SamplePayload sample) throws SQLException, IOException;
    }

    interface SamplePayload {
        String get() throws SQLException;
    }

    private final Connection c;
    private final StoreUnit unit;

    NetTable(Connection c, StoreUnit unit) {
        this.c = c;
        this.unit = unit;
    }

    /**
     * Nets the unit's rows in the staging table into the net table, sets the savepoint the
     * view writes roll back to, and counts per view; one round trip (unit ids are numbers:
     * literals). Each image also gets its key's image count and net sum (a window over the
     * GROUP BY's own sort order), so that the consistency check is part of the count.
     */
    List<ViewCounts> fill(String stagingTable) throws SQLException {
        List<ViewCounts> views = new ArrayList<>();
        try (Statement st = c.createStatement()) {
            st.execute("INSERT INTO " + TableShape.NET_TABLE
                    + " SELECT view_name, row_key, payload, sum(net_count),"
                    + " count(*) OVER per_key, sum(sum(net_count)) OVER per_key"
                    + " FROM " + stagingTable + " WHERE writer_epoch = " + unit.writerEpoch()
                    + " AND unit_seq = " + unit.unitSeq()
                    + " GROUP BY view_name, row_key, payload HAVING sum(net_count) <> 0"
                    + " WINDOW per_key AS (PARTITION BY view_name, row_key);"
                    + " SAVEPOINT " + BEFORE_WRITES + ";"
                    + " SELECT n.view_name, count(*),"
                    + " count(*) FILTER (WHERE n.net " + TableShape.DELETED_IMAGES + "),"
                    + " count(*) FILTER (WHERE n.net " + TableShape.UPSERTED_IMAGES + "),"
                    + " bool_or(" + INCONSISTENT + "), min(n.row_key) FILTER (WHERE " + INCONSISTENT + ")"
                    + " FROM " + TableShape.NET_TABLE + " n GROUP BY n.view_name ORDER BY n.view_name");
            st.getMoreResults();
            st.getMoreResults();
            try (ResultSet rs = st.getResultSet()) {
                while (rs.next()) {
                    views.add(new ViewCounts(rs.getString(1), rs.getLong(2), rs.getLong(3),
                            rs.getLong(4), rs.getBoolean(5), rs.getString(6)));
                }
            }
        }
        return views;
    }

    StoreUnit.Change firstImage() throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT view_name, row_key, payload, net FROM "
                        + TableShape.NET_TABLE + " ORDER BY view_name, row_key LIMIT 1")) {
            rs.next();
            return new StoreUnit.Change(rs.getString(1), rs.getString(2), rs.getString(3),
                    (int) rs.getLong(4));
        }
    }

    /**
     * Checks that the unit describes a possible state change: per key at most one image
     * leaves and at most one arrives.
     */
    void checkConsistent(List<ViewCounts> views) throws SQLException, IOException {
        for (ViewCounts v : views) {
            if (v.inconsistent()) {
                throw new IOException("inconsistent unit up to LSN " + unit.commitLsn() + ": view "
                        + v.view() + " key " + v.firstInconsistentKey() + " has net counts "
                        + countsOf(v.view(), v.firstInconsistentKey())
                        + " (expected at most one -1 and one +1 image per key)");
            }
        }
    }

    private List<Long> countsOf(String view, String key) throws SQLException {
        List<Long> counts = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT net FROM " + TableShape.NET_TABLE
                + " WHERE view_name = ? AND row_key IS NOT DISTINCT FROM ? ORDER BY net")) {
            ps.setString(1, view);
            ps.setString(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    counts.add(rs.getLong(1));
                }
            }
        }
        return counts;
    }

    private String samplePayload(String view) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT payload FROM " + TableShape.NET_TABLE + " WHERE view_name = ? LIMIT 1")) {
            ps.setString(1, view);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** One set-based statement: the deletes or the upserts of one view. */
    private record Step(String view, TableShape shape, boolean delete) {
        String sql() {
            return delete ? shape.deleteNetSql() : shape.upsertNetSql();
        }
    }

    /**
     * Deletes, then upserts, per view, skipping statements with nothing to write; returns
     * {rows deleted, rows upserted}. On a failing statement, names the row it failed on.
     */
    long[] writeViews(List<ViewCounts> views, Shapes shapes, Where where)
            throws SQLException, IOException {
        List<Step> steps = new ArrayList<>();
        for (boolean delete : new boolean[] {true, false}) {
            for (ViewCounts v : views) {
                if ((delete ? v.deletes() : v.upserts()) > 0) {
                    where.view = v.view();
                    steps.add(new Step(v.view(),
                            shapes.of(c, v.view(), () -> samplePayload(v.view())), delete));
                }
            }
        }
        long[] written = new long[2];
        if (steps.isEmpty()) {
            return written;
        }
        for (int i = 0; i < steps.size(); i++) {
            Step step = steps.get(i);
            where.view = step.view();
            try {
                written[step.delete() ? 0 : 1] += execute(step);
            } catch (SQLException e) {
                try {
                    try (Statement st = c.createStatement()) {
                        st.execute("ROLLBACK TO SAVEPOINT " + BEFORE_WRITES);
                    }
                    for (Step done : steps.subList(0, i)) {
                        execute(done);
                    }
                    where.key = failingKey(step);
                } catch (SQLException | RuntimeException locating) {
                    e.addSuppressed(locating);
                }
                throw e;
            }
        }
        return written;
    }

    private long execute(Step step) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(step.sql())) {
            ps.setString(1, step.view());
            return ps.executeUpdate();
        }
    }

    /**
     * The key of the first row that fails on its own, by running the step's rows one
     * statement each (in batches) in the state the failed step met; null if none does. Runs
     * only on the way to failing the job.
     */
    private String failingKey(Step step) throws SQLException {
        try (PreparedStatement rows = c.prepareStatement("SELECT n.row_key, n.payload FROM "
                        + TableShape.NET_TABLE + " n WHERE n.view_name = ? AND n.net "
                        + (step.delete() ? TableShape.DELETED_IMAGES : TableShape.UPSERTED_IMAGES));
                PreparedStatement one = c.prepareStatement(
                        step.delete() ? step.shape().deleteRowSql() : step.shape().upsertRowSql())) {
            rows.setFetchSize(LOCATE_BATCH);
            rows.setString(1, step.view());
            List<String> keys = new ArrayList<>(LOCATE_BATCH);
            try (ResultSet rs = rows.executeQuery()) {
                boolean more = true;
                while (more) {
                    more = rs.next();
                    if (more) {
                        keys.add(rs.getString(1));
                        one.setString(1, rs.getString(2));
                        one.addBatch();
                    }
                    if (keys.size() == LOCATE_BATCH || (!more && !keys.isEmpty())) {
                        try {
                            one.executeBatch();
                        } catch (BatchUpdateException e) {
                            return failedKey(e, keys);
                        }
                        keys.clear();
                    }
                }
            }
        }
        return null;
    }

    /**
     * The key of the failing batch entry, from pgjdbc's "Batch entry N ..." message (its update
     * counts do not reliably say which entry failed); null if unknown.
     */
    private static String failedKey(BatchUpdateException e, List<String> keys) {
        Matcher m = BATCH_ENTRY.matcher(String.valueOf(e.getMessage()));
        if (m.find()) {
            int i = Integer.parseInt(m.group(1));
            if (i >= 0 && i < keys.size()) {
                return keys.get(i);
            }
        }
        return null;
    }
}
