package catalogview.flink.assembly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

class AssemblyConfigTest {

    private static String config(String releasePasses) {
        return "{\"schema\": \"catalog\", \"heartbeat_table\": null, \"initial_snapshot\": true,"
                + " \"stall_report_ms\": 1000, \"dead_letter\": false, \"tables\": ["
                + "{\"name\": \"category\", \"columns\": [{\"name\": \"id\", \"kind\": \"int64\"}]},"
                + "{\"name\": \"product\", \"columns\": [{\"name\": \"id\", \"kind\": \"int64\"}]},"
                + "{\"name\": \"variant\", \"columns\": [{\"name\": \"id\", \"kind\": \"int64\"}]}]"
                + (releasePasses == null ? "" : ", \"release_passes\": " + releasePasses) + "}";
    }

    @Test
    void namesTheLaterPassesInTheirOrderOrNone() {
        assertEquals(List.of(Set.of("variant"), Set.of("product")),
                AssemblyConfig.parse(config("[[\"variant\"], [\"product\"]]")).laterPasses());
        assertEquals(List.of(), AssemblyConfig.parse(config(null)).laterPasses(),
                "a configuration without the setting releases every table in one pass");
    }

    @Test
    void refusesATableItDoesNotRead() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AssemblyConfig.parse(config("[[\"prodcut\"]]")));
        assertTrue(e.getMessage().contains("release_passes names \"prodcut\", which is not one"
                + " of the tables"), e.getMessage());
    }

    @Test
    void refusesATableInTwoPasses() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AssemblyConfig.parse(config("[[\"product\"], [\"variant\", \"product\"]]")));
        assertTrue(e.getMessage().contains("release_passes names \"product\" in two passes"),
                e.getMessage());
    }
}
