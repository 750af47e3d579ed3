package catalogview.flink;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Objects;

import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.types.Row;

/**
 * Sink V2 that publishes view changes to the PostgreSQL store in units of whole source
 * transactions (docs/design.md, "Commit stage").
 *
 * <p>Input: rows (view_name, row_key, payload) with a RowKind; view_name "__watermark" marks
 * the end of a source transaction (row_key = commit LSN). The writer nets everything between
 * two checkpoint barriers into one {@link StoreUnit}, applied in one store transaction together
 * with the watermark row: by the writer as the barrier passes it ({@code commitAtBarrier}), or
 * by Flink's committer once the checkpoint completes. Both are exactly-once against the store:
 * a unit the store holds already is skipped by its commit LSN (see {@link StoreCommitter}).
 *
 * <p>Memory is bounded by {@code maxImagesInMemory}: a larger unit is staged in the store in
 * chunks by the writer and applied set-based by the committer (see {@link UnitWriter},
 * {@link StoreCommitter}).
 *
 * <p>Must run at parallelism 1: a unit is only a consistent cut if it holds every change
 * between two barriers.
 */
public class TransactionalStoreSink implements Sink<Row>, SupportsCommitter<StoreUnit>,
        SupportsWriterState<Row, Long> {

    private static final long serialVersionUID = 1L;

    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final String schema;
    private final int maxImagesInMemory;
    private final boolean commitAtBarrier;

    public TransactionalStoreSink(String jdbcUrl, String user, String password, String schema) {
        this(jdbcUrl, user, password, schema, UnitWriter.DEFAULT_MAX_IMAGES_IN_MEMORY, true);
    }

    /**
     * @param maxImagesInMemory netted row images the writer holds per unit before it stages
     *     them in the store
     * @param commitAtBarrier publish each unit as the checkpoint barrier passes the writer
     *     (fresher: the store does not wait for the slowest operator's snapshot); false: once
     *     the checkpoint completes
     */
    public TransactionalStoreSink(String jdbcUrl, String user, String password, String schema,
            int maxImagesInMemory, boolean commitAtBarrier) {
        this.jdbcUrl = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        this.user = user;
        this.password = password;
        this.schema = Objects.requireNonNull(schema, "schema");
        if (maxImagesInMemory < 1) {
            throw new IllegalArgumentException("maxImagesInMemory must be at least 1, got "
                    + maxImagesInMemory);
        }
        this.maxImagesInMemory = maxImagesInMemory;
        this.commitAtBarrier = commitAtBarrier;
    }

    @Override
    public UnitWriter createWriter(WriterInitContext context) throws IOException {
        return restoreWriter(context, java.util.List.of());
    }

    /**
     * The writer state is the last commit LSN the writer marked before the checkpoint (one value:
     * parallelism 1); none when the job starts from no checkpoint, or from one taken before the
     * writer had state.
     */
    @Override
    public UnitWriter restoreWriter(WriterInitContext context, Collection<Long> recoveredState)
            throws IOException {
        int parallelism = context.getTaskInfo().getNumberOfParallelSubtasks();
        if (parallelism != 1) {
            throw new IOException("TransactionalStoreSink must run at parallelism 1 (got "
                    + parallelism + "): each store transaction must hold every change between "
                    + "two checkpoint barriers; use sink_to(...).set_parallelism(1)");
        }
        long previousLsn = recoveredState.stream().mapToLong(Long::longValue).max().orElse(-1L);
        UnitWriter.Publisher atBarrier = commitAtBarrier
                ? new StoreCommitter(jdbcUrl, user, password, schema,
                        CommitMetrics.register(context.metricGroup()))
                : null;
        return new UnitWriter(maxImagesInMemory, new StoreStaging(jdbcUrl, user, password, schema),
                previousLsn, atBarrier);
    }

    @Override
    public SimpleVersionedSerializer<Long> getWriterStateSerializer() {
        return new LsnSerializer();
    }

    /** The writer state: one LSN, eight bytes. */
    static final class LsnSerializer implements SimpleVersionedSerializer<Long> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(Long lsn) {
            return ByteBuffer.allocate(Long.BYTES).putLong(lsn).array();
        }

        @Override
        public Long deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1 || serialized.length != Long.BYTES) {
                throw new IOException("unknown commit sink writer state: version " + version
                        + ", " + serialized.length + " bytes (expected version 1, 8 bytes)");
            }
            return ByteBuffer.wrap(serialized).getLong();
        }
    }

    @Override
    public Committer<StoreUnit> createCommitter(CommitterInitContext context) {
        // With commitAtBarrier the writer commits and reports the metrics; this committer only
        // applies units restored from a checkpoint taken with commits at the checkpoint. One
        // registration per job: `stack status` sums the catalogview metrics of the job.
        return new StoreCommitter(jdbcUrl, user, password, schema, commitAtBarrier
                ? CommitMetrics.NONE : CommitMetrics.register(context.metricGroup()));
    }

    @Override
    public SimpleVersionedSerializer<StoreUnit> getCommittableSerializer() {
        return new StoreUnitSerializer();
    }

    @Override
    public String toString() {
        // No password here (nor the URL's parameters, which may hold one): toString ends up in
        // logs and the web UI.
        int q = jdbcUrl.indexOf('?');
        String url = q < 0 ? jdbcUrl : jdbcUrl.substring(0, q);
        return "TransactionalStoreSink{" + url + ", user=" + user + ", schema=" + schema
                + ", maxImagesInMemory=" + maxImagesInMemory + ", commitAtBarrier="
                + commitAtBarrier + "}";
    }
}
