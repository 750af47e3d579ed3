package catalogview.flink;

import static catalogview.flink.StoreConnections.quote;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A view's store table and the SQL that writes it: set-based statements that read the netted
 * unit from {@link #NET_TABLE} (parameter: the view name), and per-row statements (parameter:
 * one payload) that only serve to find the row a failing set-based statement tripped on.
 */
record TableShape(String deleteNetSql, String upsertNetSql, String deleteRowSql, String upsertRowSql) {

    /** The unit's netted images, a temporary table of the commit transaction. */
    static final String NET_TABLE = "pg_temp.unit_net";
    /** Condition on n.net of the images a view's delete and upsert write. */
    static final String DELETED_IMAGES = "< 0 AND n.key_images = 1";
    static final String UPSERTED_IMAGES = "> 0";

    /**
     * Reads a view's columns and primary key from the catalog. The sample payload is checked
     * against the columns: jsonb_populate_record would silently turn a misspelt key into NULL.
     */
    static TableShape read(Connection c, String schema, String view, String samplePayload)
            throws SQLException, IOException {
        String table = quote(schema) + "." + quote(view);
        List<String> columns = new ArrayList<>();
        List<String> key = new ArrayList<>();
        List<String> keyTypes = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT a.attname, COALESCE(a.attnum = ANY(i.indkey), false),"
                        + " format_type(a.atttypid, a.atttypmod)"
                        + " FROM pg_attribute a"
                        + " LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary"
                        + " WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped"
                        + " ORDER BY a.attnum")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                    if (rs.getBoolean(2)) {
                        key.add(rs.getString(1));
                        keyTypes.add(rs.getString(3));
                    }
                }
            }
        }
        if (columns.isEmpty()) {
            throw new IOException("view '" + view + "' has no store table " + schema + "." + view
                    + " (create it from sql/store/, or fix the view_name the job emits)");
        }
        if (key.isEmpty()) {
            throw new IOException("store table " + schema + "." + view + " has no primary key");
        }
        checkPayloadKeys(c, schema, view, new LinkedHashSet<>(columns), samplePayload);

        StringBuilder match = new StringBuilder();
        StringBuilder keyColumns = new StringBuilder();
        StringBuilder keyColumnTypes = new StringBuilder();
        for (int i = 0; i < key.size(); i++) {
            String k = quote(key.get(i));
            String sep = i == 0 ? "" : ", ";
            match.append(i == 0 ? "" : " AND ").append("t.").append(k).append(" = r.").append(k);
            keyColumns.append(sep).append("r.").append(k);
            keyColumnTypes.append(sep).append(k).append(' ').append(keyTypes.get(i));
        }
        StringBuilder set = new StringBuilder();
        for (String col : columns) {
            if (!key.contains(col)) {
                set.append(set.length() == 0 ? "" : ", ")
                        .append(quote(col)).append(" = EXCLUDED.").append(quote(col));
            }
        }
        String conflictKey = String.join(", ", key.stream().map(StoreConnections::quote).toList());
        String onConflict = " ON CONFLICT (" + conflictKey + ") "
                + (set.length() == 0 ? "DO NOTHING" : "DO UPDATE SET " + set);

        // Only keys that no image of the unit arrives at: row_key names the primary key
        // (sql/sinks), so the upsert of the arriving image replaces the leaving one.
        String deleteNet = "DELETE FROM " + table + " t USING (SELECT " + keyColumns
                + fromNetImages(keyRecord("n.payload", keyColumnTypes)) + DELETED_IMAGES + ") r WHERE "
                + match;
        String upsertNet = "INSERT INTO " + table + " SELECT r.*"
                + fromNetImages(wholeRecord("n.payload", table)) + UPSERTED_IMAGES + onConflict;

        String deleteRow = "DELETE FROM " + table + " t USING " + keyRecord("?", keyColumnTypes)
                + " WHERE " + match;
        String upsertRow = "INSERT INTO " + table + " SELECT r.* FROM " + wholeRecord("?", table)
                + onConflict;
        return new TableShape(deleteNet, upsertNet, deleteRow, upsertRow);
    }

    /*
     * json, not jsonb: the payload is parsed once, straight into the record (jsonb would build
     * a tree first). LATERAL, not (json_populate_record(...)).*: that form calls the function
     * once per column. A delete reads only the key columns.
     */

    private static String fromNetImages(String lateralRecord) {
        return " FROM " + NET_TABLE + " n CROSS JOIN LATERAL " + lateralRecord
                + " WHERE n.view_name = ? AND n.net ";
    }

    private static String wholeRecord(String payload, String table) {
        return "json_populate_record(NULL::" + table + ", " + payload + "::json) r";
    }

    private static String keyRecord(String payload, CharSequence keyColumnsWithTypes) {
        return "json_to_record(" + payload + "::json) AS r(" + keyColumnsWithTypes + ")";
    }

    private static void checkPayloadKeys(Connection c, String schema, String view,
            Set<String> columns, String payload) throws SQLException, IOException {
        Set<String> keys = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT jsonb_object_keys(?::jsonb)")) {
            ps.setString(1, payload);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getString(1));
                }
            }
        }
        Set<String> missing = new TreeSet<>(columns);
        missing.removeAll(keys);
        Set<String> unknown = new TreeSet<>(keys);
        unknown.removeAll(columns);
        if (!missing.isEmpty() || !unknown.isEmpty()) {
            throw new IOException("payload keys of view '" + view + "' do not match the columns of "
                    + schema + "." + view + ": missing " + missing + ", unknown " + unknown);
        }
    }
}
