package catalogview.flink.assembly;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonProcessingException;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Decoded Debezium records (JSON converter, with or without {@code schemas.enable}): row
 * changes, transaction ENDs and initial-snapshot notifications.
 *
 * <p>What matters: data events carry {@code source.table}, {@code source.txId}, {@code
 * source.lsn} and, while streaming, a {@code transaction} block with {@code total_order}; END
 * carries per-collection counts (a transactional logical message is counted there too, under a
 * name that is no table); snapshot reads (op r) carry no transaction block; TRUNCATE (op t)
 * carries no images; logical messages (op m), heartbeats and tombstones change nothing.
 */
public sealed interface DebeziumRecord {

    /** What Debezium puts in a column it could not read (REPLICA IDENTITY too weak). */
    String UNAVAILABLE_VALUE = "__debezium_unavailable_value";

    /** The notification aggregate of the initial snapshot; incremental ones are refused. */
    String INITIAL_SNAPSHOT = "Initial Snapshot";

    /** One row-level change; images are JSON objects (null where the op has none). */
    record RowChange(String table, String op, JsonNode before, JsonNode after, Long txid,
            Long lsn, String snapshot, Long commitTsMs, Long totalOrder) implements DebeziumRecord {}

    /** END of a source transaction: its commit LSN and per-collection event counts. */
    record TransactionEnd(long txid, long lsn, long eventCount, Map<String, Long> tableCounts,
            Long tsMs) implements DebeziumRecord {}

    /** A notification about the initial snapshot (STARTED, TABLE_SCAN_COMPLETED, ...). */
    record SnapshotNote(String kind, String table, Long rows) implements DebeziumRecord {}

    ObjectMapper JSON = new ObjectMapper();

    /** Decodes one record value; null for records that change no table. */
    static DebeziumRecord decode(String value) throws AssemblyError {
        if (value == null) {
            return null;
        }
        JsonNode event;
        try {
            event = JSON.readTree(value);
        } catch (JsonProcessingException e) {
            throw new AssemblyError("not JSON: " + e.getOriginalMessage());
        }
        if (event == null || !event.isObject()) {
            throw new AssemblyError("expected a JSON object, got " + kindOf(event));
        }
        if (event.size() == 2 && event.has("schema") && event.has("payload")) {
            // JsonConverter with schemas.enable=true wraps every value.
            event = event.get("payload");
            if (event.isNull()) {
                return null;
            }
            if (!event.isObject()) {
                throw new AssemblyError("expected a JSON object as payload, got " + kindOf(event));
            }
        }
        if (event.has("status") && event.has("id")) {
            return marker(event);
        }
        if (event.has("aggregate_type") && event.has("type")) {
            return notification(event);
        }
        JsonNode op = event.get("op");
        if (op == null || "m".equals(op.asText())) {
            return null; // a heartbeat, or a logical message: no table changes
        }
        return rowChange(event, op.asText());
    }

    private static String kindOf(JsonNode node) {
        return node == null ? "nothing" : node.getNodeType().toString().toLowerCase();
    }

    private static DebeziumRecord marker(JsonNode event) throws AssemblyError {
        String status = event.get("status").asText();
        if (!status.equals("BEGIN") && !status.equals("END")) {
            throw new AssemblyError("transaction status '" + status + "' is neither BEGIN nor END");
        }
        if (status.equals("BEGIN")) {
            return null; // END says all there is to know
        }
        long[] id = parseTransactionId(event.get("id").asText());
        Map<String, Long> counts = new LinkedHashMap<>();
        JsonNode collections = event.get("data_collections");
        if (collections != null && collections.isArray()) {
            for (JsonNode c : collections) {
                counts.put(c.get("data_collection").asText(), c.get("event_count").asLong());
            }
        }
        JsonNode count = event.get("event_count");
        return new TransactionEnd(id[0], id[1], count == null || count.isNull() ? 0 : count.asLong(),
                counts, longOrNull(event.get("ts_ms")));
    }

    /** Debezium's Postgres transaction id "txid:lsn". */
    static long[] parseTransactionId(String value) throws AssemblyError {
        int colon = value.indexOf(':');
        try {
            if (colon < 0) {
                throw new NumberFormatException();
            }
            return new long[] {Long.parseLong(value.substring(0, colon)),
                Long.parseLong(value.substring(colon + 1))};
        } catch (NumberFormatException e) {
            throw new AssemblyError("transaction id '" + value + "' is not '<txid>:<lsn>'");
        }
    }

    private static DebeziumRecord notification(JsonNode event) throws AssemblyError {
        String aggregate = event.get("aggregate_type").asText();
        if (!aggregate.equals(INITIAL_SNAPSHOT)) {
            if (aggregate.toLowerCase().contains("snapshot")) {
                throw new AssemblyError(aggregate + " notifications are not supported: only the "
                        + "initial snapshot can be applied as one atomic epoch");
            }
            return null;
        }
        String kind = event.get("type").asText();
        if (!kind.equals("TABLE_SCAN_COMPLETED")) {
            return new SnapshotNote(kind, null, null);
        }
        JsonNode data = event.path("additional_data");
        String status = data.path("status").asText("SUCCEEDED");
        if (!status.equals("SUCCEEDED")) {
            throw new AssemblyError("initial snapshot of " + data.path("scanned_collection").asText()
                    + " ended with status '" + status + "'");
        }
        JsonNode table = data.get("scanned_collection");
        JsonNode rows = data.get("total_rows_scanned");
        try {
            if (table == null || rows == null) {
                throw new NumberFormatException();
            }
            return new SnapshotNote(kind, table.asText(), Long.parseLong(rows.asText()));
        } catch (NumberFormatException e) {
            throw new AssemblyError("TABLE_SCAN_COMPLETED without a table and row count: " + data);
        }
    }

    private static RowChange rowChange(JsonNode event, String op) throws AssemblyError {
        JsonNode source = event.path("source");
        String table = source.path("table").asText("");
        if (table.isEmpty()) {
            throw new AssemblyError("change event without source.table");
        }
        if (!"cudrt".contains(op) || op.length() != 1) {
            throw new AssemblyError(table + ": operation '" + op + "' is not supported");
        }
        JsonNode before = objectOrNull(event.get("before"));
        JsonNode after = objectOrNull(event.get("after"));
        if ("cur".contains(op) && after == null) {
            throw new AssemblyError(table + ": op " + op + " without an after image");
        }
        if ("ud".contains(op) && before == null) {
            throw new AssemblyError(table + ": op " + op
                    + " without a before image: the table needs REPLICA IDENTITY FULL");
        }
        for (JsonNode image : new JsonNode[] {before, after}) {
            checkAvailable(table, image);
        }
        JsonNode snapshot = source.get("snapshot");
        return new RowChange(table, op, before, after, longOrNull(source.get("txId")),
                longOrNull(source.get("lsn")),
                snapshot == null || snapshot.isNull() ? "false" : snapshot.asText(),
                longOrNull(source.get("ts_ms")),
                longOrNull(event.path("transaction").get("total_order")));
    }

    private static void checkAvailable(String table, JsonNode image) throws AssemblyError {
        if (image == null) {
            return;
        }
        StringBuilder missing = new StringBuilder();
        for (Map.Entry<String, JsonNode> field : image.properties()) {
            if (UNAVAILABLE_VALUE.equals(field.getValue().asText(null))) {
                missing.append(missing.length() == 0 ? "" : ", ").append(field.getKey());
            }
        }
        if (missing.length() > 0) {
            throw new AssemblyError(table + ": column(s) " + missing + " unavailable (unchanged "
                    + "TOAST value without REPLICA IDENTITY FULL)");
        }
    }

    private static JsonNode objectOrNull(JsonNode node) {
        return node == null || node.isNull() ? null : node;
    }

    private static Long longOrNull(JsonNode node) {
        return node == null || node.isNull() ? null : node.asLong();
    }
}
