package catalogview.flink;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/**
 * A fresh store schema built from sql/store/*.sql in the database named by
 * CATALOG_VIEW_TEST_JDBC_URL (user/password in the URL or CATALOG_VIEW_TEST_USER / _PASSWORD);
 * tests using it are skipped without that variable.
 */
final class TestStore implements AutoCloseable {

    static final String URL = System.getenv("CATALOG_VIEW_TEST_JDBC_URL");
    static final String USER = System.getenv("CATALOG_VIEW_TEST_USER");
    static final String PASSWORD = System.getenv("CATALOG_VIEW_TEST_PASSWORD");

    final String schema;
    final Connection admin;

    private TestStore(String schema, Connection admin) {
        this.schema = schema;
        this.admin = admin;
    }

    /** Skips the calling test when no database is configured. */
    static TestStore create() throws SQLException, IOException {
        Assumptions.assumeTrue(URL != null && !URL.isBlank(),
                "CATALOG_VIEW_TEST_JDBC_URL not set: no store to test against");
        String schema = "cv_test_" + Long.toHexString(System.nanoTime());
        Connection admin = DriverManager.getConnection(URL, USER, PASSWORD);
        List<Path> files;
        try (Stream<Path> listing = Files.list(Path.of("..", "sql", "store"))) {
            files = listing.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
        }
        try (Statement st = admin.createStatement()) {
            st.execute("CREATE SCHEMA " + schema);
            st.execute("SET search_path TO " + schema);
            for (Path file : files) {
                st.execute(Files.readString(file));
            }
            st.execute("RESET search_path");
        }
        return new TestStore(schema, admin);
    }

    StoreCommitter committer() {
        return new StoreCommitter(URL, USER, PASSWORD, schema);
    }

    StoreStaging staging() {
        return new StoreStaging(URL, USER, PASSWORD, schema);
    }

    void execute(String sql) throws SQLException {
        try (Statement st = admin.createStatement()) {
            st.execute(sql);
        }
    }

    long count(String sqlFromWhere) throws SQLException {
        try (Statement st = admin.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM " + sqlFromWhere)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    long stagedRows() throws SQLException {
        return count(schema + ".unit_staging");
    }

    @Override
    public void close() throws SQLException {
        try (Statement st = admin.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
        admin.close();
    }
}
