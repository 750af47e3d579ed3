package catalogview.flink;

import java.util.Arrays;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.types.Row;

/**
 * A table's changelog on its way from the transaction assembler into the SQL views.
 *
 * <p>The assembler (parallelism 1) emits the table's rows with one extra, last field: {@code
 * true} marks a TRUNCATE of the table, {@code false} a row change. Here they are
 *
 * <ol>
 *   <li>fanned out: a TRUNCATE becomes one copy per subtask of the next step ({@link
 *       TruncateFanOut});
 *   <li>keyed by id, so every change of one row, and the TRUNCATE copy of its subtask, travel on
 *       one channel in the order the assembler released them;
 *   <li>kept per row ({@link TableChangelogState}), which turns a TRUNCATE into the deletion of
 *       every row the table holds, and strips the extra field.
 * </ol>
 *
 * <p>The result is the table's changelog at the job's parallelism, in source-transaction order
 * per row, ready for {@code fromChangelogStream}.
 */
public final class TableChangelogEntry {
    /**
     * Fixed, so that the fan-out's choice of keys and the keyed state agree, and a checkpoint can
     * be restored at any parallelism up to it.
     */
    public static final int MAX_PARALLELISM = 128;

    private TableChangelogEntry() {}

    public static DataStream<Row> of(DataStream<Row> marked, String table, int parallelism) {
        RowTypeInfo markedType = (RowTypeInfo) marked.getType();
        RowTypeInfo rowType = withoutMarker(markedType);
        DataStream<Row> fanned =
                marked.flatMap(new TruncateFanOut(parallelism, MAX_PARALLELISM))
                        .returns(markedType)
                        .setParallelism(marked.getParallelism())
                        .name("truncate-fan-out-" + table);
        SingleOutputStreamOperator<Row> entry =
                fanned.keyBy(new RowIdKeySelector())
                        .transform("table-" + table, rowType, new TableChangelogState(rowType))
                        .uid("table-state-" + table)
                        .setParallelism(parallelism)
                        .setMaxParallelism(MAX_PARALLELISM);
        return entry;
    }

    static RowTypeInfo withoutMarker(RowTypeInfo marked) {
        int arity = marked.getArity() - 1;
        TypeInformation<?>[] types = Arrays.copyOf(marked.getFieldTypes(), arity);
        String[] names = Arrays.copyOf(marked.getFieldNames(), arity);
        return new RowTypeInfo(types, names);
    }
}
