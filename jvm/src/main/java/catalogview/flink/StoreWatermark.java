package catalogview.flink;

import static catalogview.flink.StoreConnections.quote;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Reads the commit LSN the store's watermark names, for the assembler's cut at a restore (see
 * {@code assembly.RestoreCut}). Holds the store's address, not a connection: it travels with the
 * job graph.
 */
public final class StoreWatermark implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final String schema;

    public StoreWatermark(String jdbcUrl, String user, String password, String schema) {
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.schema = schema;
    }

    /** The stored commit LSN, -1 when the store has no watermark yet. */
    public long read() throws SQLException {
        try (Connection c = StoreConnections.open(jdbcUrl, user, password,
                "catalog-view assembler");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT commit_lsn FROM " + quote(schema)
                        + ".watermark WHERE id = 1")) {
            long lsn = rs.next() ? rs.getLong(1) : -1L;
            c.rollback();
            return lsn;
        }
    }

    @Override
    public String toString() {
        int q = jdbcUrl.indexOf('?');
        return "StoreWatermark{" + (q < 0 ? jdbcUrl : jdbcUrl.substring(0, q)) + ", schema="
                + schema + "}";
    }
}
