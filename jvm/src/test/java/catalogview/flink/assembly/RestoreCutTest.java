package catalogview.flink.assembly;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RestoreCutTest {

    @Test
    void nothingToCutWithoutAWatermark() {
        RestoreCut cut = new RestoreCut(-1);
        assertTrue(cut.admit(10));
        assertTrue(cut.admit(20));
        assertFalse(cut.holding());
    }

    @Test
    void holdsTheFirstTransactionAboveTheWatermarkUntilABarrierPassed() {
        RestoreCut cut = new RestoreCut(100);
        assertTrue(cut.admit(50), "replayed, at or below the store: passes");
        assertTrue(cut.admit(100));
        assertFalse(cut.admit(120), "above the store after something passed: held");
        assertFalse(cut.admit(90), "everything after it is held too, in order");
        assertFalse(cut.releaseDue(), "no barrier yet");
        cut.barrierSent();
        assertTrue(cut.releaseDue());
        cut.released();
        assertTrue(cut.admit(120));
        assertTrue(cut.admit(130));
        assertFalse(cut.holding());
        cut.barrierSent();
        assertTrue(cut.admit(140), "one cut only");
    }

    @Test
    void noHoldWhenABarrierAlreadySeparates() {
        RestoreCut cut = new RestoreCut(100);
        assertTrue(cut.admit(80));
        cut.barrierSent();
        assertTrue(cut.admit(120), "the barrier before it is the cut");
        assertFalse(cut.holding());
        RestoreCut fromTheWatermark = new RestoreCut(100);
        assertTrue(fromTheWatermark.admit(120), "restored at the store's watermark: no hold");
    }

    @Test
    void aBarrierBeforeTheHoldDoesNotReleaseIt() {
        RestoreCut cut = new RestoreCut(100);
        cut.barrierSent();
        assertTrue(cut.admit(90));
        assertFalse(cut.admit(110));
        assertFalse(cut.releaseDue(), "the barrier came before what passed");
        cut.barrierSent();
        assertTrue(cut.releaseDue());
    }
}
