package catalogview.flink;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** A {@link UnitStaging} in memory: records each staged chunk. */
final class FakeStaging implements UnitStaging {

    record Chunk(long writerEpoch, long unitSeq, List<StoreUnit.Change> changes) {}

    final List<Chunk> chunks = new ArrayList<>();
    private long nextEpoch;
    int epochsTaken;
    boolean closed;

    FakeStaging(long firstEpoch) {
        this.nextEpoch = firstEpoch;
    }

    @Override
    public long newEpoch() {
        epochsTaken++;
        return nextEpoch++;
    }

    @Override
    public void stage(long writerEpoch, long unitSeq, Iterator<StoreUnit.Change> chunk) {
        List<StoreUnit.Change> changes = new ArrayList<>();
        chunk.forEachRemaining(changes::add);
        chunks.add(new Chunk(writerEpoch, unitSeq, changes));
    }

    @Override
    public void close() {
        closed = true;
    }
}
