package catalogview.flink;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Iterator;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Streams row images into the store's unit_staging table with COPY (text format), in
 * buffers of a fixed size: a chunk is never encoded whole in memory.
 */
final class StagingCopy {

    static final String TABLE = "unit_staging";

    private static final int BUFFER_BYTES = 256 * 1024;

    private StagingCopy() {}

    /**
     * Copies the changes under one unit id in the connection's current transaction (the
     * caller commits); returns the number of rows the server took.
     */
    static long copy(Connection c, String schema, long writerEpoch, long unitSeq,
            Iterator<StoreUnit.Change> changes) throws SQLException {
        String sql = "COPY " + StoreConnections.quote(schema) + "." + TABLE
                + " (writer_epoch, unit_seq, view_name, row_key, payload, net_count) FROM STDIN";
        CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
        try {
            String unitPrefix = writerEpoch + "\t" + unitSeq + "\t";
            Buffer buf = new Buffer();
            StringBuilder line = new StringBuilder(1024);
            while (changes.hasNext()) {
                StoreUnit.Change ch = changes.next();
                line.setLength(0);
                line.append(unitPrefix);
                appendField(line, ch.view()).append('\t');
                appendField(line, ch.rowKey()).append('\t');
                appendField(line, ch.payload()).append('\t');
                line.append(ch.count()).append('\n');
                buf.writeBytes(line.toString().getBytes(StandardCharsets.UTF_8));
                if (buf.size() >= BUFFER_BYTES) {
                    in.writeToCopy(buf.bytes(), 0, buf.size());
                    buf.reset();
                }
            }
            if (buf.size() > 0) {
                in.writeToCopy(buf.bytes(), 0, buf.size());
            }
            return in.endCopy();
        } finally {
            if (in.isActive()) {
                in.cancelCopy();
            }
        }
    }

    /** Hands its bytes to COPY without a copy of them. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer() {
            super(BUFFER_BYTES + 64 * 1024);
        }

        byte[] bytes() {
            return buf;
        }
    }

    /** A field in COPY's text format: backslash escapes, \N for NULL. */
    private static StringBuilder appendField(StringBuilder out, String value) {
        if (value == null) {
            return out.append("\\N");
        }
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(ch);
            }
        }
        return out;
    }
}
