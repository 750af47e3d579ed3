"""The bench report: JSON shape and round trip, percentiles, targets, and the
files of one run (never overwritten)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from catalog_view.bench_report.figures import (
    LAG_GROWTH_LIMIT_S,
    PRODUCT,
    REPORT_KEYS,
    SQL_JDBC_BASELINE,
    BenchReportError,
    lag_growth_s,
    percentile_points,
    percentiles,
)
from catalog_view.bench_report.files import write_report
from catalog_view.bench_report.results import (
    BackfillResult,
    CaptureResult,
    FanOutResult,
    FreshnessResult,
    PipelineResults,
    ResourceResult,
    RunMetadata,
)
from catalog_view.bench_report.run import BenchRun
from catalog_view.bench_report.targets import TargetStatus
from catalog_view.bench_report.text import console_lines

pytestmark = pytest.mark.unit

STARTED = datetime(2026, 5, 9, 14, 3, 7, tzinfo=timezone.utc)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def steady_lag(lag: float, points: int = 30) -> list[tuple[float, float]]:
    return [(float(t), lag) for t in range(points)]


def growing_lag(per_s: float, points: int = 30) -> list[tuple[float, float]]:
    return [(float(t), 0.2 + per_s * t) for t in range(points)]


def freshness(
    rate: int, p99_ish: float, lag: list[tuple[float, float]] | None = None
) -> FreshnessResult:
    """101 latencies 0 .. p99_ish*100/99, so that p99 == p99_ish exactly."""
    step = p99_ish / 99
    return FreshnessResult(
        rate, 60.0, [i * step for i in range(101)], lag if lag is not None else steady_lag(0.3)
    )


def metadata() -> RunMetadata:
    return RunMetadata(STARTED, "0123abcd" * 5, "full", 2, 1, {"b1_per_rate": 60.0})


def full_run() -> BenchRun:
    """Every scenario measured, every target met."""
    return BenchRun(
        metadata=metadata(),
        b1=[freshness(rate, 0.5) for rate in (20, 50, 100, 200)],
        b2=[
            CaptureResult(10_000, 1, kafka_s=2.0, store_s=2.5, peak_rss_mib=700.0),
            CaptureResult(100_000, 1, kafka_s=10.0, store_s=14.0, peak_rss_mib=1100.0),
            CaptureResult(1_000_000, 1, kafka_s=80.0, store_s=110.0, peak_rss_mib=1900.0),
            CaptureResult(2_000, 2_000, kafka_s=4.0, store_s=6.0, peak_rss_mib=650.0),
        ],
        b3=BackfillResult(20_000, snapshot_s=90.0, in_db_s=40.0, running_s=21.0, captured_s=35.5),
        b4=FanOutResult(20_000, visible_s=3.0),
        b5=ResourceResult({"job": 1900.0, "kafka": 700.0}, 12_345_678, 50_000, 20_000),
        baselines={
            SQL_JDBC_BASELINE: PipelineResults(
                b1=[freshness(rate, 0.8) for rate in (20, 50, 100, 200)],
                b2=[
                    CaptureResult(10_000, 1, kafka_s=2.1, store_s=3.0, peak_rss_mib=900.0),
                    CaptureResult(100_000, 1, kafka_s=10.5, store_s=15.0, peak_rss_mib=1000.0),
                    # Measured as time to equality; no RSS for this one.
                    CaptureResult(1_000_000, 1, kafka_s=85.0, store_s=None, peak_rss_mib=None),
                    CaptureResult(2_000, 2_000, kafka_s=4.0, store_s=7.0, peak_rss_mib=600.0),
                ],
                notes=["store_s is the time until the store equals the reference: no watermark"],
            )
        },
    )


def statuses(run: BenchRun) -> dict[str, TargetStatus]:
    return {t.key: t.status for t in run.targets()}


# --- percentiles ---------------------------------------------------------------


def test_percentiles_interpolate_between_closest_ranks() -> None:
    assert percentiles(list(range(1, 102))) == percentiles(list(range(101, 0, -1)))
    p = percentiles([float(x) for x in range(1, 102)])
    assert (p.p50, p.p95, p.p99) == (51.0, 96.0, 100.0)
    assert percentile_points([0.0, 10.0], [50, 95]) == [5.0, 9.5]


def test_percentiles_of_no_samples_are_none_and_of_one_are_that_sample() -> None:
    assert percentile_points([], [50, 99]) == [None, None]
    assert percentile_points([0.7], [50, 99]) == [0.7, 0.7]


@pytest.mark.parametrize("point", [0, 100])
def test_percentile_points_are_within_1_to_99(point: int) -> None:
    with pytest.raises(ValueError, match="within 1..99"):
        percentile_points([1.0, 2.0], [point])


def test_lag_growth_compares_the_last_third_with_the_first() -> None:
    assert lag_growth_s(steady_lag(0.4)) == 0.0
    # 0.1 s/s over 0..29 s: the thirds' medians are 4.5 s and 24.5 s apart in time.
    assert lag_growth_s(growing_lag(0.1)) == pytest.approx(2.0)
    assert lag_growth_s(steady_lag(0.4, points=8)) is None  # too short to tell
    assert lag_growth_s([(5.0, 0.1)] * 20) is None  # no time span


def test_lag_growth_is_not_decided_by_one_spike() -> None:
    series = steady_lag(0.3)
    series[-1] = (series[-1][0], 9.0)
    assert lag_growth_s(series) == 0.0


# --- JSON ----------------------------------------------------------------------


def test_json_has_the_report_keys_and_the_headline_figures() -> None:
    data = json.loads(full_run().to_json())
    assert set(data) == set(REPORT_KEYS)
    for key in ("metadata", "b1", "b2", "b3_ratio_in_db", "b4_visible_s", "baselines", "targets"):
        assert key in data
    assert set(data["b1"]["50"]) >= {"p50", "p95", "p99"}
    assert data["b1"]["50"]["p99"] == pytest.approx(0.5)
    assert data["b2"]["100000"] == {
        "rows": 100_000,
        "transactions": 1,
        "kafka_s": 10.0,
        "store_s": 14.0,
        "ratio": 1.4,
        "peak_rss_mib": 1100.0,
    }
    assert data["b2"]["burst-2000"]["transactions"] == 2000
    assert data["b3_ratio_in_db"] == 2.25
    assert data["b4_visible_s"] == 3.0
    assert data["b5"]["store_rows_per_source_row"] == 2.5
    assert data["baselines"][SQL_JDBC_BASELINE]["b2"]["1000000"]["store_s"] is None
    assert {"date", "git_commit", "scale", "cores", "parallelism", "durations_s"} <= set(
        data["metadata"]
    )
    assert {t["status"] for t in data["targets"]} == {"met"}


def test_json_round_trips() -> None:
    run = full_run()
    again = BenchRun.from_json(run.to_json())
    assert again == run
    assert again.to_json() == run.to_json()


def test_backfill_says_what_the_store_took_after_start_up_and_capture() -> None:
    b3 = BackfillResult(2_000, snapshot_s=42.0, in_db_s=0.4, running_s=21.0, captured_s=6.0)
    assert b3.after_both_s == pytest.approx(21.0)  # after the later of the two
    assert b3.to_dict()["running_s"] == 21.0
    assert BackfillResult(2_000, snapshot_s=42.0, in_db_s=0.4, captured_s=6.0).after_both_s is None


def test_a_backfill_reported_before_its_milestones_still_reads() -> None:
    old = {"products": 2_000, "snapshot_s": 66.4, "in_db_s": 0.5, "ratio": 132.8}
    b3 = BackfillResult.from_dict(old)
    assert (b3.snapshot_s, b3.running_s, b3.captured_s, b3.after_both_s) == (66.4, None, None, None)


def test_a_run_that_measured_nothing_round_trips() -> None:
    run = BenchRun(metadata())
    data = json.loads(run.to_json())
    assert (data["b3"], data["b3_ratio_in_db"], data["b4_visible_s"]) == (None, None, None)
    assert BenchRun.from_json(run.to_json()) == run


@pytest.mark.parametrize("text", ["[]", "{}", "not json", '{"metadata": {}, "b1": {}}'])
def test_other_json_is_refused(text: str) -> None:
    with pytest.raises(BenchReportError, match="not a bench report"):
        BenchRun.from_json(text)


def test_a_field_of_the_wrong_type_is_refused_by_name() -> None:
    data = json.loads(full_run().to_json())
    del data["b2"]["100000"]["kafka_s"]
    with pytest.raises(BenchReportError, match="kafka_s"):
        BenchRun.from_dict(data)


def test_a_rate_measured_twice_is_an_error() -> None:
    run = replace(full_run(), b1=[freshness(50, 0.5), freshness(50, 0.6)])
    with pytest.raises(ValueError, match="B1 rate measured twice"):
        run.to_json()


def test_nan_is_not_written() -> None:
    run = replace(full_run(), b4=FanOutResult(10, visible_s=float("nan")))
    with pytest.raises(ValueError):
        run.to_json()


# --- targets -------------------------------------------------------------------


def test_every_target_is_met_by_the_full_run() -> None:
    targets = full_run().targets()
    assert len(targets) == 8
    assert all(t.status is TargetStatus.MET for t in targets), targets


def test_limits_are_inclusive_and_a_figure_above_misses() -> None:
    run = full_run()
    run.b2[1] = CaptureResult(100_000, 1, kafka_s=10.0, store_s=15.0, peak_rss_mib=1.0)
    run.b2[2] = replace(run.b2[2], peak_rss_mib=2048.5)
    run.b1[1] = freshness(50, 1.2)
    run.b3 = BackfillResult(1, snapshot_s=3.1, in_db_s=1.0)
    run.b4 = FanOutResult(1, visible_s=5.0)
    got = statuses(run)
    assert got["b2-ratio-100k"] is TargetStatus.MET  # 1.5 exactly
    assert got["b4-visible"] is TargetStatus.MET  # 5 s exactly
    assert got["b2-rss-1m"] is TargetStatus.MISSED
    assert got["b1-p99-50"] is TargetStatus.MISSED
    assert got["b3-ratio"] is TargetStatus.MISSED


def test_growing_lag_at_200_is_unbounded_and_steady_lag_is_not() -> None:
    run = full_run()
    run.b1[3] = freshness(200, 0.5, growing_lag(LAG_GROWTH_LIMIT_S / 15))
    assert statuses(run)["b1-bounded-lag-200"] is TargetStatus.MISSED
    run.b1[3] = freshness(200, 0.5, steady_lag(3.0))  # high, but not growing
    assert statuses(run)["b1-bounded-lag-200"] is TargetStatus.MET


def test_a_smaller_scale_leaves_targets_not_measured_and_says_why() -> None:
    run = full_run()
    run.b1 = [freshness(20, 0.5)]
    run.b2 = [run.b2[0]]
    run.b3 = None
    run.b4 = None
    targets = {t.key: t for t in run.targets()}
    for key in ("b1-p99-50", "b1-bounded-lag-200", "b2-ratio-100k", "b2-rss-1m", "b3-ratio"):
        assert targets[key].status is TargetStatus.NOT_MEASURED, key
    assert targets["b1-p99-50"].measured == "no run at 50 tx/s in this run"
    assert targets["b2-rss-1m"].measured == "no 1,000,000-row transaction in this run"
    assert targets["b4-visible"].measured == "no fan-out in this run"
    # Still compared where both measured.
    assert targets["b1-vs-sql-jdbc"].status is TargetStatus.MET


def test_empty_samples_are_not_measured() -> None:
    run = full_run()
    run.b1[1] = FreshnessResult(50, 60.0, [], [])
    run.b1[3] = FreshnessResult(200, 60.0, [0.1] * 10, steady_lag(0.1, points=3))
    targets = {t.key: t for t in run.targets()}
    assert targets["b1-p99-50"].status is TargetStatus.NOT_MEASURED
    assert targets["b1-p99-50"].measured == "latency not measured"
    assert targets["b1-bounded-lag-200"].status is TargetStatus.NOT_MEASURED
    assert "fewer than 9 points" in targets["b1-bounded-lag-200"].measured


def test_baseline_comparison_skips_figures_the_baseline_lacks() -> None:
    run = full_run()
    target = {t.key: t for t in run.targets()}["b2-vs-sql-jdbc"]
    assert target.status is TargetStatus.MET
    assert "no slower at 3 of 3" in target.measured
    assert "1 not measured by both" in target.measured


def test_slower_than_the_baseline_anywhere_misses_and_names_the_worst() -> None:
    run = full_run()
    run.b1[2] = freshness(100, 0.9)  # the baseline's p99 is 0.8
    run.b1[3] = freshness(200, 1.6)
    target = {t.key: t for t in run.targets()}["b1-vs-sql-jdbc"]
    assert target.status is TargetStatus.MISSED
    assert "no slower at 2 of 4; worst 200 tx/s: 1.60 s vs 0.80 s" in target.measured


def test_without_the_baseline_the_comparisons_are_not_measured() -> None:
    run = replace(full_run(), baselines={"python": full_run().baselines[SQL_JDBC_BASELINE]})
    got = {t.key: t for t in run.targets()}
    for key in ("b1-vs-sql-jdbc", "b2-vs-sql-jdbc"):
        assert got[key].status is TargetStatus.NOT_MEASURED
        assert got[key].measured == f"no {SQL_JDBC_BASELINE} baseline in this run"


def test_no_product_figure_is_not_measured_either() -> None:
    run = replace(full_run(), b1=[], b2=[])
    got = {t.key: t for t in run.targets()}
    for key in ("b1-vs-sql-jdbc", "b2-vs-sql-jdbc"):
        assert got[key].status is TargetStatus.NOT_MEASURED
        assert got[key].measured == "no figure measured by both"


def test_a_baseline_without_any_figure_is_not_measured() -> None:
    run = full_run()
    run.baselines[SQL_JDBC_BASELINE] = PipelineResults(
        b1=[FreshnessResult(rate, 60.0) for rate in (20, 50)],
        b2=[CaptureResult(100_000, 1, kafka_s=10.0)],
    )
    got = {t.key: t for t in run.targets()}
    for key in ("b1-vs-sql-jdbc", "b2-vs-sql-jdbc"):
        assert got[key].status is TargetStatus.NOT_MEASURED
        assert got[key].measured == "no figure measured by both"


def test_console_lines_show_each_scenario_and_what_was_not_met() -> None:
    run = full_run()
    run.b4 = FanOutResult(20_000, visible_s=7.5)
    text = "\n".join(console_lines(run))
    for scenario in ("B1", "B2", "B3", "B4", "B5"):
        assert scenario in text
    assert f"{PRODUCT} 0.25/0.48/0.50  {SQL_JDBC_BASELINE} 0.40/0.77/0.80" in text
    assert f"{SQL_JDBC_BASELINE} n/a (n/a, n/a)" in text  # 1M rows: figures it lacks
    assert "targets: 7 met, 1 missed, 0 not measured" in text
    assert "missed: b4-visible: 7.50 s (20,000 products)" in text


# --- report files --------------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchRun, Path, list[Path]]:
    """One report written (plots take a moment: once for the module's tests)."""
    out = tmp_path_factory.mktemp("results")
    run = full_run()
    return run, out, write_report(run, out).all()


def test_report_files_are_named_by_the_run_date(
    written: tuple[BenchRun, Path, list[Path]],
) -> None:
    _, out, paths = written
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "2026-05-09.json",
            "2026-05-09.md",
            "2026-05-09-freshness.png",
            "2026-05-09-lag.png",
            "2026-05-09-throughput.png",
        ]
    )
    assert sorted(paths) == sorted(out.iterdir())


def test_plots_are_png_images(written: tuple[BenchRun, Path, list[Path]]) -> None:
    _, out, _ = written
    for png in out.glob("*.png"):
        data = png.read_bytes()
        assert data.startswith(PNG_SIGNATURE), png
        assert len(data) > 10_000, png  # a drawn figure, not an empty canvas


def test_the_json_file_reads_back(written: tuple[BenchRun, Path, list[Path]]) -> None:
    run, out, _ = written
    assert BenchRun.from_json((out / "2026-05-09.json").read_text()) == run


def test_markdown_names_every_scenario_and_links_every_plot(
    written: tuple[BenchRun, Path, list[Path]],
) -> None:
    _, out, _ = written
    text = (out / "2026-05-09.md").read_text()
    for heading in (
        "## Targets",
        "## B1 freshness",
        "## B2 capture ceiling",
        "## B3 backfill",
        "## B4 fan-out",
        "## B5 resources",
    ):
        assert heading in text
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(images) == sorted(p.name for p in out.glob("*.png"))
    assert "| b2-ratio-100k | B2 |" in text
    assert "| 100 | sql-jdbc | 101 | 0.40 | 0.77 | 0.80 | 1.60 | 0.00 |" in text
    assert f"- {SQL_JDBC_BASELINE}: store_s is the time until" in text


def test_an_existing_result_is_never_overwritten(tmp_path: Path) -> None:
    earlier = tmp_path / "2026-05-09.json"
    earlier.write_text("earlier run")
    run = BenchRun(metadata())
    first = write_report(run, tmp_path)
    assert earlier.read_text() == "earlier run"
    assert first.json.name == "2026-05-09-140307.json"
    second = write_report(run, tmp_path)
    assert second.json.name == "2026-05-09-140307-2.json"
    assert first.json.read_text() == second.json.read_text() == run.to_json()
    assert len(list(tmp_path.iterdir())) == 1 + 5 + 5


def test_a_stray_plot_of_that_date_moves_the_whole_report_aside(tmp_path: Path) -> None:
    (tmp_path / "2026-05-09-lag.png").write_bytes(b"someone's plot")
    files = write_report(BenchRun(metadata()), tmp_path)
    assert files.markdown.name == "2026-05-09-140307.md"
    assert (tmp_path / "2026-05-09-lag.png").read_bytes() == b"someone's plot"


def test_a_run_without_figures_still_writes_every_plot(tmp_path: Path) -> None:
    files = write_report(BenchRun(metadata()), tmp_path)
    for png in files.plots.values():
        assert png.read_bytes().startswith(PNG_SIGNATURE)
    text = files.markdown.read_text()
    assert "Not measured in this run." in text
    assert "| not measured | n/a |" in text


def test_a_bad_result_leaves_no_file_behind(tmp_path: Path) -> None:
    run = replace(full_run(), b4=FanOutResult(10, visible_s=float("inf")))
    with pytest.raises(ValueError):
        write_report(run, tmp_path / "results")
    assert not (tmp_path / "results").exists()
