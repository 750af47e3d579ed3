package catalogview.flink.assembly;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.types.Row;
import org.apache.flink.util.OutputTag;

import catalogview.flink.TableChangelogEntry;

/**
 * Builds the ordered path for the Python job: the captured records (topic, partition, offset,
 * value) into the assembler at parallelism 1, and out of it one changelog per table (through
 * its {@link TableChangelogEntry}), the transaction markers and the dead letters.
 */
public final class TransactionAssembly {

    private final SingleOutputStreamOperator<Row> assembled;
    private final Map<String, OutputTag<Row>> tableTags;
    private final OutputTag<String> deadLetterTag;

    private TransactionAssembly(SingleOutputStreamOperator<Row> assembled,
            Map<String, OutputTag<Row>> tableTags, OutputTag<String> deadLetterTag) {
        this.assembled = assembled;
        this.tableTags = tableTags;
        this.deadLetterTag = deadLetterTag;
    }

    /** One constant key: the assembler is one ordered stream with keyed (checkpointed) state. */
    private static final class OneKey implements KeySelector<Row, Integer> {
        private static final long serialVersionUID = 1L;

        @Override
        public Integer getKey(Row value) {
            return 0;
        }
    }

    public static TransactionAssembly of(DataStream<Row> records, String configJson) {
        return of(records, configJson, null);
    }

    /**
     * @param storeWatermark where the assembler reads the store's watermark to cut a replay
     *     there (see {@link RestoreCut}); null when nothing is written to a store
     */
    public static TransactionAssembly of(DataStream<Row> records, String configJson,
            catalogview.flink.StoreWatermark storeWatermark) {
        AssemblyConfig config = AssemblyConfig.parse(configJson);
        Map<String, OutputTag<Row>> tags = new LinkedHashMap<>();
        config.tables().forEach((name, spec) ->
                tags.put(name, new OutputTag<>("table-" + name, spec.markedType())));
        OutputTag<String> deadLetters = new OutputTag<>("dead-letter", Types.STRING);
        SingleOutputStreamOperator<Row> assembled = records
                .keyBy(new OneKey(), Types.INT)
                .process(new AssembleTransactions(config, tags, deadLetters, storeWatermark),
                        AssembleTransactions.markerType())
                .name("assemble-transactions")
                .uid("assemble-transactions")
                .setParallelism(1);
        return new TransactionAssembly(assembled, tags, deadLetters);
    }

    /** The table's changelog at the given parallelism, ready for fromChangelogStream. */
    public DataStream<Row> table(String name, int parallelism) {
        OutputTag<Row> tag = tableTags.get(name);
        if (tag == null) {
            throw new IllegalArgumentException("no table " + name + " in the assembler");
        }
        return TableChangelogEntry.of(assembled.getSideOutput(tag), name, parallelism);
    }

    /** One (view_name "__watermark", commit LSN, payload) row per released transaction. */
    public DataStream<Row> markers() {
        return assembled;
    }

    /** Changes left out under --bad-records dead-letter, as JSON text. */
    public DataStream<String> deadLetters() {
        return assembled.getSideOutput(deadLetterTag);
    }
}
