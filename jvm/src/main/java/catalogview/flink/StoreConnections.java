package catalogview.flink;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/** Opens connections to the store for the sink's writer and committer. */
final class StoreConnections {

    private StoreConnections() {}

    /** A connection with autocommit off. */
    static Connection open(String jdbcUrl, String user, String password, String applicationName)
            throws SQLException {
        Properties props = new Properties();
        if (user != null) {
            props.setProperty("user", user);
        }
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("ApplicationName", applicationName);
        // The driver directly, not DriverManager: DriverManager only sees drivers of the
        // system class loader, and the driver jar comes in through pipeline.jars.
        Connection c = new org.postgresql.Driver().connect(jdbcUrl, props);
        if (c == null) {
            throw new SQLException("not a PostgreSQL JDBC URL: " + jdbcUrl);
        }
        c.setAutoCommit(false);
        return c;
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }
}
