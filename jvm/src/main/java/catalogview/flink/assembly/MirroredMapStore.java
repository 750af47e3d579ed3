package catalogview.flink.assembly;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small map kept in memory in front of its state (write-through): reads never reach RocksDB.
 *
 * <p>For the assembler's counters and per-transaction receive counts, which are read on every
 * record but hold few entries (one per buffered transaction). Sound only because the assembler
 * runs under ONE constant key, so the mirror and the state always describe the same key; it is
 * loaded from state on first use, which after a restore is the restored state.
 */
final class MirroredMapStore<K, V> implements MapStore<K, V> {

    private final MapStore<K, V> state;
    private Map<K, V> mirror;

    MirroredMapStore(MapStore<K, V> state) {
        this.state = state;
    }

    private Map<K, V> mirror() throws Exception {
        if (mirror == null) {
            Map<K, V> loaded = new HashMap<>();
            for (Map.Entry<K, V> e : state.entries()) {
                loaded.put(e.getKey(), e.getValue());
            }
            mirror = loaded;
        }
        return mirror;
    }

    @Override
    public V get(K key) throws Exception {
        return mirror().get(key);
    }

    @Override
    public void put(K key, V value) throws Exception {
        mirror().put(key, value);
        state.put(key, value);
    }

    @Override
    public void remove(K key) throws Exception {
        mirror().remove(key);
        state.remove(key);
    }

    @Override
    public boolean contains(K key) throws Exception {
        return mirror().containsKey(key);
    }

    @Override
    public Iterable<K> keys() throws Exception {
        return new ArrayList<>(mirror().keySet());
    }

    /** A copy, so that callers may change the map while they go through it. */
    @Override
    public Iterable<Map.Entry<K, V>> entries() throws Exception {
        List<Map.Entry<K, V>> copy = new ArrayList<>();
        for (Map.Entry<K, V> e : mirror().entrySet()) {
            copy.add(Map.entry(e.getKey(), e.getValue()));
        }
        return copy;
    }

    @Override
    public void clear() {
        mirror = new HashMap<>();
        state.clear();
    }
}
