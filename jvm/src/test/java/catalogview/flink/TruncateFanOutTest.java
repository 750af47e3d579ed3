package catalogview.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

class TruncateFanOutTest {

    private static List<Row> fanOut(int parallelism, Row row) {
        List<Row> out = new ArrayList<>();
        new TruncateFanOut(parallelism, TableChangelogEntry.MAX_PARALLELISM)
                .flatMap(
                        row,
                        new Collector<>() {
                            @Override
                            public void collect(Row record) {
                                out.add(record);
                            }

                            @Override
                            public void close() {}
                        });
        return out;
    }

    @Test
    void rowChangesPassThroughUntouched() {
        Row change = Row.ofKind(RowKind.INSERT, 7L, "name", false);
        assertEquals(List.of(change), fanOut(4, change));
    }

    @Test
    void aTruncateReachesEverySubtaskOnce() {
        for (int parallelism : new int[] {1, 2, 3, 4, 8}) {
            List<Row> copies = fanOut(parallelism, Row.ofKind(RowKind.DELETE, null, null, true));
            assertEquals(parallelism, copies.size());
            boolean[] reached = new boolean[parallelism];
            for (Row copy : copies) {
                int subtask =
                        KeyGroupRangeAssignment.assignKeyToParallelOperator(
                                copy.getField(0), TableChangelogEntry.MAX_PARALLELISM, parallelism);
                reached[subtask] = true;
                assertEquals(true, copy.getField(2));
            }
            for (int i = 0; i < parallelism; i++) {
                assertEquals(true, reached[i], "subtask " + i + " of " + parallelism);
            }
        }
    }
}
