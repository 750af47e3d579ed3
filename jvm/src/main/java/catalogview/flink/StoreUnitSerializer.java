package catalogview.flink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Checkpointed form of a {@link StoreUnit}.
 *
 * <p>Strings are written as length-prefixed UTF-8, not {@code writeUTF}: a product image with
 * many variants can exceed writeUTF's 64 KiB limit.
 */
public final class StoreUnitSerializer implements SimpleVersionedSerializer<StoreUnit> {

    /** Version 3 adds the unit's bounds: the previous unit's and its own first commit LSN. */
    static final int VERSION = 3;
    /** Version 2 adds the unit id and the staged row count. */
    static final int VERSION_STAGED = 2;
    static final int VERSION_INLINE_ONLY = 1;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(StoreUnit unit) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        out.writeLong(unit.writerEpoch());
        out.writeLong(unit.unitSeq());
        out.writeLong(unit.previousLsn());
        out.writeLong(unit.firstLsn());
        out.writeLong(unit.commitLsn());
        writeNullableLong(out, unit.sourceTxid());
        writeNullableLong(out, unit.sourceCommitMs());
        out.writeLong(unit.stagedRows());
        writeChanges(out, unit.changes());
        return out.getCopyOfBuffer();
    }

    @Override
    public StoreUnit deserialize(int version, byte[] serialized) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        StoreUnit unit;
        if (version == VERSION || version == VERSION_STAGED) {
            long writerEpoch = in.readLong();
            long unitSeq = in.readLong();
            long previousLsn = version == VERSION ? in.readLong() : StoreUnit.UNKNOWN_LSN;
            long firstLsn = version == VERSION ? in.readLong() : StoreUnit.UNKNOWN_LSN;
            long commitLsn = in.readLong();
            Long txid = readNullableLong(in);
            Long commitMs = readNullableLong(in);
            long stagedRows = in.readLong();
            unit = new StoreUnit(writerEpoch, unitSeq, previousLsn, firstLsn, commitLsn, txid,
                    commitMs, readChanges(in), stagedRows);
        } else if (version == VERSION_INLINE_ONLY) {
            long commitLsn = in.readLong();
            Long txid = readNullableLong(in);
            Long commitMs = readNullableLong(in);
            unit = new StoreUnit(commitLsn, txid, commitMs, readChanges(in));
        } else {
            throw new IOException("unknown StoreUnit serializer version " + version
                    + " (this build reads versions " + VERSION_INLINE_ONLY + " to " + VERSION + ")");
        }
        if (in.available() != 0) {
            throw new IOException("trailing bytes after StoreUnit: " + in.available());
        }
        return unit;
    }

    private static void writeChanges(DataOutputSerializer out, List<StoreUnit.Change> changes)
            throws IOException {
        out.writeInt(changes.size());
        for (StoreUnit.Change c : changes) {
            writeString(out, c.view());
            writeString(out, c.rowKey());
            writeString(out, c.payload());
            out.writeInt(c.count());
        }
    }

    private static List<StoreUnit.Change> readChanges(DataInputDeserializer in) throws IOException {
        int n = in.readInt();
        List<StoreUnit.Change> changes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String view = readString(in);
            String rowKey = readString(in);
            String payload = readString(in);
            int count = in.readInt();
            changes.add(new StoreUnit.Change(view, rowKey, payload, count));
        }
        return changes;
    }

    private static void writeNullableLong(DataOutputSerializer out, Long v) throws IOException {
        out.writeBoolean(v != null);
        if (v != null) {
            out.writeLong(v);
        }
    }

    private static Long readNullableLong(DataInputDeserializer in) throws IOException {
        return in.readBoolean() ? in.readLong() : null;
    }

    private static void writeString(DataOutputSerializer out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputDeserializer in) throws IOException {
        int len = in.readInt();
        if (len < 0) {
            return null;
        }
        byte[] b = new byte[len];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
