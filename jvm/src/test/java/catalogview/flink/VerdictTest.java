package catalogview.flink;

import static catalogview.flink.StoreCommitter.Verdict.APPLY;
import static catalogview.flink.StoreCommitter.Verdict.REFUSE_GAP;
import static catalogview.flink.StoreCommitter.Verdict.REFUSE_STRADDLES;
import static catalogview.flink.StoreCommitter.Verdict.SKIP;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The rule of docs/restore.md: which unit may be applied to a store at a given watermark. */
class VerdictTest {

    /** A unit holding the transactions committed at first..last, after previous. */
    private static StoreUnit unit(long previous, long first, long last) {
        return new StoreUnit(1, 1, previous, first, last, null, null, List.of(), 0);
    }

    private static StoreCommitter.Verdict at(long stored, StoreUnit unit) {
        return StoreCommitter.verdict(unit, stored);
    }

    @Test
    void behindOrEqualIsSkipped() {
        assertEquals(SKIP, at(500, unit(100, 200, 400)), "behind the store");
        assertEquals(SKIP, at(400, unit(100, 200, 400)), "ending at the store's watermark");
        assertEquals(SKIP, at(500, unit(-1, 10, 20)), "a restored unit of a fresh start");
    }

    @Test
    void followingTheWatermarkIsApplied() {
        assertEquals(APPLY, at(400, unit(400, 450, 500)), "the unit after the watermark");
        assertEquals(APPLY, at(-1, unit(-1, 10, 20)), "the first unit into an empty store");
        assertEquals(APPLY, at(400, unit(300, 450, 500)),
                "cut at the watermark: the previous unit ended below it, nothing in between");
    }

    @Test
    void straddlingIsRefused() {
        assertEquals(REFUSE_STRADDLES, at(400, unit(100, 200, 500)));
        assertEquals(REFUSE_STRADDLES, at(400, unit(100, 400, 500)), "first at the watermark");
        assertEquals(REFUSE_STRADDLES, at(0, unit(-1, 0, 5)));
    }

    @Test
    void aheadWithAGapIsRefused() {
        assertEquals(REFUSE_GAP, at(400, unit(450, 460, 500)), "transactions 400..450 missing");
        assertEquals(REFUSE_GAP, at(-1, unit(100, 200, 300)), "an emptied store, a restored job");
    }

    @Test
    void unitsWithoutBoundsKeepTheEarlierRule() {
        StoreUnit legacy = new StoreUnit(500, null, null, List.of());
        assertEquals(SKIP, at(500, legacy));
        assertEquals(APPLY, at(400, legacy));
    }
}
