package catalogview.flink.assembly;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import catalogview.flink.assembly.DebeziumRecord.RowChange;
import catalogview.flink.assembly.DebeziumRecord.SnapshotNote;
import catalogview.flink.assembly.DebeziumRecord.TransactionEnd;

/**
 * Releases whole source transactions strictly in commit order, from the table topics, the
 * transaction topic and the snapshot notifications (docs/design.md, "Transaction assembly").
 *
 * <p>Kafka gives no order across topics or partitions; the transaction topic (one partition)
 * gives the commit order and, in each END, how many events each transaction has per collection.
 * Change events are buffered by txid until the END at the head of the queue has all of its
 * events; then the whole transaction is released in ONE call, so that no checkpoint barrier can
 * fall inside it. Released changes are streamed to the caller one by one from state (never a
 * whole-transaction copy in memory).
 *
 * <ul>
 *   <li>completeness counts only the collections the job reads (its tables and the heartbeat
 *       table): END also counts logical messages and captured tables no view reads;
 *   <li>{@code transaction.total_order} is an event's position and its de-duplication key
 *       (Debezium redelivers after a Connect restart); released txids are remembered in a
 *       bounded window so that redelivered events and ENDs are dropped;
 *   <li>a transaction that only touched the heartbeat table moves the commit position while the
 *       watermark keeps naming the last transaction whose state the views show;
 *   <li>the initial snapshot (op r) is one atomic epoch, buffered per run (snapshot LSN, txid).
 *       It closes when the notifications said COMPLETED for the latest run and one run's
 *       distinct rows per table equal the TABLE_SCAN_COMPLETED counts: a rule independent of
 *       the order partitions are read in. Streamed transactions wait for it; those committed
 *       at or below the snapshot's LSN are in it already;
 *   <li>what cannot be applied in place (a new snapshot after the epoch, an incremental
 *       snapshot) stops the job with an error naming the recovery.
 * </ul>
 */
public final class TransactionAssembler {

    /** How many released txids are remembered to drop redeliveries. */
    static final long RELEASED_WINDOW = 200_000;

    static final String RESNAPSHOT_HINT = "the views cannot be corrected in place: run "
            + "`catalog-view resnapshot`, which takes a new initial snapshot into the store "
            + "(docs/operations.md)";

    private static final char SEP = '\u0000';

    /** Receives released transactions, change by change, then the transaction's end. */
    public interface Released {
        void change(long txid, long commitLsn, RowChange change, String origin) throws Exception;

        /** stateTxid: the last released transaction that changed catalog tables, if any. */
        void transaction(long txid, long commitLsn, Long commitTsMs, Long stateTxid)
                throws Exception;
    }

    /** What the assembler waits for, for the stall report. */
    public record Waiting(String what) {}

    private final AssemblerState state;
    private final Set<String> tables;
    private final String schema;
    private final String heartbeatTable;
    private final boolean initialSnapshot;
    /**
     * The release pass of each table named in a later pass (1, 2, ...); a table not named is
     * released in pass 0 (snapshot and transactions alike).
     */
    private final Map<String, Integer> passOf = new HashMap<>();
    private final int laterPasses;
    private final Set<String> readCollections = new HashSet<>();
    /** Collections counted in ENDs that the job does not read; reported once each. */
    private final Set<String> ignoredCollections = new HashSet<>();

    /** The decoded END at the head of the queue (derived from state, so safe to cache). */
    private long cachedHead = -1;
    private TransactionEnd cachedEnd;

    public TransactionAssembler(AssemblerState state, Set<String> tables, String schema,
            String heartbeatTable, boolean initialSnapshot) {
        this(state, tables, schema, heartbeatTable, initialSnapshot, List.of());
    }

    /**
     * @param laterPasses tables whose rows are released in later passes, pass by pass, after
     *     every table not named, in the initial snapshot and in every transaction: the left
     *     sides of the views' LEFT joins, innermost first, so each of their rows meets complete
     *     right sides once, instead of being joined and emitted again for every child row that
     *     arrives after it. Sound because a transaction (or the snapshot epoch) is released in
     *     one call, so no barrier falls inside it and only its whole effect reaches a unit, and
     *     because each row's changes keep their order (they all belong to one table, released
     *     in one pass; a snapshot holds each row once).
     */
    public TransactionAssembler(AssemblerState state, Set<String> tables, String schema,
            String heartbeatTable, boolean initialSnapshot, List<Set<String>> laterPasses) {
        // Counters and receive counts are read on every record and hold few entries: they are
        // mirrored in memory, so the per-record path touches RocksDB only to buffer the event.
        this.state = new AssemblerState(state.events(), new MirroredMapStore<>(state.received()),
                state.ends(), state.queued(), state.released(), state.releasedRing(),
                state.snapshot(), state.snapshotCounts(), state.snapshotExpected(),
                new MirroredMapStore<>(state.meta()));
        this.tables = Set.copyOf(tables);
        this.schema = schema;
        this.heartbeatTable = heartbeatTable;
        this.initialSnapshot = initialSnapshot;
        for (int pass = 0; pass < laterPasses.size(); pass++) {
            for (String table : laterPasses.get(pass)) {
                passOf.put(table, pass + 1);
            }
        }
        this.laterPasses = laterPasses.size();
        for (String t : tables) {
            readCollections.add(schema + "." + t);
        }
        if (heartbeatTable != null) {
            readCollections.add(schema + "." + heartbeatTable);
        }
    }

    public Set<String> ignoredCollections() {
        return ignoredCollections;
    }

    public AssemblerState state() {
        return state;
    }

    /** Feeds one Kafka record; releases the transactions it completes, in order. */
    public void onRecord(String value, String origin, Released out) throws Exception {
        DebeziumRecord event;
        try {
            event = DebeziumRecord.decode(value);
        } catch (AssemblyError e) {
            throw new AssemblyError(origin + ": " + e.getMessage()); // the message holds the cause
        }
        if (event instanceof TransactionEnd end) {
            onEnd(end, value);
        } else if (event instanceof SnapshotNote note) {
            onNotification(note, origin);
        } else if (event instanceof RowChange change) {
            onChange(change, value, origin);
        }
        releaseReady(out);
    }

    // -- streamed changes ----------------------------------------------------------------------

    private void onChange(RowChange change, String value, String origin) throws Exception {
        if (!tables.contains(change.table()) && !change.table().equals(heartbeatTable)) {
            throw new AssemblyError(origin + ": change of table '" + change.table()
                    + "', not a catalog table");
        }
        if (change.op().equals("r")) {
            onSnapshotRead(change, value, origin);
            return;
        }
        if (change.txid() == null || change.totalOrder() == null) {
            throw new AssemblyError(origin + ": streamed change without a transaction block");
        }
        if (!state.received().contains(change.txid())
                && state.released().contains(change.txid())) {
            // Redelivered after its transaction was applied (a buffered txid is not released:
            // its receive count goes at release, so only a transaction's first event looks).
            return;
        }
        String key = change.txid() + "/" + change.totalOrder();
        if (state.events().contains(key)) {
            return; // redelivered while still buffered
        }
        state.events().put(key, origin + SEP + value);
        Long received = state.received().get(change.txid());
        state.received().put(change.txid(), (received == null ? 0 : received) + 1);
    }

    private void onEnd(TransactionEnd end, String value) throws Exception {
        if (state.released().contains(end.txid()) || state.queued().contains(end.txid())) {
            return; // a redelivered END
        }
        long tail = state.counter("tail");
        state.ends().put(tail, value);
        state.queued().put(end.txid(), tail);
        state.setCounter("tail", tail + 1);
    }

    /** END's counts restricted to the collections whose records the job reads. */
    private Map<String, Long> readCounts(Map<String, Long> tableCounts) {
        Map<String, Long> read = new TreeMap<>();
        for (Map.Entry<String, Long> e : tableCounts.entrySet()) {
            if (readCollections.contains(e.getKey())) {
                read.put(e.getKey(), e.getValue());
            } else {
                ignoredCollections.add(e.getKey());
            }
        }
        return read;
    }

    // -- the initial snapshot ------------------------------------------------------------------

    private static String runKey(long lsn, long txid) {
        return lsn + ":" + txid;
    }

    private void onSnapshotRead(RowChange change, String value, String origin) throws Exception {
        if ("incremental".equals(change.snapshot())) {
            throw new AssemblyError(origin + ": incremental snapshot row of " + change.table()
                    + ": incremental snapshots interleave with streaming and cannot be applied "
                    + "atomically; " + RESNAPSHOT_HINT);
        }
        long lsn = change.lsn() == null ? 0 : change.lsn();
        long txid = change.txid() == null ? 0 : change.txid();
        if (state.counter("snapshot_released") != 0) {
            long releasedLsn = state.counter("snapshot_lsn");
            long releasedTxid = state.counter("snapshot_txid");
            if (lsn < releasedLsn || lsn == releasedLsn && txid <= releasedTxid) {
                return; // a redelivered row, or a late row of an abandoned run
            }
            throw new AssemblyError(origin + ": snapshot row of " + change.table()
                    + " from a new snapshot (lsn " + lsn + ", txid " + txid + ") after the "
                    + "snapshot epoch (lsn " + releasedLsn + ", txid " + releasedTxid + ") was "
                    + "applied: the connector snapshotted again (its offsets were lost or it was "
                    + "re-created); " + RESNAPSHOT_HINT);
        }
        String run = runKey(lsn, txid);
        String key = run + "/" + change.table() + "/" + change.after().get("id");
        if (!state.snapshot().contains(key)) {
            String countKey = run + "/" + change.table();
            Long count = state.snapshotCounts().get(countKey);
            state.snapshotCounts().put(countKey, (count == null ? 0 : count) + 1);
            // Rows of the fullest run so far: the epoch cannot close before it reaches the
            // scanned total, so most records skip the full check.
            long total = state.counter("snapshot_total/" + run) + 1;
            state.setCounter("snapshot_total/" + run, total);
            if (total > state.counter("snapshot_fullest")) {
                state.setCounter("snapshot_fullest", total);
            }
        }
        state.snapshot().put(key, origin + SEP + value);
        if (change.commitTsMs() != null) {
            state.setCounter("snapshot_ts/" + run, change.commitTsMs());
        }
    }

    private void onNotification(SnapshotNote note, String origin) throws Exception {
        switch (note.kind()) {
            case "STARTED" -> {
                if (state.counter("snapshot_released") != 0) {
                    throw new AssemblyError(origin + ": the connector started a new initial "
                            + "snapshot after the snapshot epoch was applied; " + RESNAPSHOT_HINT);
                }
                // A new run (Connect restarted mid-snapshot): its counts replace the old ones.
                state.snapshotExpected().clear();
                state.setCounter("snapshot_started", 1);
                state.setCounter("snapshot_completed", 0);
            }
            case "TABLE_SCAN_COMPLETED" -> {
                if (readCollections.contains(note.table())) {
                    state.snapshotExpected().put(note.table(), note.rows());
                }
            }
            case "COMPLETED" -> {
                state.setCounter("snapshot_completed", 1);
                long total = 0;
                for (Map.Entry<String, Long> e : state.snapshotExpected().entries()) {
                    total += e.getValue();
                }
                state.setCounter("snapshot_expected_total", total);
            }
            case "ABORTED" -> throw new AssemblyError(origin
                    + ": Debezium reports the initial snapshot ABORTED");
            default -> { } // IN_PROGRESS and others: nothing to do
        }
    }

    /** The newest run (lsn, txid) whose rows match every table's scanned count, or null. */
    private long[] completeRun() throws Exception {
        Map<String, Long> expected = new TreeMap<>();
        for (Map.Entry<String, Long> e : state.snapshotExpected().entries()) {
            if (e.getValue() != 0) {
                expected.put(e.getKey().substring(schema.length() + 1), e.getValue());
            }
        }
        Map<String, Map<String, Long>> runs = new HashMap<>();
        for (Map.Entry<String, Long> e : state.snapshotCounts().entries()) {
            int slash = e.getKey().indexOf('/');
            if (e.getValue() != 0) {
                runs.computeIfAbsent(e.getKey().substring(0, slash), r -> new TreeMap<>())
                        .put(e.getKey().substring(slash + 1), e.getValue());
            }
        }
        long[] best = null;
        for (Map.Entry<String, Map<String, Long>> run : runs.entrySet()) {
            if (run.getValue().equals(expected)) {
                String[] parts = run.getKey().split(":");
                long[] candidate = {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
                if (best == null || candidate[0] > best[0]
                        || candidate[0] == best[0] && candidate[1] > best[1]) {
                    best = candidate;
                }
            }
        }
        return best;
    }

    /** The release pass of a snapshot row, by its key (run/table/id). */
    private int snapshotPass(String runPrefix, String key) {
        int slash = key.indexOf('/', runPrefix.length());
        return slash > 0 ? passOf.getOrDefault(key.substring(runPrefix.length(), slash), 0) : 0;
    }

    /** Whether streamed transactions must still wait for the snapshot epoch. */
    private boolean snapshotPending() throws Exception {
        if (state.counter("snapshot_released") != 0) {
            return false;
        }
        return initialSnapshot || state.counter("snapshot_started") != 0;
    }

    private void tryReleaseSnapshot(Released out) throws Exception {
        if (state.counter("snapshot_completed") == 0) {
            return;
        }
        long expectedRows = state.counter("snapshot_expected_total");
        if (state.counter("snapshot_fullest") < expectedRows) {
            return; // no run has all its rows yet
        }
        long[] run = completeRun();
        if (run == null && expectedRows != 0) {
            return; // rows still on their way from other partitions
        }
        boolean catalog = false;
        Long ts = null;
        if (run != null) {
            String prefix = runKey(run[0], run[1]) + "/";
            ts = state.meta().get("snapshot_ts/" + runKey(run[0], run[1]));
            for (Map.Entry<String, String> e : state.snapshot().entries()) {
                if (e.getKey().startsWith(prefix) && snapshotPass(prefix, e.getKey()) == 0) {
                    RowChange change = emit(run[1], run[0], e.getValue(), out);
                    catalog |= !change.table().equals(heartbeatTable);
                }
            }
            for (int pass = 1; pass <= laterPasses; pass++) {
                for (String key : state.snapshot().keys()) {
                    if (key.startsWith(prefix) && snapshotPass(prefix, key) == pass) {
                        emit(run[1], run[0], state.snapshot().get(key), out);
                        catalog = true;
                    }
                }
            }
        }
        state.snapshot().clear();
        state.snapshotCounts().clear();
        List<String> perRun = new ArrayList<>();
        for (Map.Entry<String, Long> e : state.meta().entries()) {
            if (e.getKey().startsWith("snapshot_ts/") || e.getKey().startsWith("snapshot_total/")) {
                perRun.add(e.getKey());
            }
        }
        for (String key : perRun) {
            state.meta().remove(key);
        }
        state.setCounter("snapshot_released", 1);
        state.setCounter("snapshot_lsn", run == null ? 0 : run[0]);
        state.setCounter("snapshot_txid", run == null ? 0 : run[1]);
        if (run == null) {
            return; // an empty catalog: nothing to show, nothing to mark
        }
        if (catalog) {
            state.setCounter("state_txid", run[1]);
        }
        out.transaction(run[1], run[0], ts, stateTxid());
    }

    // -- release -------------------------------------------------------------------------------

    private TransactionEnd head(long head) throws Exception {
        if (head != cachedHead) {
            String value = state.ends().get(head);
            cachedEnd = value == null ? null : (TransactionEnd) DebeziumRecord.decode(value);
            cachedHead = cachedEnd == null ? -1 : head;
        }
        return cachedEnd;
    }

    private void releaseReady(Released out) throws Exception {
        if (snapshotPending()) {
            tryReleaseSnapshot(out);
            if (snapshotPending()) {
                return; // streamed transactions come after the snapshot epoch
            }
        }
        long snapshotLsn = state.counter("snapshot_lsn");
        while (true) {
            long head = state.counter("head");
            TransactionEnd end = head(head);
            if (end == null) {
                return;
            }
            Map<String, Long> expected = end.tableCounts().isEmpty() ? null : readCounts(end.tableCounts());
            long wanted = expected == null ? end.eventCount()
                    : expected.values().stream().mapToLong(Long::longValue).sum();
            Long received = state.received().get(end.txid());
            if ((received == null ? 0 : received) < wanted) {
                return;
            }
            if (end.lsn() <= snapshotLsn) {
                // Committed before the snapshot's position: its effect is in the snapshot
                // already (a run restarted on an existing slot).
                take(end, null);
            } else {
                release(end, expected, out);
            }
            state.ends().remove(head);
            state.queued().remove(end.txid());
            state.setCounter("head", head + 1);
            rememberReleased(end.txid());
        }
    }

    /** Streams the buffered events of a transaction to out (null: drop them); returns counts. */
    private Map<String, Long> take(TransactionEnd end, Released out) throws Exception {
        Map<String, Long> seen = new TreeMap<>();
        // Changes of the tables of later passes wait for their pass (their positions only);
        // each row's changes keep their order, as they all belong to one table.
        List<List<Long>> held = new ArrayList<>();
        for (int pass = 0; pass < laterPasses; pass++) {
            held.add(new ArrayList<>());
        }
        for (long order = 1; order <= end.eventCount(); order++) {
            String key = end.txid() + "/" + order;
            String stored = state.events().get(key);
            if (stored == null) {
                continue; // a message or a collection the job does not read
            }
            int pass = out == null || laterPasses == 0 ? 0
                    : passOf.getOrDefault(originTable(stored), 0);
            if (pass > 0) {
                held.get(pass - 1).add(order);
                continue;
            }
            takeOne(end, key, stored, out, seen);
        }
        for (List<Long> pass : held) {
            for (long order : pass) {
                String key = end.txid() + "/" + order;
                takeOne(end, key, state.events().get(key), out, seen);
            }
        }
        state.received().remove(end.txid());
        return seen;
    }

    private void takeOne(TransactionEnd end, String key, String stored, Released out,
            Map<String, Long> seen) throws Exception {
        state.events().remove(key);
        if (out != null) {
            RowChange change = emit(end.txid(), end.lsn(), stored, out);
            seen.merge(schema + "." + change.table(), 1L, Long::sum);
        }
    }

    /**
     * The table a buffered change came from, by the origin it was stored with ("topic
     * prefix.schema.table partition p offset o", {@link AssembleTransactions}); "" if the
     * origin does not name a topic so.
     */
    static String originTable(String stored) {
        if (!stored.startsWith("topic ")) {
            return "";
        }
        int end = stored.indexOf(' ', "topic ".length());
        if (end < 0) {
            return "";
        }
        String topic = stored.substring("topic ".length(), end);
        return topic.substring(topic.lastIndexOf('.') + 1);
    }

    private RowChange emit(long txid, long lsn, String stored, Released out) throws Exception {
        int sep = stored.indexOf(SEP);
        String origin = stored.substring(0, sep);
        RowChange change = (RowChange) DebeziumRecord.decode(stored.substring(sep + 1));
        if (!change.table().equals(heartbeatTable)) {
            out.change(txid, lsn, change, origin);
        }
        return change;
    }

    private void release(TransactionEnd end, Map<String, Long> expected, Released out)
            throws Exception {
        Map<String, Long> seen = take(end, out);
        long total = seen.values().stream().mapToLong(Long::longValue).sum();
        if (expected == null && total != end.eventCount()) {
            throw new AssemblyError("transaction " + end.txid() + ": END counts "
                    + end.eventCount() + " events but " + total + " were received");
        }
        if (expected != null) {
            Map<String, Long> nonZero = new TreeMap<>(expected);
            nonZero.values().removeIf(n -> n == 0);
            if (!seen.equals(nonZero)) {
                throw new AssemblyError("transaction " + end.txid() + ": END counts " + nonZero
                        + " but received " + seen);
            }
        }
        boolean catalog = seen.keySet().stream()
                .anyMatch(name -> !name.equals(schema + "." + heartbeatTable));
        if (catalog) {
            state.setCounter("state_txid", end.txid());
        }
        out.transaction(end.txid(), end.lsn(), end.tsMs(), stateTxid());
    }

    /** What keeps the next transaction from being released, or null. */
    public Waiting waitingFor() throws Exception {
        if (snapshotPending()) {
            Map<String, Long> expected = new TreeMap<>();
            for (Map.Entry<String, Long> e : state.snapshotExpected().entries()) {
                expected.put(e.getKey(), e.getValue());
            }
            if (state.counter("snapshot_completed") == 0) {
                return new Waiting("the initial snapshot: Debezium has not reported it COMPLETED "
                        + "(tables scanned so far: " + expected + ")");
            }
            Map<String, Long> have = new TreeMap<>();
            for (Map.Entry<String, Long> e : state.snapshotCounts().entries()) {
                int slash = e.getKey().indexOf('/');
                have.put("run " + e.getKey().substring(0, slash) + " "
                        + e.getKey().substring(slash + 1), e.getValue());
            }
            return new Waiting("the initial snapshot rows: expected " + expected + ", received "
                    + have);
        }
        TransactionEnd end = head(state.counter("head"));
        if (end == null) {
            return null;
        }
        Map<String, Long> expected = end.tableCounts().isEmpty()
                ? Map.of("events", end.eventCount()) : readCounts(end.tableCounts());
        Long received = state.received().get(end.txid());
        return new Waiting("source transaction " + end.txid() + " (commit lsn " + end.lsn() + "): "
                + (received == null ? 0 : received) + " of "
                + expected.values().stream().mapToLong(Long::longValue).sum()
                + " events received, END counts " + expected);
    }

    /** Transactions whose END was read but that are not released yet. */
    public long queued() throws Exception {
        return state.counter("tail") - state.counter("head");
    }

    /** Moves whenever something is released; the stall watch compares it. */
    public long progress() throws Exception {
        return state.counter("head") * 2 + state.counter("snapshot_released");
    }

    private Long stateTxid() throws Exception {
        return state.meta().get("state_txid");
    }

    private void rememberReleased(long txid) throws Exception {
        long seq = state.counter("released_seq");
        state.released().put(txid, seq);
        state.releasedRing().put(seq, txid);
        state.setCounter("released_seq", seq + 1);
        long oldest = seq - RELEASED_WINDOW;
        if (oldest >= 0) {
            Long oldTxid = state.releasedRing().get(oldest);
            if (oldTxid != null) {
                state.released().remove(oldTxid);
                state.releasedRing().remove(oldest);
            }
        }
    }
}
