"""The files of one bench run under bench/results/: the JSON result, the
Markdown report and its plots; never overwriting an earlier run's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from catalog_view.bench_report.figures import (
    Percentiles,
    md_table,
    mib,
    num,
    ratio,
)
from catalog_view.bench_report.plots import PLOTS, save_plot
from catalog_view.bench_report.results import CaptureResult, optional_float
from catalog_view.bench_report.run import BenchRun


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    markdown: Path
    plots: dict[str, Path]  # plot name -> PNG

    def all(self) -> list[Path]:
        return [self.json, self.markdown, *self.plots.values()]


PLOT_TITLES = {
    "freshness": "B1 commit-to-visible latency per rate",
    "lag": "B1 lag over time per rate",
    "throughput": "B2 throughput against transaction size",
}


def write_report(run: BenchRun, out_dir: Path) -> ReportFiles:
    """Writes <date>.json, <date>.md and the PNG plots beside it into out_dir.
    <date> is the run's YYYY-MM-DD, with its time (and a counter) added when
    files of that name exist: an earlier result is never overwritten."""
    text = run.to_json()  # before anything is created: a bad result leaves nothing behind
    out_dir.mkdir(parents=True, exist_ok=True)
    for stem in _stems(run.metadata.date):
        files = _report_files(out_dir, stem)
        if any(path.exists() for path in files.all()):
            continue
        try:
            with files.json.open("x", encoding="utf-8") as out:
                out.write(text)
        except FileExistsError:  # another run took this name meanwhile
            continue
        for name, path in files.plots.items():
            save_plot(run, PLOTS[name], path)
        with files.markdown.open("x", encoding="utf-8") as out:
            out.write(render_markdown(run, files))
        return files
    raise AssertionError("unreachable: _stems never ends")


def _stems(date: datetime) -> Iterator[str]:
    yield f"{date:%Y-%m-%d}"
    timed = f"{date:%Y-%m-%d-%H%M%S}"
    yield timed
    n = 2
    while True:
        yield f"{timed}-{n}"
        n += 1


def _report_files(out_dir: Path, stem: str) -> ReportFiles:
    return ReportFiles(
        json=out_dir / f"{stem}.json",
        markdown=out_dir / f"{stem}.md",
        plots={name: out_dir / f"{stem}-{name}.png" for name in PLOT_TITLES},
    )


def render_markdown(run: BenchRun, files: ReportFiles) -> str:
    meta = run.metadata
    parts = [
        f"# catalog-view benchmark, {meta.date:%Y-%m-%d}",
        "",
        *_metadata_section(run, files),
        "## Targets",
        "",
        *md_table(
            ["target", "scenario", "rule", "measured", "status"],
            [[t.key, t.scenario, t.rule, t.measured, t.status.value] for t in run.targets()],
        ),
        *_b1_section(run, files),
        *_b2_section(run, files),
        *_b3_section(run),
        *_b4_section(run),
        *_b5_section(run),
        *_notes_section(run),
    ]
    return "\n".join(parts).rstrip("\n") + "\n"


def _section(title: str, intro: str, *body: list[str]) -> list[str]:
    """A section of the report: its title, what it measured, then tables and images."""
    return [f"## {title}", "", intro, "", *(line for part in body for line in part)]


def _image(files: ReportFiles, name: str) -> list[str]:
    return [f"![{PLOT_TITLES[name]}]({files.plots[name].name})", ""]


def _metadata_section(run: BenchRun, files: ReportFiles) -> list[str]:
    meta = run.metadata
    durations = ", ".join(f"{k} {v:,.0f} s" for k, v in meta.durations_s.items()) or "n/a"
    baselines = ", ".join(sorted(run.baselines)) or "none"
    return md_table(
        ["run", ""],
        [
            ["date", meta.date.isoformat(timespec="seconds")],
            ["git commit", meta.git_commit],
            ["scale", meta.scale],
            ["machine cores", str(meta.cores)],
            ["parallelism", str(meta.parallelism)],
            ["durations", durations],
            ["baselines", baselines],
            ["figures", f"[{files.json.name}]({files.json.name})"],
        ],
    )


def _b1_section(run: BenchRun, files: ReportFiles) -> list[str]:
    rows = []
    for rate in run.rates():
        product = run.product.freshness_at(rate)
        product_p99 = product.percentiles.p99 if product else None
        for name, pipeline in run.pipelines():
            r = pipeline.freshness_at(rate)
            p = r.percentiles if r else Percentiles(None, None, None)
            rows.append(
                [
                    str(rate),
                    name,
                    str(len(r.latencies_s)) if r else "n/a",
                    num(p.p50),
                    num(p.p95),
                    num(p.p99),
                    num(ratio(p.p99, product_p99)),
                    num(r.lag_growth_s if r else None),
                ]
            )
    header = ["tx/s", "pipeline", "samples", "p50 s", "p95 s", "p99 s", "p99 vs product"]
    return _section(
        "B1 freshness",
        "Steady rates of mixed catalog edits; latency from a source commit until the store "
        "shows it. `p99 vs product` above 1 is slower than the product; lag growth is the "
        "median lag of the last third of the run minus that of the first third.",
        md_table([*header, "lag growth s"], rows),
        _image(files, "freshness"),
        _image(files, "lag"),
    )


def _b2_section(run: BenchRun, files: ReportFiles) -> list[str]:
    rows = []
    for rows_, transactions in run.sizes():
        product = run.product.capture_of(rows_, transactions)
        for name, pipeline in run.pipelines():
            c = pipeline.capture_of(rows_, transactions)
            rows.append(
                [
                    CaptureResult(rows_, transactions).label,
                    name,
                    num(c.kafka_s if c else None),
                    num(c.store_s if c else None),
                    num(c.ratio if c else None),
                    num(c.peak_rss_mib if c else None, 0),
                    num(ratio(c.store_s if c else None, product.store_s if product else None)),
                ]
            )
    header = ["size", "pipeline", "kafka_s", "store_s", "store/kafka", "peak RSS MiB"]
    return _section(
        "B2 capture ceiling",
        "kafka_s: until Debezium has put the whole of it into Kafka; store_s: until the "
        "store's watermark names it (see the notes for baselines without a watermark).",
        md_table([*header, "store_s vs product"], rows),
        _image(files, "throughput"),
    )


def _b3_section(run: BenchRun) -> list[str]:
    b3 = run.b3
    figures = (
        (b3.snapshot_s, b3.in_db_s, b3.ratio, b3.running_s, b3.captured_s, b3.after_both_s)
        if b3
        else ()
    )
    row = [f"{b3.products:,}", *map(num, figures)] if b3 else ["not measured", *["n/a"] * 6]
    return _section(
        "B3 backfill",
        "The initial snapshot of an existing catalog against the same rows computed by the "
        "reference queries inside PostgreSQL. From the same start: running_s until every task "
        "of the job ran (PyFlink, its JVM, planning the SQL), captured_s until Debezium had "
        "put the whole snapshot into Kafka, and what the store took after both.",
        md_table(
            ["products", "snapshot_s", "in_db_s", "ratio", "running_s", "captured_s", "after both"],
            [row],
        ),
    )


def _b4_section(run: BenchRun) -> list[str]:
    b4 = run.b4
    row = [f"{b4.products:,}", num(b4.visible_s)] if b4 else ["not measured", "n/a"]
    return _section(
        "B4 fan-out",
        "Renaming a root category above N products; time until every product shows it.",
        md_table(["products", "visible_s"], [row]),
    )


def _b5_section(run: BenchRun) -> list[str]:
    b5 = run.b5
    if b5 is None:
        return ["## B5 resources", "", "Not measured in this run.", ""]
    rss = [[name, num(mib, 0)] for name, mib in sorted(b5.peak_rss_mib.items())]
    return [
        "## B5 resources",
        "",
        *md_table(["process", "peak RSS MiB"], rss or [["n/a", "n/a"]]),
        *md_table(
            ["figure", "value"],
            [
                ["checkpoint size", mib(b5.checkpoint_bytes)],
                ["store rows written", num(optional_float(b5.store_rows_written), 0)],
                ["source rows changed", num(optional_float(b5.source_rows_changed), 0)],
                ["store rows per source row", num(b5.store_rows_per_source_row)],
            ],
        ),
    ]


def _notes_section(run: BenchRun) -> list[str]:
    notes = [f"- {name}: {note}" for name, p in run.pipelines() for note in p.notes]
    return ["## Notes", "", *notes, ""] if notes else []
