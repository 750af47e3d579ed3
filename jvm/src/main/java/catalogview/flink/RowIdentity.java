package catalogview.flink;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.types.Row;

/**
 * Passes rows through unchanged. Placed after the key-by-id exchange at the job's parallelism, it
 * gives each table's changelog a keyed, order-keeping entry into the SQL operators, whatever
 * parallelism the planner chooses for the operators chained behind it.
 */
public final class RowIdentity implements MapFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    @Override
    public Row map(Row row) {
        return row;
    }
}
