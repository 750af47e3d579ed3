"""The plots of a bench report (matplotlib, Agg canvas: no display needed)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from catalog_view.bench_report.figures import percentiles
from catalog_view.bench_report.results import (
    CaptureResult,
    FreshnessResult,
    Measured,
    PipelineResults,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

F = TypeVar("F")


def save_plot(run: Measured, draw: Callable[[Measured, Figure], None], path: Path) -> None:
    # The Agg canvas is bound to this figure only: no pyplot, no global
    # backend, nothing left open between plots.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(layout="constrained")
    FigureCanvasAgg(figure)
    draw(run, figure)
    with path.open("xb") as out:
        figure.savefig(out, format="png", dpi=100)


def _panels(figure: Figure, count: int) -> list[Axes]:
    figure.set_size_inches(max(6.0, 4.0 * count), 3.6)
    return list(figure.subplots(1, max(1, count), squeeze=False)[0])


def _not_measured(ax: Axes) -> None:
    ax.text(0.5, 0.5, "not measured in this run", ha="center", va="center")
    ax.set_axis_off()


def _colors(run: Measured) -> dict[str, str]:
    """One colour per pipeline, the same in every plot."""
    return {name: f"C{i}" for i, (name, _) in enumerate(run.pipelines())}


def _per_rate(
    run: Measured,
    figure: Figure,
    figures_of: Callable[[FreshnessResult], Sequence[F]],
    draw: Callable[[Axes, dict[str, Sequence[F]], dict[str, str]], None],
) -> None:
    """One panel per B1 rate; `draw` gets the figures of each pipeline that
    has some at that rate, and each pipeline's colour."""
    rates = run.rates()
    colors = _colors(run)
    if not rates:
        _not_measured(_panels(figure, 1)[0])
        return
    for ax, rate in zip(_panels(figure, len(rates)), rates, strict=True):
        found = {
            name: figures
            for name, p in run.pipelines()
            if (r := p.freshness_at(rate)) and (figures := figures_of(r))
        }
        if not found:
            _not_measured(ax)
            continue
        draw(ax, found, colors)
        ax.set_title(f"{rate} tx/s")
        ax.legend(fontsize="small")


def _latency_histograms(
    ax: Axes, samples: dict[str, Sequence[float]], colors: dict[str, str]
) -> None:
    upper = max(max(s) for s in samples.values()) or 1.0
    for name, values in samples.items():
        # Shared bins, so that the pipelines' histograms compare bar by bar.
        ax.hist(
            values, bins=40, range=(0.0, upper), histtype="step", color=colors[name], label=name
        )
        p99 = percentiles(values).p99
        if p99 is not None:
            ax.axvline(p99, color=colors[name], linestyle=":", label=f"{name} p99")
    ax.set_xlabel("commit to visible (s)")
    ax.set_ylabel("transactions")


def _lag_lines(
    ax: Axes, series: dict[str, Sequence[tuple[float, float]]], colors: dict[str, str]
) -> None:
    for name, points in series.items():
        ax.plot(*_xy(points), color=colors[name], label=name)
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("lag (s)")
    ax.set_ylim(bottom=0)


def _plot_freshness(run: Measured, figure: Figure) -> None:
    _per_rate(run, figure, lambda r: r.latencies_s, _latency_histograms)


def _plot_lag(run: Measured, figure: Figure) -> None:
    _per_rate(run, figure, lambda r: r.lag_series, _lag_lines)


def _plot_throughput(run: Measured, figure: Figure) -> None:
    (ax,) = _panels(figure, 1)
    colors = _colors(run)
    drawn = False
    for name, pipeline in run.pipelines():
        single = _points(pipeline, lambda c: c.transactions == 1, lambda c: c.store_rows_per_s)
        if single:
            ax.plot(*_xy(single), marker="o", color=colors[name], label=name)
        burst = _points(pipeline, lambda c: c.transactions > 1, lambda c: c.store_rows_per_s)
        if burst:
            ax.scatter(*_xy(burst), marker="s", color=colors[name], label=f"{name}, burst")
        drawn = drawn or bool(single or burst)
    capture = next(
        (
            points
            for _, p in run.pipelines()
            if (points := _points(p, lambda c: c.transactions == 1, lambda c: c.kafka_rows_per_s))
        ),
        [],
    )
    if capture:
        ax.plot(*_xy(capture), linestyle="--", color="grey", label="Kafka capture (reference)")
    if not (drawn or capture):
        _not_measured(ax)
        return
    ax.set_xscale("log")
    ax.set_xlabel("rows in the transaction (burst of single-row tx: in all)")
    ax.set_ylabel("rows/s until visible")
    ax.set_title("throughput against size")
    ax.legend(fontsize="small")


def _points(
    pipeline: PipelineResults,
    keep: Callable[[CaptureResult], bool],
    figure: Callable[[CaptureResult], float | None],
) -> list[tuple[float, float]]:
    points = [(float(c.rows), figure(c)) for c in pipeline.b2 if keep(c)]
    return sorted((x, y) for x, y in points if y is not None)


def _xy(points: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
    return [x for x, _ in points], [y for _, y in points]


PLOTS: dict[str, Callable[[Measured, Figure], None]] = {
    "freshness": _plot_freshness,
    "lag": _plot_lag,
    "throughput": _plot_throughput,
}
