package catalogview.flink;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;

/**
 * Keyed by id: keeps each row's current image (checkpointed keyed state), so that a TRUNCATE
 * can be applied as the deletion of every row the table holds, image by image. The join
 * operators behind it hold rows as multisets and retract by content, so the deletions carry the
 * exact images that were inserted.
 *
 * <p>Input rows carry one extra, last field (the TRUNCATE marker); output rows do not. A custom
 * operator rather than a function: only the keyed state backend can list every key of this
 * subtask, and a TRUNCATE copy must be processed in its channel's order, not by a broadcast.
 */
public final class TableChangelogState extends AbstractStreamOperator<Row>
        implements OneInputStreamOperator<Row, Row> {
    private static final long serialVersionUID = 1L;
    private static final String IMAGE = "image";

    private final RowTypeInfo rowType;
    private transient ValueState<Row> image;

    public TableChangelogState(RowTypeInfo rowType) {
        this.rowType = rowType;
    }

    @Override
    public void open() throws Exception {
        super.open();
        image = getPartitionedState(new ValueStateDescriptor<>(IMAGE, rowType));
    }

    @Override
    public void processElement(StreamRecord<Row> element) throws Exception {
        Row marked = element.getValue();
        if (TruncateFanOut.isTruncate(marked)) {
            truncate(element);
            return;
        }
        Row row = strip(marked);
        RowKind kind = row.getKind();
        if (kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER) {
            image.update(row);
        } else {
            image.clear();
        }
        output.collect(element.replace(row));
    }

    private void truncate(StreamRecord<Row> element) throws Exception {
        Object current = getCurrentKey();
        List<Object> keys =
                getKeyedStateBackend()
                        .getKeys(IMAGE, VoidNamespace.INSTANCE)
                        .collect(Collectors.toList());
        for (Object key : keys) {
            setCurrentKey(key);
            Row held = image.value();
            if (held != null) {
                Row deletion = Row.copy(held);
                deletion.setKind(RowKind.DELETE);
                output.collect(new StreamRecord<>(deletion, element.getTimestamp()));
                image.clear();
            }
        }
        setCurrentKey(current);
    }

    private static Row strip(Row marked) {
        int arity = marked.getArity() - 1;
        Row row = new Row(marked.getKind(), arity);
        for (int i = 0; i < arity; i++) {
            row.setField(i, marked.getField(i));
        }
        return row;
    }
}
