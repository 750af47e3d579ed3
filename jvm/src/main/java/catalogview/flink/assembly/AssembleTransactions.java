package catalogview.flink.assembly;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import catalogview.flink.StoreWatermark;
import catalogview.flink.assembly.DebeziumRecord.RowChange;

/**
 * The transaction assembler as a Flink operator: keyed on one constant key (parallelism 1),
 * its buffers live in keyed MapState, so buffered transactions survive a restart from a
 * checkpoint and, on RocksDB, spill to disk whatever their size.
 *
 * <p>Each released transaction leaves in one processElement call: its rows to the side output
 * of their table, then its marker (commit LSN, state txid, commit time) to the main output. A
 * checkpoint barrier therefore never splits a source transaction.
 *
 * <p>No silent stall: when the queue has not moved for the report interval the operator logs
 * {@code catalog-view assembler: waiting for ...} (read by {@code stack status}); gauges
 * catalogview.queuedTransactions and catalogview.headWaitMs say how much is queued and for how
 * long the head has waited; catalogview.transactionsPerSecond (a meter of released source
 * transactions), catalogview.bufferedRows (change events buffered in unreleased transactions,
 * refreshed at the stall report interval) and catalogview.releasedCommitLsn (the last released
 * transaction).
 *
 * <p>At a restore from a point older than the store, a {@link RestoreCut} holds the outputs of
 * the transactions above the store's watermark until a barrier has passed (held in keyed list
 * state, so a checkpoint taken meanwhile keeps them).
 */
public final class AssembleTransactions extends KeyedProcessFunction<Integer, Row, Row>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AssembleTransactions.class);

    static final String MARKER_VIEW = "__watermark";
    /** How often a held cut checks whether the barrier has passed (no input may come). */
    private static final long CUT_POLL_MS = 50;

    private final AssemblyConfig config;
    private final Map<String, OutputTag<Row>> tableTags;
    private final OutputTag<String> deadLetterTag;
    /** Where the store's watermark is read for the restore cut; null: no store, no cut. */
    private final StoreWatermark storeWatermark;

    private transient TransactionAssembler assembler;
    private transient RestoreCut cut;
    private transient ListState<byte[]> held;
    private transient List<String> tagNames;
    private transient List<TypeSerializer<Row>> tagSerializers;
    private transient TypeSerializer<Row> markerSerializer;
    /** Held outputs restored from a checkpoint are released at the first chance. */
    private transient boolean checkHeld;
    private transient long cutTimerAt;
    private transient Meter transactionsPerSecond;
    private transient volatile long bufferedRows;
    private transient volatile long releasedLsn;
    private transient Set<String> reported;
    private transient long progress;
    private transient long waitingSinceMs;
    private transient long timerAt;
    private transient volatile long queued;
    private transient volatile long headWaitMs;

    AssembleTransactions(AssemblyConfig config, Map<String, OutputTag<Row>> tableTags,
            OutputTag<String> deadLetterTag, StoreWatermark storeWatermark) {
        this.config = config;
        this.tableTags = tableTags;
        this.deadLetterTag = deadLetterTag;
        this.storeWatermark = storeWatermark;
    }

    private <K, V> MapStore<K, V> map(String name, TypeInformation<K> key, TypeInformation<V> value) {
        MapState<K, V> s = getRuntimeContext().getMapState(new MapStateDescriptor<>(name, key, value));
        return new MapStore<>() {
            @Override public V get(K k) throws Exception { return s.get(k); }
            @Override public void put(K k, V v) throws Exception { s.put(k, v); }
            @Override public void remove(K k) throws Exception { s.remove(k); }
            @Override public boolean contains(K k) throws Exception { return s.contains(k); }
            @Override public Iterable<Map.Entry<K, V>> entries() throws Exception { return s.entries(); }
            @Override public Iterable<K> keys() throws Exception { return s.keys(); }
            @Override public void clear() { s.clear(); }
        };
    }

    @Override
    public void initializeState(FunctionInitializationContext context) {
        // Keyed state only (opened in open()); the hook is for snapshotState.
    }

    /** Runs after the barrier went downstream (aligned checkpoints): the cut can release. */
    @Override
    public void snapshotState(FunctionSnapshotContext context) {
        if (cut != null) {
            cut.barrierSent();
        }
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        TypeInformation<String> str = BasicTypeInfo.STRING_TYPE_INFO;
        TypeInformation<Long> lng = BasicTypeInfo.LONG_TYPE_INFO;
        AssemblerState state = new AssemblerState(
                map("events", str, str), map("received", lng, lng), map("ends", lng, str),
                map("queued", lng, lng), map("released", lng, lng), map("released_ring", lng, lng),
                map("snapshot", str, str), map("snapshot_counts", str, lng),
                map("snapshot_expected", str, lng), map("meta", str, lng));
        assembler = new TransactionAssembler(state, tableTags.keySet(), config.schema(),
                config.heartbeatTable(), config.initialSnapshot(), config.laterPasses());
        reported = new TreeSet<>();
        progress = -1;
        timerAt = -1;
        MetricGroup metrics = getRuntimeContext().getMetricGroup().addGroup("catalogview");
        metrics.gauge("queuedTransactions", (Gauge<Long>) () -> queued);
        metrics.gauge("headWaitMs", (Gauge<Long>) () -> headWaitMs);
        transactionsPerSecond = metrics.meter("transactionsPerSecond", new MeterView(60));
        metrics.gauge("bufferedRows", (Gauge<Long>) () -> bufferedRows);
        metrics.gauge("releasedCommitLsn", (Gauge<Long>) () -> releasedLsn);
        releasedLsn = -1;
        openCut();
    }

    private void openCut() throws Exception {
        held = getRuntimeContext().getListState(new ListStateDescriptor<>("restore_cut_held",
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        tagNames = new ArrayList<>(tableTags.keySet());
        tagSerializers = new ArrayList<>();
        for (String name : tagNames) {
            tagSerializers.add(getRuntimeContext().createSerializer(tableTags.get(name).getTypeInfo()));
        }
        markerSerializer = getRuntimeContext().createSerializer(markerType());
        long stored = storeWatermark == null ? -1 : storeWatermark.read();
        cut = new RestoreCut(stored);
        checkHeld = true;
        cutTimerAt = -1;
        if (stored >= 0) {
            LOG.info("catalog-view assembler: the store's watermark is at LSN {}; the replay is"
                    + " cut there by a checkpoint barrier", stored);
        }
    }

    @Override
    public void processElement(Row record, Context ctx, Collector<Row> out) throws Exception {
        // TransactionAssembler.originTable reads the table back from this form.
        String origin = "topic " + record.getField(0) + " partition " + record.getField(1)
                + " offset " + record.getField(2);
        releaseHeld(ctx, out);
        assembler.onRecord((String) record.getField(3), origin, new Emitter(ctx, out));
        reportIgnored();
        watch(ctx.timerService().currentProcessingTime(), ctx);
    }

    /** Sends released changes to their tables' side outputs and markers to the main output. */
    private final class Emitter implements TransactionAssembler.Released {
        private final Context ctx;
        private final Collector<Row> out;

        Emitter(Context ctx, Collector<Row> out) {
            this.ctx = ctx;
            this.out = out;
        }

        @Override
        public void change(long txid, long commitLsn, RowChange change, String origin)
                throws Exception {
            TableSpec spec = config.table(change.table());
            List<Row> rows;
            try {
                rows = spec.rows(change.op(), change.before(), change.after());
            } catch (AssemblyError e) {
                if (!config.deadLetter()) {
                    // No cause: the message holds it, and the log's last line must name the record.
                    throw new AssemblyError(origin + ": " + e.getMessage());
                }
                ctx.output(deadLetterTag, deadLetter(txid, commitLsn, change, origin, e.getMessage()));
                return;
            }
            int tag = tagNames.indexOf(change.table());
            for (Row row : rows) {
                route(tag, commitLsn, row, ctx, out);
            }
        }

        @Override
        public void transaction(long txid, long commitLsn, Long commitTsMs, Long stateTxid)
                throws Exception {
            // The watermark names the state (last catalog transaction) at the position of this
            // transaction: a heartbeat moves the position, not the state.
            ObjectNode payload = DebeziumRecord.JSON.createObjectNode();
            payload.put("source_txid", stateTxid);
            payload.put("source_commit_ms", commitTsMs);
            route(-1, commitLsn, Row.of(MARKER_VIEW, Long.toString(commitLsn), payload.toString()),
                    ctx, out);
            transactionsPerSecond.markEvent();
            releasedLsn = commitLsn;
        }
    }

    /** Emits one output (tag -1: the marker), or holds it while the restore cut says so. */
    private void route(int tag, long commitLsn, Row row, Context ctx, Collector<Row> out)
            throws Exception {
        if (!cut.admit(commitLsn)) {
            hold(tag, commitLsn, row, ctx);
        } else if (tag < 0) {
            out.collect(row);
        } else {
            ctx.output(tableTags.get(tagNames.get(tag)), row);
        }
    }

    private void hold(int tag, long commitLsn, Row row, Context ctx) throws Exception {
        DataOutputSerializer bytes = new DataOutputSerializer(128);
        bytes.writeInt(tag);
        bytes.writeLong(commitLsn);
        (tag < 0 ? markerSerializer : tagSerializers.get(tag)).serialize(row, bytes);
        held.add(bytes.getCopyOfBuffer());
        if (cutTimerAt < 0) {
            cutTimerAt = ctx.timerService().currentProcessingTime() + CUT_POLL_MS;
            ctx.timerService().registerProcessingTimeTimer(cutTimerAt);
        }
    }

    /**
     * Emits what the cut held once a barrier has separated it from what passed before, and
     * what a restored checkpoint held (through the cut of this run's watermark again).
     */
    private void releaseHeld(Context ctx, Collector<Row> out) throws Exception {
        if (!cut.releaseDue() && !checkHeld) {
            return;
        }
        checkHeld = false;
        if (cut.releaseDue()) {
            cut.released();
        }
        Iterable<byte[]> stored = held.get();
        List<byte[]> items = new ArrayList<>();
        if (stored != null) {
            stored.forEach(items::add);
        }
        if (items.isEmpty()) {
            return;
        }
        held.clear();
        for (byte[] item : items) {
            DataInputDeserializer in = new DataInputDeserializer(item);
            int tag = in.readInt();
            long commitLsn = in.readLong();
            Row row = (tag < 0 ? markerSerializer : tagSerializers.get(tag)).deserialize(in);
            route(tag, commitLsn, row, ctx, out);
        }
        LOG.info("catalog-view assembler: released {} outputs held for the restore cut",
                items.size());
    }

    /** What was left out, where it came from and why: enough to replay it by hand. */
    static String deadLetter(long txid, long commitLsn, RowChange change, String origin,
            String reason) {
        ObjectNode record = DebeziumRecord.JSON.createObjectNode();
        record.put("origin", origin);
        record.put("reason", reason);
        record.put("source_txid", txid);
        record.put("commit_lsn", commitLsn);
        record.put("table", change.table());
        record.put("op", change.op());
        record.set("before", change.before());
        record.set("after", change.after());
        return record.toString();
    }

    /** Notes whether the queue moved (cheap); a timer reports a stalled head (rarely). */
    private void watch(long now, Context ctx) throws Exception {
        long current = assembler.progress();
        if (current != progress) {
            progress = current;
            waitingSinceMs = now;
        }
        queued = assembler.queued();
        headWaitMs = now - waitingSinceMs;
        if (timerAt < 0) {
            timerAt = now + config.stallReportMs();
            ctx.timerService().registerProcessingTimeTimer(timerAt);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Row> out) throws Exception {
        if (timestamp == cutTimerAt) {
            cutTimerAt = -1;
            releaseHeld(ctx, out);
            if (cut.holding() && cutTimerAt < 0) {
                cutTimerAt = timestamp + CUT_POLL_MS;
                ctx.timerService().registerProcessingTimeTimer(cutTimerAt);
            }
        }
        if (timerAt >= 0 && timestamp != timerAt) {
            return; // the cut's timer alone (a stall timer restored from a checkpoint runs on)
        }
        timerAt = -1;
        bufferedRows = buffered();
        watch(timestamp, ctx);
        TransactionAssembler.Waiting waiting = assembler.waitingFor();
        if (waiting == null) {
            headWaitMs = 0;
        } else if (headWaitMs >= config.stallReportMs()) {
            LOG.warn("catalog-view assembler: waiting for {} (for {} s)", waiting.what(),
                    headWaitMs / 1000);
        }
    }

    /** Change events buffered in transactions not released yet (and initial snapshot rows). */
    private long buffered() throws Exception {
        long rows = 0;
        for (Map.Entry<Long, Long> e : assembler.state().received().entries()) {
            rows += e.getValue();
        }
        for (Map.Entry<String, Long> e : assembler.state().snapshotCounts().entries()) {
            rows += e.getValue();
        }
        return rows;
    }

    private void reportIgnored() {
        Iterator<String> names = assembler.ignoredCollections().iterator();
        while (names.hasNext()) {
            String name = names.next();
            if (reported.add(name)) {
                LOG.warn("catalog-view assembler: source transactions count events of {}, which no "
                        + "view reads (a logical message or a captured table without sql/sources); "
                        + "they do not hold transactions back", name);
            }
        }
    }

    static TypeInformation<Row> markerType() {
        return Types.ROW_NAMED(new String[] {"view_name", "row_key", "payload"},
                Types.STRING, Types.STRING, Types.STRING);
    }
}
