package catalogview.flink;

import java.io.IOException;
import java.util.Objects;

import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.types.Row;

/**
 * Sink V2 that publishes view changes to the PostgreSQL store in units of whole source
 * transactions (docs/design.md, "Commit stage").
 *
 * <p>Input: rows (view_name, row_key, payload) with a RowKind; view_name "__watermark" marks
 * the end of a source transaction (row_key = commit LSN). The writer nets everything between
 * two checkpoint barriers into one {@link StoreUnit}; the committer applies it in one store
 * transaction together with the watermark row once the checkpoint completes.
 *
 * <p>Memory is bounded by {@code maxImagesInMemory}: a larger unit is staged in the store in
 * chunks by the writer and applied set-based by the committer (see {@link UnitWriter},
 * {@link StoreCommitter}).
 *
 * <p>Must run at parallelism 1: a unit is only a consistent cut if it holds every change
 * between two barriers.
 */
public class TransactionalStoreSink implements Sink<Row>, SupportsCommitter<StoreUnit> {

    private static final long serialVersionUID = 1L;

    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final String schema;
    private final int maxImagesInMemory;

    public TransactionalStoreSink(String jdbcUrl, String user, String password, String schema) {
        this(jdbcUrl, user, password, schema, UnitWriter.DEFAULT_MAX_IMAGES_IN_MEMORY);
    }

    /**
     * @param maxImagesInMemory netted row images the writer holds per unit before it stages
     *     them in the store
     */
    public TransactionalStoreSink(String jdbcUrl, String user, String password, String schema,
            int maxImagesInMemory) {
        this.jdbcUrl = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        this.user = user;
        this.password = password;
        this.schema = Objects.requireNonNull(schema, "schema");
        if (maxImagesInMemory < 1) {
            throw new IllegalArgumentException("maxImagesInMemory must be at least 1, got "
                    + maxImagesInMemory);
        }
        this.maxImagesInMemory = maxImagesInMemory;
    }

    @Override
    public CommittingSinkWriter<Row, StoreUnit> createWriter(WriterInitContext context)
            throws IOException {
        int parallelism = context.getTaskInfo().getNumberOfParallelSubtasks();
        if (parallelism != 1) {
            throw new IOException("TransactionalStoreSink must run at parallelism 1 (got "
                    + parallelism + "): each store transaction must hold every change between "
                    + "two checkpoint barriers; use sink_to(...).set_parallelism(1)");
        }
        return new UnitWriter(maxImagesInMemory, new StoreStaging(jdbcUrl, user, password, schema));
    }

    @Override
    public Committer<StoreUnit> createCommitter(CommitterInitContext context) {
        return new StoreCommitter(jdbcUrl, user, password, schema);
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
                + ", maxImagesInMemory=" + maxImagesInMemory + "}";
    }
}
