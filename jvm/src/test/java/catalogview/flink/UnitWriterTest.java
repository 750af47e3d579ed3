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

    private final FakeStaging staging = new FakeStaging(7);
    private UnitWriter writer = new UnitWriter(UnitWriter.DEFAULT_MAX_IMAGES_IN_MEMORY, staging);

    private void write(RowKind kind, String view, String key, String payload) throws IOException {
        writer.write(Row.ofKind(kind, view, key, payload), null);
    }

    private StoreUnit single() throws IOException {
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
        assertEquals(0, staging.epochsTaken, "no unit, no store round trip");
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
    void smallUnitsStayInlineAndTakeOneEpochPerWriter() throws IOException {
        write(RowKind.INSERT, "product", "1", "{\"v\":1}");
        write(RowKind.INSERT, "__watermark", "10", "{}");
        StoreUnit first = single();
        write(RowKind.INSERT, "product", "2", "{\"v\":2}");
        write(RowKind.INSERT, "__watermark", "11", "{}");
        StoreUnit second = single();
        assertEquals(List.of(7L, 7L), List.of(first.writerEpoch(), second.writerEpoch()));
        assertEquals(List.of(1L, 2L), List.of(first.unitSeq(), second.unitSeq()));
        assertEquals(List.of(0L, 0L), List.of(first.stagedRows(), second.stagedRows()));
        assertEquals(1, second.changes().size());
        assertEquals(1, staging.epochsTaken);
        assertTrue(staging.chunks.isEmpty(), "a unit within the bound is never staged");
    }

    @Test
    void spillsWhenTheBoundIsExceededAndStagesTheRestAtPrepareCommit() throws IOException {
        writer = new UnitWriter(3, staging);
        for (int i = 1; i <= 3; i++) {
            write(RowKind.INSERT, "product", "" + i, "{\"v\":" + i + "}");
        }
        assertTrue(staging.chunks.isEmpty(), "3 images are within a bound of 3");
        // netting to zero frees room: still nothing staged.
        write(RowKind.DELETE, "product", "3", "{\"v\":3}");
        write(RowKind.INSERT, "product", "3", "{\"v\":3}");
        assertTrue(staging.chunks.isEmpty());
        write(RowKind.INSERT, "product", "4", "{\"v\":4}");
        assertEquals(1, staging.chunks.size(), "the 4th image exceeds the bound");
        assertEquals(4, staging.chunks.get(0).changes().size());
        // a retraction of an image already staged goes into a later chunk, netted there.
        write(RowKind.DELETE, "product", "1", "{\"v\":1}");
        write(RowKind.INSERT, "__watermark", "20", "{\"source_txid\": 3, \"source_commit_ms\": 4}");
        StoreUnit unit = single();
        assertEquals(2, staging.chunks.size(), "the remainder is staged at prepareCommit");
        assertEquals(List.of(new StoreUnit.Change("product", "1", "{\"v\":1}", -1)),
                staging.chunks.get(1).changes());
        assertEquals(new StoreUnit(7, 1, -1, 20, 20, 3L, 4L, List.of(), 5), unit);
        for (FakeStaging.Chunk chunk : staging.chunks) {
            assertEquals(List.of(7L, 1L), List.of(chunk.writerEpoch(), chunk.unitSeq()));
        }

        // the next unit starts in memory again, under the next unit id.
        write(RowKind.INSERT, "product", "5", "{\"v\":5}");
        write(RowKind.INSERT, "__watermark", "21", "{}");
        StoreUnit next = single();
        assertEquals(2, staging.chunks.size());
        assertEquals(2L, next.unitSeq());
        assertEquals(0L, next.stagedRows());
        assertEquals(1, next.changes().size());
    }

    @Test
    void aSpilledUnitWithNothingLeftInMemoryStillCarriesItsCount() throws IOException {
        writer = new UnitWriter(1, staging);
        write(RowKind.INSERT, "product", "1", "{\"v\":1}");
        write(RowKind.INSERT, "product", "2", "{\"v\":2}");
        write(RowKind.DELETE, "product", "1", "{\"v\":1}");
        write(RowKind.DELETE, "product", "2", "{\"v\":2}");
        // staged +1 +1, then -1 -1 in memory (2 images > 1: staged too): all cancel in the store.
        StoreUnit unit = single();
        assertEquals(-1L, unit.commitLsn());
        assertEquals(4L, unit.stagedRows());
        assertTrue(unit.changes().isEmpty());
    }

    @Test
    void closeClosesTheStaging() throws IOException {
        writer.close();
        assertTrue(staging.closed);
    }

    @Test
    void rejectsANonPositiveBound() {
        assertThrows(IllegalArgumentException.class, () -> new UnitWriter(0, staging));
    }

    @Test
    void badMarkerLsnFails() {
        assertThrows(IOException.class,
                () -> write(RowKind.INSERT, "__watermark", "0/16B3748", "{}"));
    }

    @Test
    void unitsNameTheirBoundsAndTheStateIsTheLastMarkedLsn() throws IOException {
        writer = new UnitWriter(UnitWriter.DEFAULT_MAX_IMAGES_IN_MEMORY, staging, 100);
        assertEquals(List.of(100L), writer.snapshotState(1), "the restored LSN until a unit");
        write(RowKind.INSERT, "__watermark", "130", "{}");
        write(RowKind.INSERT, "product", "1", "{\"v\":1}");
        write(RowKind.INSERT, "__watermark", "120", "{}");
        StoreUnit first = single();
        assertEquals(List.of(100L, 120L, 130L),
                List.of(first.previousLsn(), first.firstLsn(), first.commitLsn()));
        assertEquals(List.of(130L), writer.snapshotState(2));
        assertTrue(writer.prepareCommit().isEmpty());
        assertEquals(List.of(130L), writer.snapshotState(3), "no unit, same bound");
        write(RowKind.INSERT, "__watermark", "140", "{}");
        StoreUnit next = single();
        assertEquals(List.of(130L, 140L, 140L),
                List.of(next.previousLsn(), next.firstLsn(), next.commitLsn()));
    }

    @Test
    void aFreshWriterStartsBeforeEverything() throws IOException {
        write(RowKind.INSERT, "__watermark", "5", "{}");
        StoreUnit unit = single();
        assertEquals(-1L, unit.previousLsn());
        assertTrue(unit.bounded());
    }

    /** Records what the writer publishes at the barrier; fails when told to. */
    private static final class RecordingPublisher implements UnitWriter.Publisher {
        final List<StoreUnit> published = new ArrayList<>();
        IOException failWith;
        boolean closed;

        @Override
        public void publish(StoreUnit unit) throws IOException {
            if (failWith != null) {
                throw failWith;
            }
            published.add(unit);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void atTheBarrierTheWriterPublishesTheUnitItselfAndHandsOverNothing() throws IOException {
        RecordingPublisher publisher = new RecordingPublisher();
        writer = new UnitWriter(UnitWriter.DEFAULT_MAX_IMAGES_IN_MEMORY, staging, 100, publisher);
        write(RowKind.INSERT, "product", "1", "{\"v\":1}");
        write(RowKind.INSERT, "__watermark", "120", "{\"source_txid\": 7}");
        assertTrue(writer.prepareCommit().isEmpty(), "no committable for Flink's committer");
        assertEquals(1, publisher.published.size());
        StoreUnit first = publisher.published.get(0);
        assertEquals(List.of(100L, 120L, 120L),
                List.of(first.previousLsn(), first.firstLsn(), first.commitLsn()));
        assertEquals(List.of(new StoreUnit.Change("product", "1", "{\"v\":1}", 1)), first.changes());
        assertEquals(List.of(120L), writer.snapshotState(1),
                "the checkpoint records the unit as marked, published or not");

        assertTrue(writer.prepareCommit().isEmpty());
        assertEquals(1, publisher.published.size(), "nothing between two barriers: no unit");
        write(RowKind.INSERT, "__watermark", "130", "{}");
        writer.prepareCommit();
        assertEquals(List.of(120L, 130L), List.of(publisher.published.get(1).previousLsn(),
                publisher.published.get(1).commitLsn()));
        writer.close();
        assertTrue(publisher.closed, "the writer closes its publisher");
    }

    @Test
    void aUnitThatCannotBePublishedFailsTheBarrier() throws IOException {
        RecordingPublisher publisher = new RecordingPublisher();
        publisher.failWith = new IOException("store down");
        writer = new UnitWriter(UnitWriter.DEFAULT_MAX_IMAGES_IN_MEMORY, staging, -1, publisher);
        write(RowKind.INSERT, "__watermark", "5", "{}");
        IOException e = assertThrows(IOException.class, writer::prepareCommit);
        assertEquals("store down", e.getMessage());
    }
}
