"""`catalog-view bench` without a stack: arguments and scales, the pacing
schedule, how visibility, latencies and the lag are derived from samples,
what counts as captured in Kafka, checkpoint sizes, progress lines."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from catalog_view.bench.b1_freshness import (
    Commit,
    Visibility,
    lag_series,
    marker_name,
    parse_marker,
    schedule,
)
from catalog_view.bench.b5_resources import checkpoint_bytes
from catalog_view.bench.command import BenchUsageError, options_from_args, parse_counts
from catalog_view.bench.kafka import Captured, CapturePosition
from catalog_view.bench.milestones import Milestones
from catalog_view.bench.options import SCALES, BenchOptions
from catalog_view.bench.pipelines import BASELINES, PRODUCT_PIPELINE
from catalog_view.bench.progress import Progress, clock_text
from catalog_view.bench.sampling import Peaks
from catalog_view.bench_report.figures import PRODUCT
from catalog_view.cli import build_parser
from catalog_view.source import xid32
from flink_jobs.debezium import TransactionMarker

pytestmark = pytest.mark.unit

KNOWN = ("sql", "python")


def options(*argv: str, known: tuple[str, ...] = KNOWN) -> BenchOptions:
    return options_from_args(build_parser().parse_args(["bench", *argv]), known)


# -- arguments and scales -------------------------------------------------------


def test_default_is_the_small_scale_with_every_scenario_and_the_sql_baseline() -> None:
    o = options()
    assert (o.scale_name, o.scale, o.scale_label) == ("small", SCALES["small"], "small")
    assert o.scenarios == ("b1", "b2", "b3", "b4", "b5")
    assert o.baselines == ("sql",)
    assert o.parallelism == 1


def test_full_scale_has_the_issue_sizes() -> None:
    full = options("--scale", "full").scale
    assert full.rates == (20, 50, 100, 200)
    assert full.b1_seconds == 60
    assert full.sizes == (10_000, 100_000, 1_000_000)
    assert (full.burst, full.b3_products, full.b4_products) == (2000, 100_000, 50_000)


def test_small_scale_keeps_the_writing_short() -> None:
    small = SCALES["small"]
    # Per pipeline, B1 writes for under a minute; a baseline doubles it.
    assert len(small.rates) * small.b1_seconds <= 60
    assert small.rates == (20, 50, 100, 200)
    assert small.b3_products == small.products  # B3's snapshot starts the product


def test_overrides_replace_pieces_of_the_scale_and_mark_it_custom() -> None:
    o = options(
        "--rates", "50,20", "--b1-seconds", "3", "--sizes", "1000", "--burst", "0",
        "--b3-products", "10", "--b4-products", "20", "--products", "30",
    )  # fmt: skip
    s = o.scale
    assert (s.rates, s.b1_seconds, s.sizes, s.burst) == ((20, 50), 3.0, (1000,), 0)
    assert (s.b3_products, s.b4_products, s.products) == (10, 20, 30)
    assert o.custom and o.scale_label == "small (custom)"
    assert "B1 20,50 tx/s for 3 s each" in o.describe()


def test_only_keeps_the_canonical_order() -> None:
    assert options("--only", "b4,B1").scenarios == ("b1", "b4")


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        ((), True),  # the small scale: B3's snapshot starts the product
        (("--only", "b3,b2"), True),
        (("--only", "b3"), False),  # B3 alone still runs, on its own
        (("--only", "b1,b2"), False),
        (("--b3-products", "10"), False),  # another catalog: B3 comes last
    ],
)
def test_backfill_comes_first_only_when_the_product_runs_on_its_catalog(
    argv: tuple[str, ...], first: bool
) -> None:
    assert options(*argv).backfill_first is first


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--only", "b6"), "--only 'b6'"),
        (("--only", "b5"), "B5 is measured while"),
        (("--only", "none"), "nothing to run"),
        (("--baselines", "java"), "--baselines 'java': expected some of sql, python"),
        (("--rates", "20,x"), "--rates '20,x': expected comma-separated integers"),
        (("--rates", "20,20"), "repeated"),
        (("--sizes", "0"), ">= 1"),
        (("--burst", "-1"), "--burst"),
        (("--b1-seconds", "0"), "--b1-seconds"),
        (("--parallelism", "0"), "--parallelism"),
    ],
)
def test_bad_arguments_are_refused_with_the_input(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(BenchUsageError, match=message):
        options(*argv)


def test_no_baselines_or_both() -> None:
    assert options("--baselines", "none").baselines == ()
    assert options("--baselines", "python,sql").baselines == ("sql", "python")
    assert options(known=("python",)).baselines == (), "the default is sql, if known"


def test_counts_accept_underscores_and_none() -> None:
    assert parse_counts("100_000,10_000", "--sizes") == (10_000, 100_000)
    assert parse_counts("none", "--sizes") == ()


def test_pipelines_say_how_visibility_is_judged() -> None:
    assert PRODUCT_PIPELINE.name == PRODUCT
    assert PRODUCT_PIPELINE.has_watermark and PRODUCT_PIPELINE.restores
    assert all(not p.has_watermark and not p.restores for p in BASELINES.values())


# -- B1: pacing, visibility, latencies, lag ---------------------------------------


def test_schedule_is_fixed_from_the_start() -> None:
    due = schedule(50, 2.0)
    assert len(due) == 100
    assert due[:3] == [0.0, 0.02, 0.04]
    assert due[-1] == pytest.approx(1.98)
    assert schedule(20, 0.01) == [0.0]  # always at least one


@pytest.mark.parametrize(("rate", "seconds"), [(0, 1.0), (10, 0.0)])
def test_schedule_refuses_nothing_to_do(rate: int, seconds: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        schedule(rate, seconds)


def test_markers_round_trip_and_ignore_other_runs() -> None:
    assert parse_marker(marker_name("r50-abc", 17), "r50-abc") == 17
    assert parse_marker(marker_name("r20-abc", 17), "r50-abc") is None
    assert parse_marker("Organic Cotton Tee 3", "r50-abc") is None


def committed(v: Visibility, *commits: tuple[int, int, int, float]) -> None:
    for seq, txid, product, at in commits:
        v.committed(Commit(seq, txid, product, at))


def test_watermark_makes_everything_committed_before_it_visible() -> None:
    v = Visibility()
    committed(v, (0, 100, 1, 1.0), (1, 101, 2, 1.1), (2, 102, 3, 1.2))
    v.watermark(999, 1.5)  # not ours (e.g. before the run): nothing
    v.watermark(101, 2.0)
    assert v.visible == [2.0, 2.0, None]
    v.watermark(100, 2.5)  # an older sample cannot move anything back
    v.watermark(102, 3.0)
    assert v.visible == [2.0, 2.0, 3.0]
    latencies, unseen = v.latencies(censor_at=10.0)
    assert latencies == pytest.approx([1.0, 0.9, 1.8])
    assert unseen == 0


def test_markers_count_per_product_only() -> None:
    v = Visibility()
    committed(v, (0, 100, 1, 1.0), (1, 101, 2, 1.1), (2, 102, 1, 1.2), (3, 103, 2, 1.3))
    v.marker(1, 2, 2.0)  # product 1 shows seq 2: seq 0 was overwritten
    assert v.visible == [2.0, None, 2.0, None]
    v.marker(2, 1, 2.5)
    assert v.pending() == 1
    latencies, unseen = v.latencies(censor_at=5.0)
    assert unseen == 1
    assert latencies == pytest.approx([1.0, 1.4, 0.8, 3.7])  # the last one censored


def test_txids_are_named_as_debezium_names_them() -> None:
    assert xid32(2**32 + 5) == 5


def test_lag_is_the_wait_of_the_oldest_pending_transaction() -> None:
    commits = [0.1, 0.2, 1.1]
    visible: list[float | None] = [0.6, 1.6, None]
    series = lag_series(commits, visible, start=0.0, end=2.0, step=0.5)
    assert series == [
        (0.0, 0.0),
        (0.5, pytest.approx(0.4)),  # 0.1 pending
        (1.0, pytest.approx(0.8)),  # 0.1 visible at 0.6; 0.2 pending
        (1.5, pytest.approx(1.3)),
        (2.0, pytest.approx(0.9)),  # 1.1 never seen: pending to the end
    ]


def test_lag_of_a_pipeline_that_keeps_up_stays_flat() -> None:
    commits = [i * 0.1 for i in range(100)]
    visible: list[float | None] = [c + 0.3 for c in commits]
    lags = [lag for _, lag in lag_series(commits, visible, 0.0, 10.0, step=0.25)]
    assert max(lags) <= 0.3 + 1e-9


# -- B2: captured in Kafka ----------------------------------------------------------


@dataclass
class FakeKafka:
    """What Captured asks of KafkaView: transaction markers, end offsets."""

    settings: object
    ends: dict[str, int] = field(default_factory=dict)
    arrived: list[TransactionMarker] = field(default_factory=list)
    followed_from: int | None = None

    def follow_transactions(self, since: int) -> None:
        self.followed_from = since

    def read_markers(self) -> list[TransactionMarker]:
        out, self.arrived = self.arrived, []
        return out

    def end_offset(self, topic: str) -> int:
        return self.ends.get(topic, 0)


@dataclass
class FakeSettings:
    topic_prefix: str = "catalog"


def end(txid: int, counts: dict[str, int]) -> TransactionMarker:
    return TransactionMarker("END", txid, 1000 + txid, sum(counts.values()), counts, None)


def test_captured_needs_the_end_and_every_counted_event() -> None:
    product, variant = "catalog.catalog.product", "catalog.catalog.product_variant"
    kafka = FakeKafka(FakeSettings(), ends={product: 10})
    since = CapturePosition(41, {product: 10, variant: 4})
    captured = Captured(kafka, since, {7, 8})  # type: ignore[arg-type]
    assert not captured()
    assert kafka.followed_from == 41
    kafka.arrived = [end(7, {"catalog.product": 2}), end(99, {"catalog.product": 50})]
    assert not captured()  # 8's END is missing
    kafka.arrived = [end(8, {"catalog.product": 1, "catalog.product_variant": 3})]
    assert not captured()  # the END is there, the events not yet
    kafka.ends[product] = 13
    kafka.ends[variant] = 7
    assert captured()
    assert captured.events == 6


# -- B5 and the helpers ---------------------------------------------------------------


def test_checkpoint_size_is_the_newest_completed_one(tmp_path: Path) -> None:
    assert checkpoint_bytes(tmp_path) is None
    old = tmp_path / "job" / "chk-1"
    new = tmp_path / "job" / "chk-2"
    running = tmp_path / "job" / "chk-3"  # no _metadata yet
    for directory, size in ((old, 100), (new, 30), (running, 1000)):
        directory.mkdir(parents=True)
        (directory / "state").write_bytes(b"x" * size)
    (old / "_metadata").write_bytes(b"m")
    (new / "_metadata").write_bytes(b"mm")
    os.utime(old / "_metadata", (1_000, 1_000))
    os.utime(new / "_metadata", (2_000, 2_000))
    assert checkpoint_bytes(tmp_path) == 32


def test_peaks_keep_the_largest_sample_per_name() -> None:
    samples = iter([{"job": 5, "kafka": 1}, {"job": 3}])
    with Peaks(lambda: next(samples, {}), interval_s=3600) as peaks:
        pass  # the first sample is taken as the sampler starts
    assert peaks.peaks == {"job": 5, "kafka": 1}
    assert peaks.mib("job") == 5 / 2**20
    assert peaks.mib("connect") is None


def test_progress_names_scenario_step_and_times() -> None:
    now = [100.0]
    out = io.StringIO()
    progress = Progress(out=out, clock=lambda: now[0])
    progress.scenario = "catalog-view b1"
    assert progress.line() is None
    with progress.step("50 tx/s for 12s"):
        now[0] += 7.5
        assert progress.line() == "50 tx/s for 12s ... 7.5s"
        now[0] += 60
    lines = out.getvalue().splitlines()
    assert lines == [
        "bench [0.0s] catalog-view b1: 50 tx/s for 12s ...",
        "bench [1m07s] catalog-view b1: 50 tx/s for 12s: done in 1m07s",
    ]
    assert clock_text(3.25) == "3.2s"


# -- where a fresh start's time goes (B3) ----------------------------------------


def test_milestones_keep_the_first_time_each_check_held() -> None:
    clock = iter([10.0, 12.5, 13.0])
    answers = {"running_s": iter([False, True, True]), "captured_s": iter([True, True])}
    asked: list[str] = []

    def check(name: str) -> Callable[[], bool]:
        def ask() -> bool:
            asked.append(name)
            return next(answers[name])

        return ask

    m = Milestones({n: check(n) for n in answers}, clock=lambda: next(clock))
    m.poll()  # captured at 10.0, not running yet
    m.poll()  # running at 12.5
    m.poll()  # both held: nothing asked again
    assert m.reached == {"captured_s": 10.0, "running_s": 12.5}
    assert asked == ["running_s", "captured_s", "running_s"]
    assert m.seconds_since(4.0, "running_s") == pytest.approx(8.5)
    assert Milestones({}).seconds_since(4.0, "running_s") is None
