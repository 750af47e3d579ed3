package catalogview.flink.assembly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;

import org.junit.jupiter.api.Test;

class AssemblyConfigTest {

    private static String config(String releasedLast) {
        return "{\"schema\": \"catalog\", \"heartbeat_table\": null, \"initial_snapshot\": true,"
                + " \"stall_report_ms\": 1000, \"dead_letter\": false, \"tables\": ["
                + "{\"name\": \"category\", \"columns\": [{\"name\": \"id\", \"kind\": \"int64\"}]},"
                + "{\"name\": \"product\", \"columns\": [{\"name\": \"id\", \"kind\": \"int64\"}]}]"
                + (releasedLast == null ? "" : ", \"released_last\": " + releasedLast) + "}";
    }

    @Test
    void namesTheTablesReleasedLastOrNone() {
        assertEquals(Set.of("product"), AssemblyConfig.parse(config("[\"product\"]")).releasedLast());
        assertEquals(Set.of(), AssemblyConfig.parse(config(null)).releasedLast(),
                "a configuration from before the setting releases in any order");
    }

    @Test
    void refusesATableItDoesNotRead() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AssemblyConfig.parse(config("[\"prodcut\"]")));
        assertTrue(e.getMessage().contains("released_last names \"prodcut\""), e.getMessage());
    }
}
