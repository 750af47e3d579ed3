"""`catalog-view bench` (`make bench`): what transaction alignment costs,
measured on the embedded stack, each figure beside a baseline measured in the
same run.

1. burst: K small source transactions (a category, a product in it, a
   variant and its price) committed back to back; the time from the first
   commit until the store equals the reference queries, for a baseline
   pipeline (--baseline: python, the plain join written row by row, or sql,
   plain Flink SQL with JDBC sinks) and for the aligned pipeline (ratio
   aligned / baseline).
2. large transactions: one bulk import of N rows in ONE source transaction,
   for each N, on a job just restored from its checkpoint; the time from its
   commit until the watermark names it, and the job's peak resident memory
   (its whole process group: JVM and Python workers) above the level just
   before the commit. Ratios against the
   smallest N show how time and memory grow with the transaction's size.

The catalog is reset and seeded first; the job is left stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from catalog_view.demo import converged
from catalog_view.errors import CatalogViewError
from catalog_view.settings import Settings
from catalog_view.stack.job import FlinkJob, read_watermark, taken_over, wrote_since
from catalog_view.stack.process import group_rss_bytes
from catalog_view.verify import xid32
from catalog_view.waiting import wait_until
from catalog_view.workload import BULK_ROWS_PER_PRODUCT, import_products
from flink_jobs.options import BASELINES

TIMEOUT_S = 900.0


class BenchError(CatalogViewError):
    pass


@dataclass
class BurstResult:
    pipeline: str
    transactions: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.transactions / self.seconds


@dataclass
class LargeTransactionResult:
    rows: int
    seconds: float  # commit -> the watermark names the transaction
    peak_extra_mib: float  # job's peak RSS above the level before the commit


@dataclass
class BenchReport:
    parallelism: int
    bursts: list[BurstResult] = field(default_factory=list)
    large: list[LargeTransactionResult] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        base = next((b for b in self.bursts if b.pipeline.startswith("baseline")), None)
        for b in self.bursts:
            ratio = f", {b.seconds / base.seconds:.2f}x the baseline's time" if base else ""
            out.append(
                f"bench: burst of {b.transactions} transactions, {b.pipeline}: {b.seconds:.1f}s "
                f"to the reference state ({b.per_second:.1f} tx/s){ratio}"
            )
        first = self.large[0] if self.large else None
        for r in self.large:
            assert first is not None
            out.append(
                f"bench: one transaction of {r.rows} rows: visible after {r.seconds:.1f}s "
                f"({r.seconds / first.seconds:.1f}x), peak job memory +{r.peak_extra_mib:.0f} MiB "
                f"({_ratio(r.peak_extra_mib, first.peak_extra_mib)}) "
                f"for {r.rows / first.rows:.0f}x the rows"
            )
        return out

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        return json.dumps(data, sort_keys=True)


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.1f}x" if base > 0 else "n/a"


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _commit(settings: Settings, body: Any) -> int:
    """Run `body(conn)` in one source transaction; returns its 32-bit txid."""
    with psycopg.connect(settings.admin_conninfo()) as conn:
        conn.execute(f"SET search_path TO {settings.admin_schema}")
        body(conn)
        row = conn.execute("SELECT txid_current()").fetchone()
        assert row is not None
        conn.commit()
    return xid32(int(row[0]))


def _wait_for_txid(settings: Settings, txid: int, what: str) -> None:
    def named() -> bool:
        mark = read_watermark(settings)
        return mark is not None and mark.source_txid == txid

    wait_until(named, timeout_s=TIMEOUT_S, what=what, interval_s=0.05)


def _wait_converged(settings: Settings, what: str) -> None:
    wait_until(lambda: converged(settings), timeout_s=TIMEOUT_S, what=what, interval_s=0.2)


def _small_transaction(n: int) -> Any:
    def body(conn: psycopg.Connection) -> None:
        category = conn.execute(
            "INSERT INTO category (parent_id, name, slug) "
            "SELECT min(id), %s, %s FROM category RETURNING id",
            (f"Burst {n}", f"burst-{n}"),
        ).fetchone()
        product = conn.execute(
            "INSERT INTO product (product_type_id, category_id, name, slug, description) "
            "SELECT min(id), %s, %s, %s, 'burst' FROM product_type RETURNING id",
            (category[0] if category else None, f"Burst {n}", f"burst-{n}"),
        ).fetchone()
        variant = conn.execute(
            "INSERT INTO product_variant (product_id, sku, name, sort_order) "
            "VALUES (%s, %s, 'Burst', 1) RETURNING id",
            (product[0] if product else None, f"BURST-{n}"),
        ).fetchone()
        conn.execute(
            "INSERT INTO product_variant_channel_listing (variant_id, channel_id, price_amount, "
            "currency) SELECT %s, id, 9.99, currency_code FROM channel ORDER BY id LIMIT 1",
            (variant[0] if variant else None,),
        )

    return body


def run_burst(settings: Settings, pipeline: str, transactions: int, offset: int) -> BurstResult:
    started = time.monotonic()
    for n in range(offset, offset + transactions):
        _commit(settings, _small_transaction(n))
    _wait_converged(settings, f"{pipeline}: store == reference after the burst")
    return BurstResult(pipeline, transactions, time.monotonic() - started)


class _PeakMemory:
    """Samples the job's process-group RSS in the background; keeps the peak."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.peak = group_rss_bytes(pgid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, group_rss_bytes(self.pgid))

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_large(
    settings: Settings, job: FlinkJob, parallelism: int, rows: int, tag: str
) -> LargeTransactionResult:
    # A JVM keeps the heap it grew: restart the job (from its checkpoint, no
    # replay) so that each size is measured from a freshly started job.
    since = job.restart(parallelism=parallelism, fresh=False)
    wait_until(
        lambda: wrote_since(settings, since),
        timeout_s=TIMEOUT_S,
        what="restored job commits (a heartbeat)",
        interval_s=0.2,
    )
    pgid = job.process.pid()
    if pgid is None:
        raise BenchError(f"the job is not running: see {job.process.log_file}")
    before = group_rss_bytes(pgid)
    products = max(1, rows // BULK_ROWS_PER_PRODUCT)
    with _PeakMemory(pgid) as memory:
        started = time.monotonic()
        txid = _commit(settings, lambda conn: import_products(conn, tag, products))
        _wait_for_txid(settings, txid, f"watermark names the {rows}-row transaction {txid}")
        seconds = time.monotonic() - started
    _wait_converged(settings, f"store == reference after the {rows}-row transaction")
    extra = max(0, memory.peak - before) / 2**20
    return LargeTransactionResult(products * BULK_ROWS_PER_PRODUCT, seconds, extra)


def pipeline_name(baseline: str | None) -> str:
    """How a burst names its pipeline: aligned, baseline (python), baseline-sql."""
    if baseline is None:
        return "aligned"
    return "baseline" if baseline == "python" else f"baseline-{baseline}"


def _start_job(settings: Settings, job: FlinkJob, parallelism: int, baseline: str | None) -> None:
    since = job.restart(parallelism=parallelism, baseline=baseline, fresh=True)
    pipeline = pipeline_name(baseline)
    _log(f"{pipeline} job started at parallelism {parallelism}; waiting for its replay")
    wait_until(
        lambda: taken_over(settings, since, baseline) and converged(settings),
        timeout_s=TIMEOUT_S,
        what=f"{pipeline} job replayed the capture",
        interval_s=0.5,
    )


def run_bench(
    settings: Settings,
    parallelism: int,
    burst: int,
    sizes: list[int],
    products: int,
    baseline: str = "python",
) -> BenchReport:
    from catalog_view.seed import seed_catalog
    from catalog_view.stack.local import LocalStack

    stack = LocalStack(settings)
    stack.up(with_job=False)
    settings = stack.settings
    job = FlinkJob(settings)
    job.stop()
    seed_catalog(settings, products, seed=7, reset=True, progress=False)
    report = BenchReport(parallelism)
    try:
        for offset, pipeline in ((0, baseline), (burst, None)):
            _start_job(settings, job, parallelism, pipeline)
            result = run_burst(settings, pipeline_name(pipeline), burst, offset)
            _log(f"burst {result.pipeline}: {result.seconds:.1f}s")
            report.bursts.append(result)
        for size in sizes:
            large = run_large(settings, job, parallelism, size, f"b{size}x{time.time_ns():x}")
            _log(f"{large.rows} rows: {large.seconds:.1f}s, +{large.peak_extra_mib:.0f} MiB")
            report.large.append(large)
    finally:
        job.stop()
    return report


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise BenchError(f"--rows {text!r}: expected comma-separated row counts") from None
    if not sizes or min(sizes) < BULK_ROWS_PER_PRODUCT or sizes != sorted(sizes):
        raise BenchError(
            f"--rows {text!r}: expected increasing row counts >= {BULK_ROWS_PER_PRODUCT}"
        )
    return sizes


def add_bench_command(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="measure the cost of transaction alignment (make bench)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--burst", type=int, default=300, help="small transactions per burst")
    parser.add_argument(
        "--baseline",
        choices=BASELINES,
        default="python",
        help="the burst's baseline pipeline: 'python' (the plain join written row by row) or "
        "'sql' (plain Flink SQL, JDBC sinks)",
    )
    parser.add_argument("--rows", default="1000,10000,50000", help="rows of each large transaction")
    parser.add_argument("--products", type=int, default=200, help="products seeded first")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from catalog_view.settings import load_settings

    if args.parallelism < 1 or args.burst < 1:
        raise BenchError("--parallelism and --burst must be >= 1")
    report = run_bench(
        load_settings(),
        args.parallelism,
        args.burst,
        parse_sizes(args.rows),
        args.products,
        baseline=args.baseline,
    )
    for line in report.lines():
        print(line)
    if args.json:
        print(report.to_json())
    return 0
