package catalogview.flink.assembly;

import java.io.Serializable;
import java.math.BigDecimal;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.typeinfo.BasicTypeInfo;
import org.apache.flink.api.common.typeinfo.SqlTimeTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;

/**
 * A source table's columns as the views read them (from its DDL in sql/sources, passed in by
 * the Python job), and the conversion of Debezium JSON images into Flink rows.
 *
 * <p>Rows leave with one extra, last field for the table's entry ({@code TableChangelogEntry}):
 * false for a row change, true for a TRUNCATE of the table.
 */
public record TableSpec(String name, List<Column> columns) implements Serializable {

    public static final String TRUNCATE_FIELD = "__truncate";

    /** kind: BIGINT, INT, SMALLINT, STRING, BOOLEAN, DECIMAL, DATE. */
    public record Column(String name, String kind) implements Serializable {}

    public TableSpec {
        columns = List.copyOf(columns);
    }

    /** The type of the rows handed to the table's entry: the columns, then the truncate flag. */
    public RowTypeInfo markedType() {
        TypeInformation<?>[] types = new TypeInformation<?>[columns.size() + 1];
        String[] names = new String[columns.size() + 1];
        for (int i = 0; i < columns.size(); i++) {
            names[i] = columns.get(i).name();
            types[i] = typeOf(columns.get(i).kind());
        }
        names[columns.size()] = TRUNCATE_FIELD;
        types[columns.size()] = BasicTypeInfo.BOOLEAN_TYPE_INFO;
        return new RowTypeInfo(types, names);
    }

    private static TypeInformation<?> typeOf(String kind) {
        return switch (kind) {
            case "BIGINT" -> BasicTypeInfo.LONG_TYPE_INFO;
            case "INT" -> BasicTypeInfo.INT_TYPE_INFO;
            case "SMALLINT" -> BasicTypeInfo.SHORT_TYPE_INFO;
            case "STRING" -> BasicTypeInfo.STRING_TYPE_INFO;
            case "BOOLEAN" -> BasicTypeInfo.BOOLEAN_TYPE_INFO;
            case "DECIMAL" -> BasicTypeInfo.BIG_DEC_TYPE_INFO;
            case "DATE" -> SqlTimeTypeInfo.DATE;
            default -> throw new IllegalArgumentException("column type " + kind + " is not supported");
        };
    }

    /** The rows of one change: +I, -U/+U, -D with whole images, or the TRUNCATE marker. */
    public List<Row> rows(String op, JsonNode before, JsonNode after) throws AssemblyError {
        List<Row> rows = new ArrayList<>(2);
        switch (op) {
            case "c", "r" -> rows.add(row(RowKind.INSERT, after));
            case "u" -> {
                rows.add(row(RowKind.UPDATE_BEFORE, before));
                rows.add(row(RowKind.UPDATE_AFTER, after));
            }
            case "d" -> rows.add(row(RowKind.DELETE, before));
            case "t" -> {
                Row truncate = new Row(RowKind.DELETE, columns.size() + 1);
                truncate.setField(columns.size(), true);
                rows.add(truncate);
            }
            default -> throw new AssemblyError(name + ": operation '" + op + "' is not supported");
        }
        return rows;
    }

    private Row row(RowKind kind, JsonNode image) throws AssemblyError {
        List<String> missing = new ArrayList<>();
        for (Column c : columns) {
            if (!image.has(c.name())) {
                missing.add(c.name());
            }
        }
        if (!missing.isEmpty()) {
            throw new AssemblyError(name + ": event lacks column(s) " + String.join(", ", missing)
                    + " that the views read (dropped or renamed in the source? see "
                    + "docs/operations.md, 'Schema changes')");
        }
        Row row = new Row(kind, columns.size() + 1);
        for (int i = 0; i < columns.size(); i++) {
            Column c = columns.get(i);
            row.setField(i, convert(c.kind(), image.get(c.name()), name + "." + c.name()));
        }
        row.setField(columns.size(), false);
        return row;
    }

    /** A Debezium JSON value to the Java value Flink expects for a column kind. */
    static Object convert(String kind, JsonNode value, String where) throws AssemblyError {
        if (value == null || value.isNull()) {
            return null;
        }
        switch (kind) {
            case "BIGINT", "INT", "SMALLINT", "DATE" -> {
                if (!value.isIntegralNumber()) {
                    String expected = kind.equals("DATE") ? "days since epoch" : "an integer";
                    throw new AssemblyError(where + ": expected " + expected + ", got " + value);
                }
                long n = value.asLong();
                if (kind.equals("INT") && n != (int) n || kind.equals("SMALLINT") && n != (short) n) {
                    throw new AssemblyError(where + ": " + value + " is out of range for " + kind);
                }
                return switch (kind) {
                    case "BIGINT" -> n;
                    case "INT" -> (int) n;
                    case "SMALLINT" -> (short) n;
                    default -> Date.valueOf(LocalDate.ofEpochDay(n)); // io.debezium.time.Date
                };
            }
            case "STRING" -> {
                if (!value.isTextual()) {
                    throw new AssemblyError(where + ": expected a string, got " + value);
                }
                return value.asText();
            }
            case "BOOLEAN" -> {
                if (!value.isBoolean()) {
                    throw new AssemblyError(where + ": expected a boolean, got " + value);
                }
                return value.asBoolean();
            }
            case "DECIMAL" -> { // decimal.handling.mode=string (numbers accepted too)
                try {
                    return new BigDecimal(value.isNumber() ? value.numberValue().toString() : value.asText());
                } catch (NumberFormatException e) {
                    throw new AssemblyError(where + ": expected a decimal, got " + value);
                }
            }
            default -> throw new AssemblyError(where + ": column type " + kind + " is not supported");
        }
    }
}
