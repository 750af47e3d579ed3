package catalogview.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.junit.jupiter.api.Test;

class UnitWriterTest {

    private final UnitWriter writer = new UnitWriter();

    private void write(RowKind kind, String view, String key, String payload) throws IOException {
        writer.write(Row.ofKind(kind, view, key, payload), null);
    }

    private StoreUnit single() {
        Collection<StoreUnit> units = writer.prepareCommit();
        assertEquals(1, units.size());
        return units.iterator().next();
    }

    @Test
    void emptyBetweenBarriersGivesNoUnit() throws IOException {
        assertTrue(writer.prepareCommit().isEmpty());
        write(RowKind.INSERT, "product", "1", "{\"a\":1}");
        write(RowKind.DELETE, "product", "1", "{\"a\":1}");
        assertTrue(writer.prepareCommit().isEmpty(), "rows that net to zero are no unit");
    }

    @Test
    void netsImagesRegardlessOfArrivalOrder() throws IOException {
        // +U before its -U, as it arrives from two join subtasks.
        write(RowKind.UPDATE_AFTER, "product", "1", "{\"v\":2}");
        write(RowKind.INSERT, "__watermark", "200", "{\"source_txid\": 11, \"source_commit_ms\": 5000}");
        write(RowKind.UPDATE_BEFORE, "product", "1", "{\"v\":1}");
        write(RowKind.INSERT, "__watermark", "100", "{\"source_txid\": 10, \"source_commit_ms\": null}");
        // a transient image inside the unit: appears and goes.
        write(RowKind.UPDATE_BEFORE, "product", "2", "{\"v\":7}");
        write(RowKind.UPDATE_AFTER, "product", "2", "{\"v\":7}");
        StoreUnit unit = single();
        assertEquals(200L, unit.commitLsn());
        assertEquals(11L, unit.sourceTxid());
        assertEquals(5000L, unit.sourceCommitMs());
        List<StoreUnit.Change> expected = new ArrayList<>(List.of(
                new StoreUnit.Change("product", "1", "{\"v\":2}", 1),
                new StoreUnit.Change("product", "1", "{\"v\":1}", -1)));
        assertEquals(expected, unit.changes());
        assertTrue(writer.prepareCommit().isEmpty(), "the next unit starts empty");
    }

    @Test
    void markerOnlyUnitAndRetractedMarkers() throws IOException {
        write(RowKind.INSERT, "__watermark", "5", "{\"source_txid\": null, \"source_commit_ms\": null}");
        write(RowKind.UPDATE_BEFORE, "__watermark", "9", "{\"source_txid\": 1, \"source_commit_ms\": 1}");
        StoreUnit unit = single();
        assertEquals(5L, unit.commitLsn());
        assertNull(unit.sourceTxid());
        assertTrue(unit.changes().isEmpty());
    }

    @Test
    void changesWithoutMarkerAreKeptForTheCommitterToReject() throws IOException {
        write(RowKind.INSERT, "product", "1", "{\"v\":1}");
        StoreUnit unit = single();
        assertEquals(-1L, unit.commitLsn());
        assertEquals(1, unit.changes().size());
    }

    @Test
    void badMarkerLsnFails() {
        assertThrows(IOException.class,
                () -> write(RowKind.INSERT, "__watermark", "0/16B3748", "{}"));
    }
}
