package catalogview.flink;

import java.util.List;
import java.util.Objects;

/**
 * The committable: everything the sink received between two checkpoint barriers, netted.
 *
 * <p>Because all source tables enter the dataflow through one source and every source
 * transaction enters it whole between two barriers (docs/design.md, "Why a unit is a consistent cut"), a unit is the
 * view delta between two source-transaction boundaries. {@code commitLsn} is the commit LSN of
 * the last source transaction in the unit, or -1 when the unit carried no marker (an error).
 *
 * <p>A small unit carries its changes inline. A large one was staged by the writer, in
 * chunks, in the store's unit_staging table under its unit id (writerEpoch, unitSeq); it then
 * carries only how many rows it staged there. Chunks are netted each on its own, so the same
 * image may appear in several chunks with counts that cancel out.
 *
 * @param writerEpoch the writer instance's epoch (from the store's unit_staging_epoch
 *     sequence); {@link #LEGACY_EPOCH} for units restored from the first serializer version
 * @param unitSeq the unit within its writer's epoch
 * @param previousLsn the highest commit LSN the writer had marked before this unit (the
 *     previous unit's, or the restore point's); -1 from the start of the capture, {@link
 *     #UNKNOWN_LSN} for units of serializer versions 1 and 2
 * @param firstLsn lowest source commit LSN marked in this unit, -1 if none, {@link
 *     #UNKNOWN_LSN} for units of serializer versions 1 and 2
 * @param commitLsn highest source commit LSN marked in this unit, -1 if none
 * @param sourceTxid source transaction id of that marker, if known
 * @param sourceCommitMs source commit time of that marker (epoch ms), if known
 * @param changes the inline whole row images with a non-zero net count (empty once staged)
 * @param stagedRows rows the writer committed to unit_staging under this unit id
 */
public record StoreUnit(long writerEpoch, long unitSeq, long previousLsn, long firstLsn,
        long commitLsn, Long sourceTxid, Long sourceCommitMs, List<Change> changes,
        long stagedRows) {

    /** The bounds of a unit written before units carried them (see {@link StoreCommitter}). */
    public static final long UNKNOWN_LSN = Long.MIN_VALUE;

    /** Epoch of units that have no writer epoch; the store's sequence starts above it. */
    public static final long LEGACY_EPOCH = 0;

    /** A row image of one store table and how many times the unit adds (+) or retracts (-) it. */
    public record Change(String view, String rowKey, String payload, int count) {
        public Change {
            Objects.requireNonNull(view, "view");
            Objects.requireNonNull(payload, "payload");
        }
    }

    public StoreUnit {
        changes = List.copyOf(changes);
        if (stagedRows < 0) {
            throw new IllegalArgumentException("negative staged row count " + stagedRows);
        }
    }

    /** An inline unit without a writer epoch (restored from serializer version 1). */
    public StoreUnit(long commitLsn, Long sourceTxid, Long sourceCommitMs, List<Change> changes) {
        this(LEGACY_EPOCH, 0, UNKNOWN_LSN, UNKNOWN_LSN, commitLsn, sourceTxid, sourceCommitMs,
                changes, 0);
    }

    /** Whether the unit says which source transactions it holds (not one of version 1 or 2). */
    public boolean bounded() {
        return firstLsn != UNKNOWN_LSN && previousLsn != UNKNOWN_LSN;
    }

    /** The unit id, for messages. */
    public String id() {
        return writerEpoch + "/" + unitSeq;
    }
}
