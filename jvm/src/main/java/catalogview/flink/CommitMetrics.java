package catalogview.flink;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The commit stage's metrics, in group {@code catalogview}: store commit latency (histogram of
 * the last 500 commits, ms, and the last one as a gauge), refused units (counter), and the
 * watermark the store was last moved to with its lag behind the source commit time.
 */
interface CommitMetrics {

    void committed(long millis, StoreUnit unit);

    void refused();

    CommitMetrics NONE = new CommitMetrics() {
        @Override
        public void committed(long millis, StoreUnit unit) {}

        @Override
        public void refused() {}
    };

    static CommitMetrics register(MetricGroup parent) {
        MetricGroup group = parent.addGroup("catalogview");
        Histogram latency = group.histogram("storeCommitLatencyMs",
                new DescriptiveStatisticsHistogram(500));
        Counter refused = group.counter("refusedUnits");
        long[] last = {-1, -1, -1};  // commit ms, watermark LSN, source commit time ms
        group.gauge("storeCommitLastMs", (Gauge<Long>) () -> last[0]);
        group.gauge("watermarkLsn", (Gauge<Long>) () -> last[1]);
        // Age of the source state the store shows: grows while nothing is committed, heartbeats
        // keep it near the checkpoint interval on a quiet catalog.
        group.gauge("watermarkLagMs",
                (Gauge<Long>) () -> last[2] < 0 ? -1 : System.currentTimeMillis() - last[2]);
        return new CommitMetrics() {
            @Override
            public void committed(long millis, StoreUnit unit) {
                latency.update(millis);
                last[0] = millis;
                last[1] = unit.commitLsn();
                if (unit.sourceCommitMs() != null) {
                    last[2] = unit.sourceCommitMs();
                }
            }

            @Override
            public void refused() {
                refused.inc();
            }
        };
    }
}
