"""A bench run as lines for the console."""

from __future__ import annotations

from collections.abc import Sequence

from catalog_view.bench_report.figures import mib, num, pcts
from catalog_view.bench_report.results import CaptureResult
from catalog_view.bench_report.run import BenchRun
from catalog_view.bench_report.targets import TargetResult, TargetStatus


def console_lines(run: BenchRun) -> list[str]:
    """A short console summary: the headline figure of each scenario per pipeline."""
    meta = run.metadata
    out = [
        f"bench {meta.date:%Y-%m-%d %H:%M} scale {meta.scale}, commit {meta.git_commit[:12]}, "
        f"{meta.cores} cores, parallelism {meta.parallelism}",
        "B1 p50/p95/p99 s:",
    ]
    for rate in run.rates():
        cells = []
        for name, pipeline in run.pipelines():
            result = pipeline.freshness_at(rate)
            cells.append(f"{name} {pcts(result.percentiles) if result else 'n/a'}")
        out.append(f"  {rate:>4} tx/s  " + "  ".join(cells))
    out.append("B2 store_s (store/kafka, peak MiB):")
    for rows, transactions in run.sizes():
        cells = []
        for name, pipeline in run.pipelines():
            c = pipeline.capture_of(rows, transactions)
            figures = (
                f"{num(c.store_s, 1, 's')} ({num(c.ratio, 2, 'x')}, {num(c.peak_rss_mib, 0)})"
                if c
                else "n/a"
            )
            cells.append(f"{name} {figures}")
        out.append(f"  {CaptureResult(rows, transactions).label}  " + "  ".join(cells))
    if run.b3:
        out.append(
            f"B3 backfill of {run.b3.products:,} products: snapshot {num(run.b3.snapshot_s, 1)}s, "
            f"in PostgreSQL {num(run.b3.in_db_s, 1)}s, ratio {num(run.b3.ratio)} (job running "
            f"after {num(run.b3.running_s, 1)}s, snapshot in Kafka after "
            f"{num(run.b3.captured_s, 1)}s, store {num(run.b3.after_both_s, 1)}s after both)"
        )
    if run.b4:
        out.append(f"B4 fan-out over {run.b4.products:,} products: {num(run.b4.visible_s)}s")
    if run.b5:
        rss = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(run.b5.peak_rss_mib.items()))
        out.append(
            f"B5 peak MiB: {rss or 'n/a'}; checkpoint {mib(run.b5.checkpoint_bytes)}; "
            f"{num(run.b5.store_rows_per_source_row)} store rows per source row"
        )
    return out + _target_lines(run.targets())


def _target_lines(targets: Sequence[TargetResult]) -> list[str]:
    counts = {s: sum(t.status is s for t in targets) for s in TargetStatus}
    out = ["targets: " + ", ".join(f"{n} {s.value}" for s, n in counts.items())]
    out += [
        f"  {t.status.value}: {t.key}: {t.measured}"
        for t in targets
        if t.status is not TargetStatus.MET
    ]
    return out
