package catalogview.flink;

import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.types.Row;

/**
 * Keys a table's changelog rows by their first field, the primary key {@code id}.
 *
 * <p>The Python job hands each table's rows from the transaction assembler (parallelism 1) to the
 * table conversion (the job's parallelism). Keyed by id, every message of one row travels on one
 * channel and keeps its order; a round-robin hand-over would let a row's retraction overtake its
 * insertion. Written in Java so that the stream keeps its Row type for fromChangelogStream.
 */
public final class RowIdKeySelector implements KeySelector<Row, Long> {
    private static final long serialVersionUID = 1L;

    @Override
    public Long getKey(Row row) {
        Object id = row.getField(0);
        if (!(id instanceof Long)) {
            throw new IllegalArgumentException("expected a BIGINT id as the first field of " + row);
        }
        return (Long) id;
    }
}
