package catalogview.flink.assembly;

/**
 * Makes a checkpoint barrier fall exactly at the store's watermark when the job restarts from a
 * point older than the store (a savepoint, an older retained checkpoint).
 *
 * <p>The commit stage can only skip a unit whose transactions the store holds already, or apply
 * one whose transactions all lie above the store's watermark W: a netted unit that straddles W
 * cannot be applied in part (docs/restore.md). Barriers fall wherever the checkpoint timer puts
 * them, so on a replay they would cut units anywhere. This is the one place that orders
 * transactions (parallelism 1), so it cuts: it lets every transaction at or below W pass; at the
 * first transaction above W, if anything passed since the last barrier, it holds that
 * transaction and everything after it until the next barrier has left the operator. The unit
 * before that barrier then ends at or below W (skipped), the next one starts above W (applied).
 *
 * <p>Pure decision logic: the operator keeps what is held in its state and emits it.
 */
final class RestoreCut {

    /** The store's watermark the cut is at; -1 once cut, or when there is nothing to cut. */
    private long cutAbove;
    private boolean passedSinceBarrier;
    private boolean holding;
    private boolean barrierWhileHolding;

    /** @param storedLsn the store's watermark at the operator's start, -1 if none */
    RestoreCut(long storedLsn) {
        this.cutAbove = storedLsn;
    }

    /** Whether an output of the transaction committed at commitLsn may pass now (else: hold). */
    boolean admit(long commitLsn) {
        if (holding) {
            return false;
        }
        if (cutAbove >= 0 && commitLsn > cutAbove) {
            cutAbove = -1;
            if (passedSinceBarrier) {
                holding = true;
                return false;
            }
        }
        passedSinceBarrier = true;
        return true;
    }

    /** The operator's state is being snapshotted: the barrier has been sent downstream. */
    void barrierSent() {
        passedSinceBarrier = false;
        if (holding) {
            barrierWhileHolding = true;
        }
    }

    boolean holding() {
        return holding;
    }

    /** Whether what is held may go now: a barrier has separated it from what passed. */
    boolean releaseDue() {
        return holding && barrierWhileHolding;
    }

    /** The held outputs are being released: they and what follows pass. */
    void released() {
        holding = false;
        barrierWhileHolding = false;
    }

    /** The watermark still to cut at, -1 if none. */
    long cutAbove() {
        return cutAbove;
    }
}
