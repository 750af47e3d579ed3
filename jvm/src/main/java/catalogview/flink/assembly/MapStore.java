package catalogview.flink.assembly;

import java.util.Map;

/** The subset of Flink's MapState the assembler uses (HashMap-backed in unit tests). */
public interface MapStore<K, V> {
    V get(K key) throws Exception;

    void put(K key, V value) throws Exception;

    void remove(K key) throws Exception;

    boolean contains(K key) throws Exception;

    Iterable<Map.Entry<K, V>> entries() throws Exception;

    /** The keys alone (RocksDB then reads no value). */
    Iterable<K> keys() throws Exception;

    void clear();
}
