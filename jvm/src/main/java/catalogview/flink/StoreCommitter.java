package catalogview.flink;

import static catalogview.flink.StoreConnections.quote;

import java.io.IOException;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.connector.sink2.Committer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes each {@link StoreUnit} in one store transaction together with the watermark row.
 *
 * <p>Which units may be applied (docs/restore.md has the argument): a unit whose last commit LSN
 * is at or below the stored watermark is a replay (Flink re-commits restored committables after
 * a restart; a job restored from an older checkpoint or a savepoint replays what the store
 * already holds) and is skipped. A unit whose transactions all lie above the watermark, with
 * none missing in between, is applied. Any other unit is refused and fails the job: one that
 * straddles the watermark (its netted images cannot say which keys' changes the store already
 * holds) or one that starts above it (transactions missing). The assembler cuts the replay at
 * the stored watermark so that no unit straddles it. Units are applied strictly in the
 * order Flink hands them over; on any error the transaction is rolled back and the exception
 * fails the job, which restarts from the last completed checkpoint and re-commits from there.
 * Never {@code retryLater()}: it could let a later unit overtake an earlier one.
 *
 * <p>Set-based: the unit's inline changes join its staged chunks in unit_staging, one GROUP BY
 * nets them into a temporary table, and each view gets one DELETE and one INSERT ... ON
 * CONFLICT from it. The unit's staged rows are deleted in the same transaction.
 *
 * <p>Garbage: a writer may stage chunks of a unit that never reaches a completed checkpoint
 * (the job fails first); nothing will ever commit them. The rule that deletes them:
 * <ul>
 *   <li>Writer epochs come from a store sequence, taken by the writer of an attempt while it
 *       runs (one writer per attempt: parallelism 1), so a later attempt's writer has a larger
 *       epoch than every writer before it.
 *   <li>The units of earlier attempts that can still be committed are those restored from the
 *       checkpoint. Flink (2.2, CommitterOperator.initializeState) commits them before the
 *       committer takes any input, and after that commits checkpoint by checkpoint in
 *       checkpoint order (CommittableCollector.getCheckpointCommittablesUpTo), each fully
 *       before the next; a unit that fails fails the job.
 * </ul>
 * So when a unit of epoch E reaches the committer, no unit of an epoch below E is still to
 * come: their staged rows are garbage and are deleted in that unit's transaction. Rows of
 * larger epochs (a writer that outlived its attempt) are left alone.
 */
final class StoreCommitter implements Committer<StoreUnit>, UnitWriter.Publisher {

    private static final Logger LOG = LoggerFactory.getLogger(StoreCommitter.class);

    private static final int MAX_ERROR_CHARS = 2000;

    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final String schema;

    private Connection conn;
    /** Per view: statements built from the catalog once (schema changes need a restart). */
    private final Map<String, TableShape> shapes = new HashMap<>();
    /** Staged rows of epochs below this one are already deleted. */
    private long cleanedBelowEpoch = StoreUnit.LEGACY_EPOCH;

    private final CommitMetrics metrics;

    StoreCommitter(String jdbcUrl, String user, String password, String schema) {
        this(jdbcUrl, user, password, schema, CommitMetrics.NONE);
    }

    StoreCommitter(String jdbcUrl, String user, String password, String schema,
            CommitMetrics metrics) {
        this.metrics = metrics;
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

    /** Publishes a unit the writer hands over at the barrier (the sink's commit at barrier). */
    @Override
    public void publish(StoreUnit unit) throws IOException {
        apply(unit);
    }

    /** What one unit may do to a store at a given watermark. */
    enum Verdict {
        /** Every transaction of the unit lies above the watermark and follows it. */
        APPLY,
        /** The store holds every transaction of the unit already. */
        SKIP,
        /** Some transactions of the unit are in the store, others are not. */
        REFUSE_STRADDLES,
        /** Transactions between the watermark and the unit are in no unit to come. */
        REFUSE_GAP
    }

    /**
     * The rule (docs/restore.md): skip at or below the watermark, apply what lies wholly above
     * it and follows it, refuse the rest. Units of serializer versions 1 and 2 carry no bounds
     * and keep the earlier rule (apply above the watermark).
     */
    static Verdict verdict(StoreUnit unit, long storedLsn) {
        if (unit.commitLsn() <= storedLsn) {
            return Verdict.SKIP;
        }
        if (!unit.bounded()) {
            return Verdict.APPLY;
        }
        if (unit.firstLsn() <= storedLsn) {
            return Verdict.REFUSE_STRADDLES;
        }
        if (unit.previousLsn() > storedLsn) {
            return Verdict.REFUSE_GAP;
        }
        return Verdict.APPLY;
    }

    /** The stored watermark and what the store holds of the unit, read under the lock. */
    private record StoreState(long storedLsn, long stagedRows) {}

    /** Applies one unit; returns false if it was a replay (or netted to nothing) and skipped. */
    boolean apply(StoreUnit unit) throws IOException {
        if (unit.commitLsn() < 0 && !unit.changes().isEmpty()) {
            throw withoutMarker(unit.changes().size(), unit.changes().get(0));
        }
        long started = System.nanoTime();
        NetTable.Where where = new NetTable.Where();
        try {
            Connection c = connection();
            StoreState state = lockAndRead(c, unit);
            long garbage = deleteGarbage(c, unit.writerEpoch());
            Verdict verdict = unit.commitLsn() < 0 ? Verdict.APPLY
                    : verdict(unit, state.storedLsn());
            if (verdict == Verdict.SKIP) {
                finish(c, unit, false, garbage);
                LOG.info("skipping replayed unit up to LSN {} (store at {})", unit.commitLsn(),
                        state.storedLsn());
                return false;
            }
            if (verdict != Verdict.APPLY) {
                metrics.refused();
                throw refused(unit, verdict, state.storedLsn());
            }
            checkStagedCount(unit, state.stagedRows());
            if (!unit.changes().isEmpty()) {
                StagingCopy.copy(c, schema, unit.writerEpoch(), unit.unitSeq(),
                        unit.changes().iterator());
            }
            NetTable net = new NetTable(c, unit);
            List<NetTable.ViewCounts> views = net.fill(staging());
            if (unit.commitLsn() < 0) {
                long images = views.stream().mapToLong(NetTable.ViewCounts::images).sum();
                if (images > 0) {
                    throw withoutMarker(images, net.firstImage());
                }
                // Staged chunks that cancel out: no unit, like an in-memory unit netting to nothing.
                finish(c, unit, false, garbage);
                return false;
            }
            net.checkConsistent(views);
            long[] written = net.writeViews(views, this::shape, where);
            where.view = "watermark";
            finish(c, unit, true, garbage);
            long ms = (System.nanoTime() - started) / 1_000_000;
            metrics.committed(ms, unit);
            long rows = written[0] + written[1];
            LOG.info("committed unit up to LSN {}: {} deletes, {} upserts in {} ms, {} rows/s{}",
                    unit.commitLsn(), written[0], written[1], ms, rows * 1000 / Math.max(ms, 1),
                    unit.stagedRows() > 0 ? " (" + unit.stagedRows() + " staged)" : "");
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

    private IOException refused(StoreUnit unit, Verdict verdict, long storedLsn) {
        String what = verdict == Verdict.REFUSE_STRADDLES
                ? "it straddles the store's watermark: it holds source transactions from LSN "
                        + unit.firstLsn() + " (after " + unit.previousLsn() + ") to "
                        + unit.commitLsn() + ", the store already reflects those up to "
                        + storedLsn + ", and a netted unit cannot be applied in part"
                : "it starts above the store's watermark: it holds source transactions after LSN "
                        + unit.previousLsn() + ", the store reflects them only up to " + storedLsn
                        + ", so the transactions in between would be missing";
        return new IOException("refusing unit " + unit.id() + " up to LSN " + unit.commitLsn()
                + ": " + what + ". Restore the job from a checkpoint or savepoint taken at or"
                + " after the store's watermark (e.g. the newest), or rebuild the store"
                + " (catalog-view resnapshot, or python -m flink_jobs --fresh)");
    }

    private IOException withoutMarker(long changes, StoreUnit.Change first) {
        return new IOException("view changes without a source transaction marker: a unit of "
                + changes + " changes (first: view " + first.view() + " key " + first.rowKey()
                + ") carries no __watermark row; the source must emit every transaction whole,"
                + " with its marker, between two checkpoint barriers");
    }

    /**
     * Locks out concurrent committers, then reads the stored LSN (-1 before the first unit)
     * and the unit's staged row count, in one round trip (unit ids are numbers: literals).
     */
    private StoreState lockAndRead(Connection c, StoreUnit unit) throws SQLException {
        String wm = qualified("watermark");
        try (Statement st = c.createStatement()) {
            // EXCLUSIVE blocks other writers of the watermark but not readers (ACCESS SHARE).
            st.execute("LOCK TABLE " + wm + " IN EXCLUSIVE MODE;"
                    + " SELECT commit_lsn FROM " + wm + " WHERE id = 1 FOR UPDATE;"
                    + " SELECT count(*) FROM " + staging() + " WHERE writer_epoch = "
                    + unit.writerEpoch() + " AND unit_seq = " + unit.unitSeq());
            st.getMoreResults();
            long stored;
            try (ResultSet rs = st.getResultSet()) {
                stored = rs.next() ? rs.getLong(1) : -1L;
            }
            st.getMoreResults();
            try (ResultSet rs = st.getResultSet()) {
                rs.next();
                return new StoreState(stored, rs.getLong(1));
            }
        }
    }

    /**
     * Deletes the staged rows of every writer epoch below the unit's, once per epoch: their
     * units can no longer reach the committer (see the class comment).
     */
    private long deleteGarbage(Connection c, long writerEpoch) throws SQLException {
        if (writerEpoch <= cleanedBelowEpoch) {
            return 0;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "DELETE FROM " + staging() + " WHERE writer_epoch < ?")) {
            ps.setLong(1, writerEpoch);
            return ps.executeUpdate();
        }
    }

    /** A lost (or foreign) staged row must never turn into a silently different unit. */
    private void checkStagedCount(StoreUnit unit, long found) throws IOException {
        if (found != unit.stagedRows()) {
            throw new IOException("unit " + unit.id() + " up to LSN " + unit.commitLsn()
                    + ": its writer staged " + unit.stagedRows() + " rows, " + schema + "."
                    + StagingCopy.TABLE + " holds " + found + " (rows lost or added since the"
                    + " checkpoint, e.g. by a restore from an older checkpoint than the latest);"
                    + " the unit cannot be applied");
        }
    }

    /**
     * Deletes the unit's staged rows, writes the watermark if the unit was applied, and
     * commits; one round trip before the commit.
     */
    private void finish(Connection c, StoreUnit unit, boolean applied, long garbage)
            throws SQLException {
        StringBuilder sql = new StringBuilder("DELETE FROM ").append(staging())
                .append(" WHERE writer_epoch = ").append(unit.writerEpoch())
                .append(" AND unit_seq = ").append(unit.unitSeq());
        if (applied) {
            sql.append("; INSERT INTO ").append(qualified("watermark"))
                    .append(" (id, commit_lsn, source_txid, source_commit, applied_at) VALUES (1, ")
                    .append(unit.commitLsn()).append(", ")
                    .append(unit.sourceTxid() == null ? "NULL" : unit.sourceTxid().toString()).append(", ")
                    .append(unit.sourceCommitMs() == null ? "NULL"
                            : "to_timestamp(" + unit.sourceCommitMs() + " / 1000.0)")
                    .append(", now()) ON CONFLICT (id) DO UPDATE SET commit_lsn = EXCLUDED.commit_lsn,"
                            + " source_txid = EXCLUDED.source_txid, source_commit = EXCLUDED.source_commit,"
                            + " applied_at = EXCLUDED.applied_at");
        }
        try (Statement st = c.createStatement()) {
            st.execute(sql.toString());
        }
        c.commit();
        if (unit.writerEpoch() > cleanedBelowEpoch) {
            cleanedBelowEpoch = unit.writerEpoch();
            if (garbage > 0) {
                LOG.info("deleted {} staged rows of writer epochs below {}: units never committed",
                        garbage, unit.writerEpoch());
            }
        }
    }

    /** A view's shape, read once; its payload keys are checked on one of the unit's images. */
    private TableShape shape(Connection c, String view, NetTable.SamplePayload sample)
            throws SQLException, IOException {
        TableShape cached = shapes.get(view);
        if (cached != null) {
            return cached;
        }
        TableShape shape = TableShape.read(c, schema, view, sample.get());
        shapes.put(view, shape);
        return shape;
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
        Connection c = StoreConnections.open(jdbcUrl, user, password, "catalog-view commit sink");
        try (Statement st = c.createStatement()) {
            st.execute(NetTable.CREATE);
            c.commit();
        } catch (SQLException e) {
            c.close();
            throw e;
        }
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

    private String staging() {
        return qualified(StagingCopy.TABLE);
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
}
