"""B1 freshness: a steady rate of small mixed catalog edits; for each source
transaction, the time from its COMMIT returning until the store shows it.

The writer commits on ONE connection, on a fixed schedule (transaction i is
due at i / rate; a slow commit does not push the later ones back, a late
writer commits back to back until it is on time again, and stops at the end
of the window: the achieved rate is what it managed). One connection makes
the bench's own order the commit order, and nothing else changes the catalog
meanwhile (heartbeats touch only their own table).

Visible, with a watermark (the product): a sampler reads the watermark every
25 ms; when it names transaction k, the store shows k and every transaction
committed before it (the pipeline applies whole transactions in commit
order), so all of them not yet seen become visible at that sample.

Visible, without one (baselines): every transaction renames a product of a
pool to a marker naming the transaction; a sampler reads the pool's names in
the store every 50 ms; a marker showing makes its transaction, and the
earlier ones on that product (overwritten), visible. That says nothing about
the transaction's other rows: a baseline without alignment may show them
earlier or later.

Latency: the sample's time minus the commit's, both on this process's
monotonic clock; sampling adds up to one interval. Lag over time, while
the writer runs: at each instant, how long the oldest committed transaction
not yet visible has waited (0 when the store shows everything committed).
"""

from __future__ import annotations

import contextlib
import heapq
import math
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import psycopg

from catalog_view.bench.pipelines import Pipeline, check_running
from catalog_view.bench.progress import Progress
from catalog_view.bench.sampling import Poller
from catalog_view.bench_report.results import FreshnessResult
from catalog_view.catalog.writes import add_variant, delete_variant
from catalog_view.settings import Settings
from catalog_view.source import Body, commit, connect_source
from catalog_view.stack.job import FlinkJob
from catalog_view.store import connect_store, watermark_txid_query
from catalog_view.waiting import WaitTimeout, wait_until

WATERMARK_SAMPLE_S = 0.025
MARKER_SAMPLE_S = 0.05
LAG_STEP_S = 0.25
MIN_DRAIN_S = 30.0


def schedule(rate: int, seconds: float) -> list[float]:
    """When each transaction is due, in seconds from the start: i / rate."""
    if rate < 1 or seconds <= 0:
        raise ValueError(f"rate {rate}/s for {seconds}s: both must be positive")
    return [i / rate for i in range(max(1, round(rate * seconds)))]


def marker_name(tag: str, seq: int) -> str:
    return f"B1 {tag} {seq}"


def parse_marker(name: str, tag: str) -> int | None:
    """The transaction a product name marks, when it is one of this run's."""
    prefix = f"B1 {tag} "
    rest = name[len(prefix) :] if name.startswith(prefix) else ""
    return int(rest) if rest.isdigit() else None


@dataclass(frozen=True)
class Commit:
    seq: int  # position in the schedule
    txid: int
    product_id: int  # the product whose name carries the marker
    at: float  # monotonic, right after COMMIT returned


class Visibility:
    """Committed transactions and when the store was first seen showing each."""

    def __init__(self) -> None:
        self.commits: list[Commit] = []
        self.visible: list[float | None] = []
        self._by_txid: dict[int, int] = {}
        self._by_product: dict[int, list[int]] = {}
        self._product_next: dict[int, int] = {}
        self._prefix = 0
        self._lock = threading.Lock()

    def committed(self, commit: Commit) -> None:
        with self._lock:
            index = len(self.commits)
            self.commits.append(commit)
            self.visible.append(None)
            self._by_txid[commit.txid] = index
            self._by_product.setdefault(commit.product_id, []).append(index)

    def watermark(self, txid: int | None, at: float) -> None:
        """The watermark names `txid`: it and every transaction committed
        before it are visible (from `at` at the latest)."""
        with self._lock:
            index = self._by_txid.get(txid) if txid is not None else None
            if index is None:
                return
            for i in range(self._prefix, index + 1):
                if self.visible[i] is None:
                    self.visible[i] = at
            self._prefix = max(self._prefix, index + 1)

    def marker(self, product_id: int, seq: int, at: float) -> None:
        """The store shows the marker of transaction `seq` on the product: it,
        and the earlier ones on that product, are visible."""
        with self._lock:
            indices = self._by_product.get(product_id, [])
            n = self._product_next.get(product_id, 0)
            while n < len(indices) and self.commits[indices[n]].seq <= seq:
                if self.visible[indices[n]] is None:
                    self.visible[indices[n]] = at
                n += 1
            self._product_next[product_id] = n

    def pending(self) -> int:
        with self._lock:
            return sum(v is None for v in self.visible)

    def latencies(self, censor_at: float) -> tuple[list[float], int]:
        """Commit-to-visible seconds per transaction in commit order; one never
        seen counts until `censor_at` (a lower bound). Also: how many those are."""
        with self._lock:
            pairs = list(zip(self.commits, self.visible, strict=True))
        unseen = sum(v is None for _, v in pairs)
        return [max(0.0, (censor_at if v is None else v) - c.at) for c, v in pairs], unseen


def lag_series(
    commits: Sequence[float],
    visible: Sequence[float | None],
    start: float,
    end: float,
    step: float = LAG_STEP_S,
) -> list[tuple[float, float]]:
    """(t - start, lag) every `step` from start to end: lag is how long the
    oldest committed, not yet visible transaction has waited at t (0 if none).
    A transaction never seen stays pending to the end."""
    order = sorted(range(len(commits)), key=lambda i: commits[i])
    pending: list[tuple[float, float]] = []  # (commit, visible) heap by commit time
    series = []
    n = 0
    for k in range(math.floor((end - start) / step) + 1):
        t = start + k * step
        while n < len(order) and commits[order[n]] <= t:
            i = order[n]
            seen = visible[i]
            heapq.heappush(pending, (commits[i], math.inf if seen is None else seen))
            n += 1
        while pending and pending[0][1] <= t:
            heapq.heappop(pending)
        series.append((round(t - start, 6), round(t - pending[0][0], 6) if pending else 0.0))
    return series


def edit(tag: str, seq: int, product_id: int) -> Body:
    """The marker rename plus one of four edits of that product, in turn: a
    price, a channel publication, a new variant with prices, the removal of a
    variant B1 added (or its rating)."""

    def body(conn: psycopg.Connection) -> None:
        conn.execute(
            "UPDATE product SET name = %s WHERE id = %s", (marker_name(tag, seq), product_id)
        )
        kind = seq % 4
        price = Decimal(100 + seq % 9000) / 100
        if kind == 0:
            conn.execute(
                "UPDATE product_variant_channel_listing SET price_amount = %s WHERE variant_id = "
                "(SELECT min(id) FROM product_variant WHERE product_id = %s)",
                (price, product_id),
            )
        elif kind == 1:
            conn.execute(
                "UPDATE product_channel_listing SET is_published = NOT is_published, "
                "publication_date = CASE WHEN is_published THEN NULL ELSE DATE '2025-06-01' END "
                "WHERE product_id = %s",
                (product_id,),
            )
        elif kind == 2:
            add_variant(conn, product_id, f"b1 {tag} {seq}", (seq % 97) / 97, price)
        else:
            row = conn.execute(
                "SELECT max(id) FROM product_variant WHERE product_id = %s AND name LIKE 'b1 %%'",
                (product_id,),
            ).fetchone()
            if row and row[0] is not None:
                delete_variant(conn, int(row[0]))
            else:
                conn.execute(
                    "UPDATE product SET rating = %s WHERE id = %s", (1 + seq % 5, product_id)
                )

    return body


def write_steady(
    settings: Settings,
    tag: str,
    rate: int,
    seconds: float,
    pool: Sequence[int],
    visibility: Visibility,
) -> float:
    """Commit the schedule's transactions until `seconds` have passed; returns
    the start (monotonic)."""
    due = schedule(rate, seconds)
    with connect_source(settings) as conn:
        start = time.monotonic()
        for seq, offset in enumerate(due):
            delay = start + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # rate shaping on the fixed schedule, not a wait for a state
            if time.monotonic() - start >= seconds:
                break
            product = pool[seq % len(pool)]
            done = commit(conn, edit(tag, seq, product))
            visibility.committed(Commit(seq, done.txid, product, done.at))
    return start


class StoreSampler:
    """Reads what the store shows: the watermark, or the pool's names."""

    def __init__(
        self, settings: Settings, pipeline: Pipeline, tag: str, pool: Sequence[int], v: Visibility
    ) -> None:
        self.conn = connect_store(settings, autocommit=True)
        schema = settings.store_schema
        self.watermark_query = watermark_txid_query(settings)
        self.names_query = (
            f"SELECT product_id, name FROM {schema}.product WHERE product_id = ANY(%s)"
        )
        self.pipeline, self.tag, self.pool, self.visibility = pipeline, tag, list(pool), v

    @property
    def interval_s(self) -> float:
        return WATERMARK_SAMPLE_S if self.pipeline.has_watermark else MARKER_SAMPLE_S

    def poll(self) -> None:
        if self.pipeline.has_watermark:
            row = self.conn.execute(self.watermark_query).fetchone()
            if row is not None:
                self.visibility.watermark(row[0], time.monotonic())
            return
        rows = self.conn.execute(self.names_query.encode(), (self.pool,)).fetchall()
        at = time.monotonic()
        for product_id, name in rows:
            seq = parse_marker(name, self.tag)
            if seq is not None:
                self.visibility.marker(product_id, seq, at)

    def close(self) -> None:
        self.conn.close()


def run_b1(
    settings: Settings,
    job: FlinkJob,
    pipeline: Pipeline,
    rate: int,
    seconds: float,
    pool: Sequence[int],
    progress: Progress,
) -> tuple[FreshnessResult, list[str]]:
    """One rate; returns the result and notes on how it deviated (achieved
    rate, transactions never seen)."""
    tag = f"r{rate}-{secrets.token_hex(3)}"
    visibility = Visibility()
    sampler = StoreSampler(settings, pipeline, tag, pool, visibility)
    drain_s = max(MIN_DRAIN_S, 2 * seconds)
    try:
        with Poller(sampler.poll, sampler.interval_s):
            with progress.step(f"{pipeline.name}: {rate} tx/s for {seconds:g}s"):
                start = write_steady(settings, tag, rate, seconds, pool, visibility)
            committed = len(visibility.commits)

            def drained() -> bool:
                check_running(job)
                return visibility.pending() == 0

            with (
                progress.step(
                    f"{pipeline.name}: until the store shows all {committed} (rate {rate})"
                ),
                contextlib.suppress(WaitTimeout),
            ):  # counted below as never seen
                wait_until(drained, timeout_s=drain_s, what="B1 drain", interval_s=0.1)
            end = time.monotonic()
    finally:
        sampler.close()
    latencies, unseen = visibility.latencies(censor_at=end)
    # The lag over the writer's window: the steady state, not the drain after it.
    lag = lag_series([c.at for c in visibility.commits], visibility.visible, start, start + seconds)
    notes = []
    achieved = committed / seconds
    if achieved < 0.95 * rate:
        notes.append(
            f"B1 {rate} tx/s: the writer achieved {achieved:.1f} tx/s ({committed} transactions "
            f"in {seconds:g} s)"
        )
    if unseen:
        notes.append(
            f"B1 {rate} tx/s: {unseen} of {committed} transactions not visible {drain_s:g} s after "
            "the writer stopped; counted with the time until then (a lower bound)"
        )
    return FreshnessResult(rate, seconds, latencies, lag), notes
