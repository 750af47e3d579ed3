package catalogview.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.apache.flink.core.memory.DataOutputSerializer;

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
    void roundTripsAStagedUnit() throws IOException {
        StoreUnit unit = new StoreUnit(12L, 34L, 900L, 950L, 999L, 5L, 6L, List.of(), 1_000_000L);
        assertEquals(unit, roundTrip(unit));
        StoreUnit inline = new StoreUnit(12L, 35L, -1L, 1000L, 1000L, null, 7L,
                List.of(new StoreUnit.Change("product", "1", "{}", -1)), 0L);
        assertEquals(inline, roundTrip(inline));
    }

    @Test
    void readsVersionOneAsAnInlineUnitWithoutEpoch() throws IOException {
        StoreUnit unit = new StoreUnit(123L, 42L, null, List.of(
                new StoreUnit.Change("product", "1", "{\"name\": \"Käse\"}", 1),
                new StoreUnit.Change("product_channel", null, "{}", -1)));
        // version 1's layout: lsn, txid, commit ms, changes.
        DataOutputSerializer out = new DataOutputSerializer(64);
        out.writeLong(123L);
        out.writeBoolean(true);
        out.writeLong(42L);
        out.writeBoolean(false);
        out.writeInt(2);
        for (StoreUnit.Change c : unit.changes()) {
            for (String s : new String[] {c.view(), c.rowKey(), c.payload()}) {
                if (s == null) {
                    out.writeInt(-1);
                } else {
                    byte[] b = s.getBytes(StandardCharsets.UTF_8);
                    out.writeInt(b.length);
                    out.write(b);
                }
            }
            out.writeInt(c.count());
        }
        StoreUnit read = serializer.deserialize(1, out.getCopyOfBuffer());
        assertEquals(unit, read);
        assertEquals(StoreUnit.LEGACY_EPOCH, read.writerEpoch());
        assertEquals(0L, read.stagedRows());
    }

    @Test
    void rejectsUnknownVersion() throws IOException {
        byte[] bytes = serializer.serialize(new StoreUnit(1L, null, null, List.of()));
        assertThrows(IOException.class, () -> serializer.deserialize(99, bytes));
    }
}
