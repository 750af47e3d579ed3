"""The order of a bench run.

1. The stack is started (without the job).
2. The product, on a freshly seeded catalog: B1 at each rate, B2 at each
   size and the burst, B4; B5 is sampled meanwhile.
3. Each baseline, on the same freshly seeded catalog: B1 and B2.
4. B3: a new catalog, captured by a new initial snapshot into the product.
   When B3's catalog has the size the others run on (the small scale), B3
   comes first instead and its snapshot is the product's fresh start.

A scenario that fails is named in the report's notes and the run goes on
(the exit status is then 1). The job is left stopped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone

import psycopg
from confluent_kafka import KafkaException

from catalog_view.bench.b1_freshness import run_b1
from catalog_view.bench.b2_capture import run_burst, run_single
from catalog_view.bench.b3_backfill import run_b3
from catalog_view.bench.b4_fanout import run_b4
from catalog_view.bench.b5_resources import CHECKPOINT, RowCounts, resource_peaks, row_counts
from catalog_view.bench.options import BenchOptions
from catalog_view.bench.pipelines import (
    BASELINES,
    PRODUCT_PIPELINE,
    FreshStart,
    Pipeline,
    fresh_start,
)
from catalog_view.bench.progress import Progress
from catalog_view.bench_report.files import write_report
from catalog_view.bench_report.results import (
    PipelineResults,
    ResourceResult,
    RunMetadata,
    describe_checkout,
)
from catalog_view.bench_report.run import BenchRun
from catalog_view.bench_report.text import console_lines
from catalog_view.catalog.writes import first_products
from catalog_view.errors import CatalogViewError
from catalog_view.settings import REPO_ROOT, Settings
from catalog_view.source import connect_source
from catalog_view.stack.job import FlinkJob
from catalog_view.stack.local import LocalStack

RESULTS_DIR = REPO_ROOT / "bench" / "results"
FAILURES = (CatalogViewError, psycopg.Error, KafkaException, ValueError)

PRODUCT_NOTES = (
    "B1: a transaction is visible once the watermark names it or a later one (one writer "
    "connection, so its commit order is known); sampled every 25 ms",
    "B2 kafka_s: until the transaction topic holds the END of each transaction and the table "
    "topics have grown by the events those ENDs count; store_s: until the watermark names it",
    "B3 snapshot_s: from the re-snapshot's start, so it includes starting the job (PyFlink, "
    "its JVM) and Debezium's snapshot",
    "B5 memory: proportional set size summed over each component's processes (shared pages "
    "split between them); checkpoint: the largest completed checkpoint seen; store rows per "
    "source row: pg_stat_user_tables deltas over B1",
)
BASELINE_NOTES = (
    "no watermark: B2 store_s is the time until the store equals the reference queries",
    "B1: a transaction is visible once the product name it set shows in the store (its other "
    "rows may show earlier or later: no alignment); sampled every 50 ms",
    "not restarted between B2 sizes (it cannot restore): peak RSS includes earlier sizes",
)


def product_pool(settings: Settings, size: int = 200) -> list[int]:
    """The first `size` products by id: the ones the bench's edits rename."""
    with connect_source(settings) as conn:
        pool = first_products(conn, size)
    if not pool:
        raise ValueError("the catalog holds no product to edit")
    return pool


class Run:
    def __init__(
        self, settings: Settings, job: FlinkJob, options: BenchOptions, progress: Progress
    ) -> None:
        self.settings, self.job, self.options, self.progress = settings, job, options, progress
        self.scale = options.scale
        self.failed: list[str] = []
        self.result = BenchRun(
            RunMetadata(
                date=datetime.now(timezone.utc),
                git_commit=describe_checkout(REPO_ROOT),
                scale=options.scale_label,
                cores=os.cpu_count() or 1,
                parallelism=options.parallelism,
                durations_s={"b1_per_rate": self.scale.b1_seconds},
                notes=[f"parameters: {options.describe()}", *PRODUCT_NOTES],
            )
        )

    @contextmanager
    def scenario(self, name: str, notes: list[str]) -> Iterator[None]:
        """Times a part of the run; a failure is noted and the run goes on."""
        self.progress.scenario = name
        started = time.monotonic()
        try:
            yield
        except FAILURES as exc:
            message = f"{name} failed: {type(exc).__name__}: {exc}"
            self.progress.log(message)
            self.failed.append(message)
            notes.append(message)
        finally:
            durations = self.result.metadata.durations_s
            durations[name] = durations.get(name, 0.0) + time.monotonic() - started

    def start(self, pipeline: Pipeline, products: int) -> FreshStart:
        return fresh_start(
            self.settings,
            self.job,
            pipeline,
            products=products,
            seed=self.options.seed,
            parallelism=self.options.parallelism,
            progress=self.progress,
        )

    def b1(self, pipeline: Pipeline, results: PipelineResults, pool: list[int]) -> None:
        if not self.options.runs("b1"):
            return
        with self.scenario(f"{pipeline.name} b1", results.notes):
            for rate in self.scale.rates:
                freshness, notes = run_b1(
                    self.settings,
                    self.job,
                    pipeline,
                    rate,
                    self.scale.b1_seconds,
                    pool,
                    self.progress,
                )
                results.b1.append(freshness)
                results.notes.extend(notes)

    def b2(self, pipeline: Pipeline, results: PipelineResults, pool: list[int]) -> None:
        if not self.options.runs("b2"):
            return
        s, p = self.settings, self.options.parallelism
        with self.scenario(f"{pipeline.name} b2", results.notes):
            for n, rows in enumerate(self.scale.sizes):
                capture, notes = run_single(
                    s, self.job, pipeline, rows, p, self.progress, restart=n > 0
                )
                results.b2.append(capture)
                results.notes.extend(notes)
            if self.scale.burst:
                capture, notes = run_burst(
                    s, self.job, pipeline, self.scale.burst, pool, self.progress
                )
                results.b2.append(capture)
                results.notes.extend(notes)

    def product(self) -> None:
        o, meta = self.options, self.result.metadata
        if not any(o.runs(n) for n in ("b1", "b2", "b4")):
            return
        failures = len(self.failed)
        if o.backfill_first:
            self.backfill()
            if self.result.b3 is None:
                return
        else:
            with self.scenario(f"{PRODUCT_PIPELINE.name} start", meta.notes):
                self.start(PRODUCT_PIPELINE, self.scale.products)
        if len(self.failed) > failures:
            return
        pool = product_pool(self.settings)
        peaks = resource_peaks(self.settings) if o.runs("b5") else None
        counts: list[RowCounts] = []
        results = PipelineResults(self.result.b1, self.result.b2, meta.notes)
        with peaks or nullcontext():
            count_rows = peaks is not None and o.runs("b1")
            if count_rows:
                with self.scenario("b5", meta.notes):
                    counts.append(row_counts(self.settings, self.job))
            self.b1(PRODUCT_PIPELINE, results, pool)
            if count_rows and counts:
                with self.scenario("b5", meta.notes):
                    counts.append(row_counts(self.settings, self.job))
            self.b2(PRODUCT_PIPELINE, results, pool)
            if o.runs("b4"):
                with self.scenario("b4", meta.notes):
                    self.result.b4 = run_b4(
                        self.settings,
                        self.job,
                        PRODUCT_PIPELINE,
                        self.scale.b4_products,
                        self.progress,
                    )
        if peaks is not None:
            before, after = counts if len(counts) == 2 else (None, None)
            self.result.b5 = ResourceResult(
                peak_rss_mib={k: v / 2**20 for k, v in peaks.peaks.items() if k != CHECKPOINT},
                checkpoint_bytes=peaks.peaks.get(CHECKPOINT),
                store_rows_written=after.store - before.store if before and after else None,
                source_rows_changed=after.source - before.source if before and after else None,
            )

    def baseline(self, pipeline: Pipeline) -> None:
        if not (self.options.runs("b1") or self.options.runs("b2")):
            return
        results = PipelineResults(notes=list(BASELINE_NOTES))
        self.result.baselines[pipeline.name] = results
        failures = len(self.failed)
        with self.scenario(f"{pipeline.name} start", results.notes):
            self.start(pipeline, self.scale.products)
            pool = product_pool(self.settings)
        if len(self.failed) == failures:
            self.b1(pipeline, results, pool)
            self.b2(pipeline, results, pool)

    def backfill(self) -> None:
        if not self.options.runs("b3"):
            return
        with self.scenario("b3", self.result.metadata.notes):
            self.result.b3 = run_b3(
                self.settings,
                self.job,
                self.scale.b3_products,
                self.options.seed,
                self.options.parallelism,
                self.progress,
            )


def run_bench(settings: Settings, options: BenchOptions, progress: Progress) -> Run:
    started = time.monotonic()
    stack = LocalStack(settings)
    with progress.step("the stack, without the job"):
        stack.up(with_job=False)
    settings = stack.settings
    job = FlinkJob(settings)
    job.stop()
    run = Run(settings, job, options, progress)
    progress.log(options.describe())
    try:
        run.product()
        for key in options.baselines:
            run.baseline(BASELINES[key])
        if not options.backfill_first:
            run.backfill()
    finally:
        progress.scenario = "end"
        job.stop()
        run.result.metadata.durations_s["total"] = time.monotonic() - started
    return run


def run_and_report(settings: Settings, options: BenchOptions) -> int:
    with Progress() as progress:
        run = run_bench(settings, options, progress)
    files = write_report(run.result, RESULTS_DIR)
    for line in console_lines(run.result):
        print(line)
    print(f"report: {files.markdown} ({files.json.name}, {len(files.plots)} plots)")
    if options.json:
        print(run.result.to_json(), end="")
    return 1 if run.failed else 0
