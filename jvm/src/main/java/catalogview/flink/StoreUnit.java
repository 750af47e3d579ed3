package catalogview.flink;

import java.util.List;
import java.util.Objects;

/**
 * The committable: everything the sink received between two checkpoint barriers, netted.
 *
 * <p>Because all source tables enter the dataflow through one source and every source
 * transaction enters it whole between two barriers (DESIGN.md section 2), a unit is the
 * view delta between two source-transaction boundaries. {@code commitLsn} is the commit LSN of
 * the last source transaction in the unit, or -1 when the unit carried no marker (an error).
 *
 * @param commitLsn highest source commit LSN marked in this unit, -1 if none
 * @param sourceTxid source transaction id of that marker, if known
 * @param sourceCommitMs source commit time of that marker (epoch ms), if known
 * @param changes whole row images with a non-zero net count
 */
public record StoreUnit(long commitLsn, Long sourceTxid, Long sourceCommitMs, List<Change> changes) {

    /** A row image of one store table and how many times the unit adds (+) or retracts (-) it. */
    public record Change(String view, String rowKey, String payload, int count) {
        public Change {
            Objects.requireNonNull(view, "view");
            Objects.requireNonNull(payload, "payload");
        }
    }

    public StoreUnit {
        changes = List.copyOf(changes);
    }
}
