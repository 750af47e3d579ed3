package catalogview.flink;

import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Passes row changes through; turns a TRUNCATE marker (last field {@code true}) into one copy per
 * downstream subtask, each carrying an id that the key-by-id exchange sends to that subtask.
 *
 * <p>A broadcast would travel on other channels than the table's rows and could overtake the
 * rows released before it; keyed copies keep their place in each channel's order.
 */
public final class TruncateFanOut implements FlatMapFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final long[] keyPerSubtask;

    public TruncateFanOut(int parallelism, int maxParallelism) {
        this.keyPerSubtask = keysReaching(parallelism, maxParallelism);
    }

    /** For each subtask, the smallest non-negative id that the exchange routes to it. */
    static long[] keysReaching(int parallelism, int maxParallelism) {
        long[] keys = new long[parallelism];
        int found = 0;
        boolean[] seen = new boolean[parallelism];
        for (long key = 0; found < parallelism; key++) {
            int subtask =
                    KeyGroupRangeAssignment.assignKeyToParallelOperator(
                            key, maxParallelism, parallelism);
            if (!seen[subtask]) {
                seen[subtask] = true;
                keys[subtask] = key;
                found++;
            }
        }
        return keys;
    }

    static boolean isTruncate(Row row) {
        return Boolean.TRUE.equals(row.getField(row.getArity() - 1));
    }

    @Override
    public void flatMap(Row row, Collector<Row> out) {
        if (!isTruncate(row)) {
            out.collect(row);
            return;
        }
        for (long key : keyPerSubtask) {
            Row copy = Row.copy(row);
            copy.setField(0, key);
            out.collect(copy);
        }
    }
}
