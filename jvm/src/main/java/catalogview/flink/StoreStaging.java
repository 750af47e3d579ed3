package catalogview.flink;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Iterator;

/**
 * The writer's staging in the store's unit_staging table, on the writer's own connection,
 * opened on first use and kept between chunks.
 */
final class StoreStaging implements UnitStaging {

    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final String schema;

    private Connection conn;

    StoreStaging(String jdbcUrl, String user, String password, String schema) {
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.schema = schema;
    }

    @Override
    public long newEpoch() throws IOException {
        try {
            Connection c = connection();
            try (PreparedStatement ps = c.prepareStatement("SELECT nextval(?::regclass)")) {
                ps.setString(1, StoreConnections.quote(schema) + ".unit_staging_epoch");
                long epoch;
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    epoch = rs.getLong(1);
                }
                c.commit();
                return epoch;
            }
        } catch (SQLException e) {
            fail();
            throw new IOException("could not take a writer epoch from " + schema
                    + ".unit_staging_epoch (is sql/store/ applied?): " + e.getMessage(), e);
        }
    }

    @Override
    public void stage(long writerEpoch, long unitSeq, Iterator<StoreUnit.Change> chunk)
            throws IOException {
        try {
            Connection c = connection();
            StagingCopy.copy(c, schema, writerEpoch, unitSeq, chunk);
            c.commit();
        } catch (SQLException e) {
            fail();
            throw new IOException("could not stage a chunk of unit " + writerEpoch + "/" + unitSeq
                    + " in " + schema + "." + StagingCopy.TABLE + ": " + e.getMessage(), e);
        }
    }

    private Connection connection() throws SQLException {
        if (conn != null && !conn.isValid(5)) {
            // idle since the last chunk, and dropped meanwhile (store restart, idle timeout)
            fail();
        }
        if (conn == null) {
            conn = StoreConnections.open(jdbcUrl, user, password, "catalog-view commit sink writer");
        }
        return conn;
    }

    /** After an error the writer fails; a new writer instance opens a new connection. */
    private void fail() {
        try {
            close();
        } catch (IOException ignored) {
            // the error that got us here is the one to report
        }
    }

    @Override
    public void close() throws IOException {
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException e) {
                throw new IOException("closing the writer's store connection: " + e.getMessage(), e);
            } finally {
                conn = null;
            }
        }
    }
}
