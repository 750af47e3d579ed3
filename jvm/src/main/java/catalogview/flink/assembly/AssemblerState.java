package catalogview.flink.assembly;

/**
 * The assembler's state as named maps: Flink keyed MapState in the job (RocksDB, so buffered
 * transactions of any size spill to disk and survive restarts), HashMaps in unit tests.
 *
 * <ul>
 *   <li>events: "txid/total_order" -> origin and record value (buffered change events);
 *   <li>received: txid -> distinct events buffered;
 *   <li>ends: queue position -> END record value; meta holds head and tail positions;
 *   <li>queued: txid -> queue position (drops duplicate ENDs);
 *   <li>released: txid -> release sequence; releasedRing: sequence -> txid (a bounded window);
 *   <li>snapshot: "run/table/key JSON" -> origin and record value (initial snapshot rows);
 *   <li>snapshotCounts: "run/table" -> distinct rows of that run;
 *   <li>snapshotExpected: "schema.table" -> rows the latest run scanned;
 *   <li>meta: counters and flags.
 * </ul>
 */
public record AssemblerState(
        MapStore<String, String> events,
        MapStore<Long, Long> received,
        MapStore<Long, String> ends,
        MapStore<Long, Long> queued,
        MapStore<Long, Long> released,
        MapStore<Long, Long> releasedRing,
        MapStore<String, String> snapshot,
        MapStore<String, Long> snapshotCounts,
        MapStore<String, Long> snapshotExpected,
        MapStore<String, Long> meta) {

    long counter(String name) throws Exception {
        Long value = meta.get(name);
        return value == null ? 0 : value;
    }

    void setCounter(String name, long value) throws Exception {
        meta.put(name, value);
    }
}
