package catalogview.flink;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;

/**
 * Collects the rows that arrive between two checkpoint barriers into one {@link StoreUnit}.
 *
 * <p>Rows inside a unit arrive in no safe order (a +U can come before the -U it replaces, from
 * another join subtask), so they are netted as a multiset of whole row images: only the net
 * count per (view, payload) matters, and that does not depend on arrival order. Holds nothing
 * across a barrier, so it needs no state: after a failure the source replays what was lost.
 */
final class UnitWriter implements CommittingSinkWriter<Row, StoreUnit> {

    /** view_name of the rows that mark the end of a source transaction. */
    static final String MARKER_VIEW = "__watermark";

    private static final Pattern TXID = longField("source_txid");
    private static final Pattern COMMIT_MS = longField("source_commit_ms");

    private record Image(String view, String payload) {}

    private static final class Net {
        String rowKey;
        int count;
    }

    private final Map<Image, Net> images = new LinkedHashMap<>();
    private long markerLsn = -1;
    private Long markerTxid;
    private Long markerCommitMs;

    @Override
    public void write(Row row, Context context) throws IOException {
        String view = (String) row.getField(0);
        String rowKey = (String) row.getField(1);
        String payload = (String) row.getField(2);
        if (view == null || payload == null) {
            throw new IOException("view change with a null view_name or payload: " + row);
        }
        RowKind kind = row.getKind();
        boolean add = kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER;
        if (MARKER_VIEW.equals(view)) {
            // A retracted marker (from an upsert-shaped marker table) does not un-commit a
            // source transaction: only additions count.
            if (add) {
                acceptMarker(rowKey, payload);
            }
            return;
        }
        Image image = new Image(view, payload);
        Net net = images.computeIfAbsent(image, k -> new Net());
        net.rowKey = rowKey;
        net.count += add ? 1 : -1;
        if (net.count == 0) {
            images.remove(image);
        }
    }

    private void acceptMarker(String lsnText, String payload) throws IOException {
        long lsn;
        try {
            lsn = Long.parseLong(lsnText == null ? "" : lsnText.trim());
        } catch (NumberFormatException e) {
            throw new IOException("transaction marker with a non-numeric commit LSN '" + lsnText
                    + "' (payload " + payload + ")", e);
        }
        if (lsn > markerLsn) {
            markerLsn = lsn;
            markerTxid = extractLong(TXID, payload);
            markerCommitMs = extractLong(COMMIT_MS, payload);
        }
    }

    @Override
    public void flush(boolean endOfInput) {
        // Nothing is written here: the unit is handed over in prepareCommit and published by
        // the committer once the checkpoint completes.
    }

    @Override
    public Collection<StoreUnit> prepareCommit() {
        if (markerLsn < 0 && images.isEmpty()) {
            return List.of();
        }
        List<StoreUnit.Change> changes = new ArrayList<>(images.size());
        images.forEach((img, net) ->
                changes.add(new StoreUnit.Change(img.view(), net.rowKey, img.payload(), net.count)));
        StoreUnit unit = new StoreUnit(markerLsn, markerTxid, markerCommitMs, changes);
        images.clear();
        markerLsn = -1;
        markerTxid = null;
        markerCommitMs = null;
        return List.of(unit);
    }

    @Override
    public void close() {
        images.clear();
    }

    private static Pattern longField(String name) {
        return Pattern.compile("\"" + name + "\"\\s*:\\s*(-?\\d+|null)");
    }

    /** The marker payload is a flat JSON object of longs or nulls; no JSON library needed. */
    static Long extractLong(Pattern field, String payload) throws IOException {
        Matcher m = field.matcher(payload);
        if (!m.find() || m.group(1).equals("null")) {
            return null;
        }
        try {
            return Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IOException("transaction marker field out of range in " + payload, e);
        }
    }
}
