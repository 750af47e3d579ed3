package catalogview.flink;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects the rows that arrive between two checkpoint barriers into one {@link StoreUnit}.
 *
 * <p>Rows inside a unit arrive in no safe order (a +U can come before the -U it replaces, from
 * another join subtask), so they are netted as a multiset of whole row images: only the net
 * count per (view, payload) matters, and that does not depend on arrival order. Holds nothing
 * across a barrier, so it needs no state: after a failure the source replays what was lost.
 *
 * <p>Memory is bounded: when more than {@code maxImagesInMemory} netted images are held, they
 * go as one chunk to the {@link UnitStaging} (committed in the store) and netting starts
 * afresh; the committer nets the chunks against each other. A unit that spilled stages its
 * remainder too at prepareCommit and its committable carries only its id and row count; a unit
 * that never spilled carries its changes inline and costs the writer no store round trip (but
 * the one that takes the writer's epoch, for its first unit).
 *
 * <p>Each unit names the source transactions it holds by their commit LSNs: the first and the
 * last it marks, and the last the writer marked before it ({@code previousLsn}). The writer's
 * state is that last LSN, so that the first unit after a restore knows where it starts; the
 * committer decides from these bounds whether a unit may be applied (see {@link
 * StoreCommitter#verdict}).
 */
final class UnitWriter implements CommittingSinkWriter<Row, StoreUnit>,
        StatefulSinkWriter<Row, Long> {

    private static final Logger LOG = LoggerFactory.getLogger(UnitWriter.class);

    /** Default bound of netted images held in memory per unit. */
    static final int DEFAULT_MAX_IMAGES_IN_MEMORY = 20_000;

    /** view_name of the rows that mark the end of a source transaction. */
    static final String MARKER_VIEW = "__watermark";

    private static final Pattern TXID = longField("source_txid");
    private static final Pattern COMMIT_MS = longField("source_commit_ms");

    private record Image(String view, String payload) {}

    private static final class Net {
        String rowKey;
        int count;
    }

    /** Publishes a unit in the store (at the barrier, when the sink commits there). */
    interface Publisher extends AutoCloseable {
        void publish(StoreUnit unit) throws IOException;

        @Override
        default void close() {}
    }

    private final int maxImagesInMemory;
    private final UnitStaging staging;
    /** Set when units are published at the barrier; null: handed to Flink's committer. */
    private final Publisher atBarrier;

    private final Map<Image, Net> images = new LinkedHashMap<>();
    private long markerLsn = -1;
    private long firstMarkerLsn = -1;
    /** The highest commit LSN marked before the current unit; -1 from the start. */
    private long previousLsn;
    private Long markerTxid;
    private Long markerCommitMs;

    /** 0 until the first unit needs it (epochs start at 1). */
    private long writerEpoch;
    private long unitSeq = 1;
    private long stagedRows;
    private int stagedChunks;
    private long stagingNanos;

    UnitWriter(int maxImagesInMemory, UnitStaging staging) {
        this(maxImagesInMemory, staging, -1, null);
    }

    UnitWriter(int maxImagesInMemory, UnitStaging staging, long previousLsn) {
        this(maxImagesInMemory, staging, previousLsn, null);
    }

    /**
     * @param previousLsn the last commit LSN marked before the restore point, -1 if none
     * @param atBarrier publishes each unit as the barrier passes the writer; null to hand
     *     units to Flink's committer, which publishes them once the checkpoint completes
     */
    UnitWriter(int maxImagesInMemory, UnitStaging staging, long previousLsn,
            Publisher atBarrier) {
        this.previousLsn = previousLsn;
        this.atBarrier = atBarrier;
        if (maxImagesInMemory < 1) {
            throw new IllegalArgumentException("maxImagesInMemory must be at least 1, got "
                    + maxImagesInMemory);
        }
        this.maxImagesInMemory = maxImagesInMemory;
        this.staging = staging;
    }

    @Override
    public void write(Row row, Context context) throws IOException {
        String view = (String) row.getField(0);
        String rowKey = (String) row.getField(1);
        String payload = (String) row.getField(2);
        if (view == null || payload == null) {
            throw new IOException("view change with a null view_name or payload: " + row);
        }
        RowKind kind = row.getKind();
        boolean add = kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER;
        if (MARKER_VIEW.equals(view)) {
            // A retracted marker (from an upsert-shaped marker table) does not un-commit a
            // source transaction: only additions count.
            if (add) {
                acceptMarker(rowKey, payload);
            }
            return;
        }
        Image image = new Image(view, payload);
        Net net = images.computeIfAbsent(image, k -> new Net());
        net.rowKey = rowKey;
        net.count += add ? 1 : -1;
        if (net.count == 0) {
            images.remove(image);
        } else if (images.size() > maxImagesInMemory) {
            spill();
        }
    }

    /** Hands the images held in memory to the staging as one chunk of the current unit. */
    private void spill() throws IOException {
        long started = System.nanoTime();
        staging.stage(epoch(), unitSeq, changesInMemory());
        stagingNanos += System.nanoTime() - started;
        stagedRows += images.size();
        stagedChunks++;
        images.clear();
    }

    private Iterator<StoreUnit.Change> changesInMemory() {
        return images.entrySet().stream()
                .map(e -> new StoreUnit.Change(e.getKey().view(), e.getValue().rowKey,
                        e.getKey().payload(), e.getValue().count))
                .iterator();
    }

    private long epoch() throws IOException {
        if (writerEpoch == 0) {
            writerEpoch = staging.newEpoch();
        }
        return writerEpoch;
    }

    private void acceptMarker(String lsnText, String payload) throws IOException {
        long lsn;
        try {
            lsn = Long.parseLong(lsnText == null ? "" : lsnText.trim());
        } catch (NumberFormatException e) {
            throw new IOException("transaction marker with a non-numeric commit LSN '" + lsnText
                    + "' (payload " + payload + ")", e);
        }
        if (firstMarkerLsn < 0 || lsn < firstMarkerLsn) {
            firstMarkerLsn = lsn;
        }
        if (lsn > markerLsn) {
            markerLsn = lsn;
            markerTxid = extractLong(TXID, payload);
            markerCommitMs = extractLong(COMMIT_MS, payload);
        }
    }

    @Override
    public void flush(boolean endOfInput) {
        // Nothing is written here: the unit is handed over (or published) in prepareCommit.
    }

    @Override
    public Collection<StoreUnit> prepareCommit() throws IOException {
        if (markerLsn < 0 && images.isEmpty() && stagedRows == 0) {
            return List.of();
        }
        List<StoreUnit.Change> inline = new ArrayList<>();
        if (stagedRows > 0) {
            // A unit that spilled goes to the store whole: the committable stays small.
            if (!images.isEmpty()) {
                spill();
            }
            LOG.info("unit {}/{} staged: {} rows in {} chunks, {} ms", writerEpoch, unitSeq,
                    stagedRows, stagedChunks, stagingNanos / 1_000_000);
        } else {
            changesInMemory().forEachRemaining(inline::add);
        }
        StoreUnit unit = new StoreUnit(epoch(), unitSeq, previousLsn, firstMarkerLsn, markerLsn,
                markerTxid, markerCommitMs, inline, stagedRows);
        unitSeq++;
        previousLsn = Math.max(previousLsn, markerLsn);
        images.clear();
        stagedRows = 0;
        stagedChunks = 0;
        stagingNanos = 0;
        markerLsn = -1;
        firstMarkerLsn = -1;
        markerTxid = null;
        markerCommitMs = null;
        if (atBarrier != null) {
            // Published before the barrier goes on: a checkpoint that then fails leaves the
            // store ahead of the restore point, which the verdict and the assembler's restore
            // cut handle like any older restore point (docs/restore.md).
            atBarrier.publish(unit);
            return List.of();
        }
        return List.of(unit);
    }

    /**
     * Called after prepareCommit for the same checkpoint: the LSN the next unit starts after
     * when the job restores from this checkpoint.
     */
    @Override
    public List<Long> snapshotState(long checkpointId) {
        return List.of(previousLsn);
    }

    @Override
    public void close() throws IOException {
        images.clear();
        try {
            staging.close();
        } finally {
            if (atBarrier != null) {
                atBarrier.close();
            }
        }
    }

    private static Pattern longField(String name) {
        return Pattern.compile("\"" + name + "\"\\s*:\\s*(-?\\d+|null)");
    }

    /** The marker payload is a flat JSON object of longs or nulls; no JSON library needed. */
    static Long extractLong(Pattern field, String payload) throws IOException {
        Matcher m = field.matcher(payload);
        if (!m.find() || m.group(1).equals("null")) {
            return null;
        }
        try {
            return Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IOException("transaction marker field out of range in " + payload, e);
        }
    }
}
