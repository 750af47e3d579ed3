package catalogview.flink;

import java.io.IOException;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.api.connector.sink2.Committer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The committer as it was before unit_staging, kept for {@link StoreApplyBenchmark} only: the
 * whole unit inline, one batched statement per row.
 *
 * <p>Publishes each {@link StoreUnit} in one store transaction together with the watermark row.
 *
 * <p>Idempotent by LSN: a unit at or below the stored watermark is a replay (Flink re-commits
 * restored committables after a restart) and is skipped. Units are applied strictly in the
 * order Flink hands them over; on any error the transaction is rolled back and the exception
 * fails the job, which restarts from the last completed checkpoint and re-commits from there.
 * Never {@code retryLater()}: it could let a later unit overtake an earlier one.
 */
final class RowByRowCommitter implements Committer<StoreUnit> {

    private static final Logger LOG = LoggerFactory.getLogger(RowByRowCommitter.class);

    private static final int MAX_ERROR_CHARS = 2000;
    private static final Pattern BATCH_ENTRY = Pattern.compile("^Batch entry (\\d+) ");

    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final String schema;

    private Connection conn;
    /** Per view: statements built from the catalog once (schema changes need a restart). */
    private final Map<String, TableShape> shapes = new HashMap<>();

    /** What a view's store table looks like, and the SQL that writes it. */
    private record TableShape(String deleteSql, String upsertSql) {}

    RowByRowCommitter(String jdbcUrl, String user, String password, String schema) {
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.schema = schema;
    }

    @Override
    public void commit(Collection<CommitRequest<StoreUnit>> requests) throws IOException {
        for (CommitRequest<StoreUnit> request : requests) {
            apply(request.getCommittable());
        }
    }

    /** Applies one unit; returns false if it was a replay and skipped. */
    boolean apply(StoreUnit unit) throws IOException {
        if (unit.commitLsn() < 0 && !unit.changes().isEmpty()) {
            StoreUnit.Change first = unit.changes().get(0);
            throw new IOException("view changes without a source transaction marker: a unit of "
                    + unit.changes().size() + " changes (first: view " + first.view() + " key "
                    + first.rowKey() + ") carries no __watermark row; the source must emit every "
                    + "transaction whole, with its marker, between two checkpoint barriers");
        }
        long started = System.nanoTime();
        Where where = new Where();
        try {
            Connection c = connection();
            long stored = lockWatermark(c);
            if (unit.commitLsn() <= stored) {
                c.commit();
                LOG.info("skipping replayed unit up to LSN {} (store at {})", unit.commitLsn(), stored);
                return false;
            }
            Map<String, List<StoreUnit.Change>> deletes = new LinkedHashMap<>();
            Map<String, List<StoreUnit.Change>> upserts = new LinkedHashMap<>();
            split(unit, deletes, upserts);
            int nDeletes = 0;
            int nUpserts = 0;
            for (Map.Entry<String, List<StoreUnit.Change>> e : deletes.entrySet()) {
                nDeletes += runBatch(c, e.getKey(), e.getValue(), true, where);
            }
            for (Map.Entry<String, List<StoreUnit.Change>> e : upserts.entrySet()) {
                nUpserts += runBatch(c, e.getKey(), e.getValue(), false, where);
            }
            where.view = "watermark";
            where.key = null;
            writeWatermark(c, unit);
            c.commit();
            LOG.info("committed unit up to LSN {}: {} deletes, {} upserts in {} ms",
                    unit.commitLsn(), nDeletes, nUpserts, (System.nanoTime() - started) / 1_000_000);
            return true;
        } catch (SQLException e) {
            rollbackQuietly();
            throw new IOException("failed to commit unit up to LSN " + unit.commitLsn() + where
                    + ": " + describe(e), e);
        } catch (IOException | RuntimeException e) {
            rollbackQuietly();
            throw e;
        }
    }

    /** Locks out concurrent committers and reads the stored LSN (-1 before the first unit). */
    private long lockWatermark(Connection c) throws SQLException {
        String wm = qualified("watermark");
        try (Statement st = c.createStatement()) {
            // EXCLUSIVE blocks other writers of the watermark but not readers (ACCESS SHARE).
            st.execute("LOCK TABLE " + wm + " IN EXCLUSIVE MODE");
            try (ResultSet rs = st.executeQuery(
                    "SELECT commit_lsn FROM " + wm + " WHERE id = 1 FOR UPDATE")) {
                return rs.next() ? rs.getLong(1) : -1L;
            }
        }
    }

    /**
     * Splits a unit into deletes and upserts per view, after checking that it describes a
     * possible state change: per key at most one image leaves and at most one arrives.
     */
    private void split(StoreUnit unit, Map<String, List<StoreUnit.Change>> deletes,
            Map<String, List<StoreUnit.Change>> upserts) throws IOException {
        Map<List<String>, List<Integer>> countsPerKey = new LinkedHashMap<>();
        for (StoreUnit.Change ch : unit.changes()) {
            if (ch.count() == 0) {
                continue;
            }
            countsPerKey.computeIfAbsent(Arrays.asList(ch.view(), ch.rowKey()),
                    k -> new ArrayList<>()).add(ch.count());
            (ch.count() < 0 ? deletes : upserts)
                    .computeIfAbsent(ch.view(), v -> new ArrayList<>()).add(ch);
        }
        for (Map.Entry<List<String>, List<Integer>> e : countsPerKey.entrySet()) {
            List<Integer> counts = e.getValue();
            long positives = counts.stream().filter(n -> n > 0).count();
            long negatives = counts.stream().filter(n -> n < 0).count();
            boolean unitCounts = counts.stream().allMatch(n -> n == 1 || n == -1);
            if (!unitCounts || positives > 1 || negatives > 1) {
                throw new IOException("inconsistent unit up to LSN " + unit.commitLsn() + ": view "
                        + e.getKey().get(0) + " key " + e.getKey().get(1) + " has net counts "
                        + counts + " (expected at most one -1 and one +1 image per key)");
            }
        }
    }

    private int runBatch(Connection c, String view, List<StoreUnit.Change> changes,
            boolean delete, Where where) throws SQLException, IOException {
        where.view = view;
        where.key = null;
        TableShape shape = shape(c, view, changes.get(0).payload());
        try (PreparedStatement ps = c.prepareStatement(delete ? shape.deleteSql() : shape.upsertSql())) {
            for (StoreUnit.Change ch : changes) {
                ps.setString(1, ch.payload());
                ps.addBatch();
            }
            try {
                ps.executeBatch();
            } catch (BatchUpdateException e) {
                where.key = failedKey(e, changes);
                throw e;
            }
        }
        return changes.size();
    }

    /**
     * The key of the failing batch entry, from pgjdbc's "Batch entry N ..." message (its update
     * counts do not reliably say which entry failed); null if unknown.
     */
    private static String failedKey(BatchUpdateException e, List<StoreUnit.Change> changes) {
        Matcher m = BATCH_ENTRY.matcher(String.valueOf(e.getMessage()));
        if (m.find()) {
            int i = Integer.parseInt(m.group(1));
            if (i >= 0 && i < changes.size()) {
                return changes.get(i).rowKey();
            }
        }
        return null;
    }

    private void writeWatermark(Connection c, StoreUnit unit) throws SQLException {
        String sql = "INSERT INTO " + qualified("watermark")
                + " (id, commit_lsn, source_txid, source_commit, applied_at)"
                + " VALUES (1, ?, ?, to_timestamp(?::bigint / 1000.0), now())"
                + " ON CONFLICT (id) DO UPDATE SET commit_lsn = EXCLUDED.commit_lsn,"
                + " source_txid = EXCLUDED.source_txid, source_commit = EXCLUDED.source_commit,"
                + " applied_at = EXCLUDED.applied_at";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, unit.commitLsn());
            ps.setObject(2, unit.sourceTxid(), Types.BIGINT);
            ps.setObject(3, unit.sourceCommitMs(), Types.BIGINT);
            ps.executeUpdate();
        }
    }

    /**
     * Reads a view's columns and primary key from the catalog, once. The first payload seen
     * is checked against the columns: jsonb_populate_record would silently turn a misspelt
     * key into NULL.
     */
    private TableShape shape(Connection c, String view, String samplePayload)
            throws SQLException, IOException {
        TableShape cached = shapes.get(view);
        if (cached != null) {
            return cached;
        }
        String table = qualified(view);
        List<String> columns = new ArrayList<>();
        List<String> key = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT a.attname, COALESCE(a.attnum = ANY(i.indkey), false)"
                        + " FROM pg_attribute a"
                        + " LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary"
                        + " WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped"
                        + " ORDER BY a.attnum")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                    if (rs.getBoolean(2)) {
                        key.add(rs.getString(1));
                    }
                }
            }
        }
        if (columns.isEmpty()) {
            throw new IOException("view '" + view + "' has no store table " + schema + "." + view
                    + " (create it from sql/store/, or fix the view_name the job emits)");
        }
        if (key.isEmpty()) {
            throw new IOException("store table " + schema + "." + view + " has no primary key");
        }
        checkPayloadKeys(c, view, new LinkedHashSet<>(columns), samplePayload);

        StringBuilder match = new StringBuilder();
        for (String k : key) {
            match.append(match.length() == 0 ? "" : " AND ")
                    .append("t.").append(quote(k)).append(" = r.").append(quote(k));
        }
        String record = "jsonb_populate_record(NULL::" + table + ", ?::jsonb)";
        String deleteSql = "DELETE FROM " + table + " t USING " + record + " r WHERE " + match;
        StringBuilder set = new StringBuilder();
        for (String col : columns) {
            if (!key.contains(col)) {
                set.append(set.length() == 0 ? "" : ", ")
                        .append(quote(col)).append(" = EXCLUDED.").append(quote(col));
            }
        }
        String conflictKey = String.join(", ", key.stream().map(RowByRowCommitter::quote).toList());
        String upsertSql = "INSERT INTO " + table + " SELECT * FROM " + record
                + " ON CONFLICT (" + conflictKey + ") "
                + (set.length() == 0 ? "DO NOTHING" : "DO UPDATE SET " + set);
        TableShape shape = new TableShape(deleteSql, upsertSql);
        shapes.put(view, shape);
        return shape;
    }

    private void checkPayloadKeys(Connection c, String view, Set<String> columns, String payload)
            throws SQLException, IOException {
        Set<String> keys = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT jsonb_object_keys(?::jsonb)")) {
            ps.setString(1, payload);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getString(1));
                }
            }
        }
        Set<String> missing = new TreeSet<>(columns);
        missing.removeAll(keys);
        Set<String> unknown = new TreeSet<>(keys);
        unknown.removeAll(columns);
        if (!missing.isEmpty() || !unknown.isEmpty()) {
            throw new IOException("payload keys of view '" + view + "' do not match the columns of "
                    + schema + "." + view + ": missing " + missing + ", unknown " + unknown);
        }
    }

    private Connection connection() throws SQLException {
        if (conn != null) {
            try {
                if (!conn.isClosed() && conn.isValid(5)) {
                    return conn;
                }
            } catch (SQLException e) {
                LOG.warn("store connection unusable, reconnecting: {}", e.getMessage());
            }
            closeQuietly();
        }
        Properties props = new Properties();
        if (user != null) {
            props.setProperty("user", user);
        }
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("ApplicationName", "catalog-view commit sink");
        // The driver directly, not DriverManager: DriverManager only sees drivers of the
        // system class loader, and the driver jar comes in through pipeline.jars.
        Connection c = new org.postgresql.Driver().connect(jdbcUrl, props);
        if (c == null) {
            throw new SQLException("not a PostgreSQL JDBC URL: " + jdbcUrl);
        }
        c.setAutoCommit(false);
        conn = c;
        return c;
    }

    private void rollbackQuietly() {
        if (conn == null) {
            return;
        }
        try {
            conn.rollback();
        } catch (SQLException e) {
            LOG.warn("rollback failed, dropping the store connection: {}", e.getMessage());
            closeQuietly();
        }
    }

    private void closeQuietly() {
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // already broken
            }
            conn = null;
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }

    private String qualified(String table) {
        return quote(schema) + "." + quote(table);
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    /**
     * The SQL error, short: for a failed batch pgjdbc's own message repeats the statement with
     * the whole payload, so name the underlying server error instead.
     */
    private static String describe(SQLException e) {
        SQLException cause = e;
        if (e instanceof BatchUpdateException && e.getNextException() != null) {
            cause = e.getNextException();
        }
        String msg = String.valueOf(cause.getMessage());
        if (msg.length() > MAX_ERROR_CHARS) {
            msg = msg.substring(0, MAX_ERROR_CHARS) + "...";
        }
        return cause.getSQLState() == null ? msg : msg + " [SQLState " + cause.getSQLState() + "]";
    }

    /** Where in a unit an error happened, for the message. */
    private static final class Where {
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
}
