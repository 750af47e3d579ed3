package catalogview.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.List;

import org.junit.jupiter.api.Test;

class StoreUnitSerializerTest {

    private final StoreUnitSerializer serializer = new StoreUnitSerializer();

    private StoreUnit roundTrip(StoreUnit unit) throws IOException {
        return serializer.deserialize(serializer.getVersion(), serializer.serialize(unit));
    }

    @Test
    void roundTripsAUnitWithChanges() throws IOException {
        StoreUnit unit = new StoreUnit(123456789L, 42L, 1_700_000_000_123L, List.of(
                new StoreUnit.Change("product", "1", "{\"product_id\": 1, \"name\": \"Käse ☕\"}", 1),
                new StoreUnit.Change("product", "1", "{\"product_id\": 1, \"name\": \"old\"}", -1),
                new StoreUnit.Change("product_channel", null, "{}", 2)));
        assertEquals(unit, roundTrip(unit));
    }

    @Test
    void roundTripsNullsAndAMarkerOnlyUnit() throws IOException {
        StoreUnit unit = new StoreUnit(7L, null, null, List.of());
        assertEquals(unit, roundTrip(unit));
        StoreUnit noMarker = new StoreUnit(-1L, null, null,
                List.of(new StoreUnit.Change("product", "1", "{}", 1)));
        assertEquals(noMarker, roundTrip(noMarker));
    }

    @Test
    void roundTripsPayloadsBeyondWriteUtfLimit() throws IOException {
        String big = "{\"variants\": \"" + "é".repeat(100_000) + "\"}";
        StoreUnit unit = new StoreUnit(1L, 2L, 3L, List.of(new StoreUnit.Change("product", "9", big, 1)));
        assertEquals(unit, roundTrip(unit));
    }

    @Test
    void rejectsUnknownVersion() throws IOException {
        byte[] bytes = serializer.serialize(new StoreUnit(1L, null, null, List.of()));
        assertThrows(IOException.class, () -> serializer.deserialize(99, bytes));
    }
}
