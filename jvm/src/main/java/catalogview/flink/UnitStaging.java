package catalogview.flink;

import java.io.IOException;
import java.util.Iterator;

/** Where a {@link UnitWriter} puts the chunks of a unit too large to hold in memory. */
interface UnitStaging extends AutoCloseable {

    /** An epoch for one writer instance, larger than every epoch handed out before. */
    long newEpoch() throws IOException;

    /**
     * Stores one netted chunk of a unit under its unit id, durably: the chunk is committed
     * when this returns.
     */
    void stage(long writerEpoch, long unitSeq, Iterator<StoreUnit.Change> chunk) throws IOException;

    @Override
    void close() throws IOException;
}
