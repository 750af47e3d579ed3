package catalogview.flink.assembly;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonProcessingException;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;

/**
 * What the Python job tells the assembler, as one JSON document: the source schema, the tables
 * the views read with their columns (from sql/sources), the heartbeat table, and the policies.
 */
public record AssemblyConfig(String schema, String heartbeatTable, boolean initialSnapshot,
        long stallReportMs, boolean deadLetter, Map<String, TableSpec> tables,
        List<Set<String>> laterPasses) implements Serializable {

    public TableSpec table(String name) {
        return tables.get(name);
    }

    /**
     * {"schema": s, "heartbeat_table": t|null, "initial_snapshot": b, "stall_report_ms": n,
     * "dead_letter": b, "tables": [{"name": t, "columns": [{"name": c, "kind": k}, ...]}, ...],
     * "release_passes": [[t, ...], ...]}; release_passes is optional: the tables whose rows
     * are released in a later pass than every table not named, pass by pass in the order
     * given (see {@link TransactionAssembler}).
     */
    public static AssemblyConfig parse(String json) {
        try {
            JsonNode root = DebeziumRecord.JSON.readTree(json);
            Map<String, TableSpec> tables = new LinkedHashMap<>();
            for (JsonNode t : root.get("tables")) {
                List<TableSpec.Column> columns = new ArrayList<>();
                for (JsonNode c : t.get("columns")) {
                    columns.add(new TableSpec.Column(c.get("name").asText(), c.get("kind").asText()));
                }
                tables.put(t.get("name").asText(), new TableSpec(t.get("name").asText(), columns));
            }
            JsonNode heartbeat = root.get("heartbeat_table");
            List<Set<String>> passes = new ArrayList<>();
            Set<String> named = new LinkedHashSet<>();
            JsonNode passesNode = root.get("release_passes");
            if (passesNode != null && !passesNode.isNull()) {
                for (JsonNode pass : passesNode) {
                    Set<String> members = new LinkedHashSet<>();
                    for (JsonNode t : pass) {
                        if (!tables.containsKey(t.asText())) {
                            throw new IllegalArgumentException("assembler configuration:"
                                    + " release_passes names " + t
                                    + ", which is not one of the tables " + tables.keySet());
                        }
                        if (!named.add(t.asText())) {
                            throw new IllegalArgumentException("assembler configuration:"
                                    + " release_passes names " + t + " in two passes");
                        }
                        members.add(t.asText());
                    }
                    passes.add(Set.copyOf(members));
                }
            }
            return new AssemblyConfig(root.get("schema").asText(),
                    heartbeat == null || heartbeat.isNull() ? null : heartbeat.asText(),
                    root.get("initial_snapshot").asBoolean(), root.get("stall_report_ms").asLong(),
                    root.get("dead_letter").asBoolean(), tables, List.copyOf(passes));
        } catch (JsonProcessingException | NullPointerException e) {
            throw new IllegalArgumentException("assembler configuration is not valid: " + json, e);
        }
    }
}
