"""`catalog-view bench` (`make bench`, `make bench-full`): scenarios B1-B5 on
the embedded stack, the product beside baseline pipelines run in the same
run; the report goes to bench/results/<date>.{json,md,png}.

B1 freshness   steady rates of small mixed edits: commit-to-visible p50/p95/p99
               and the lag over time, per rate
B2 capture     one transaction of N rows, and a burst of K single-row
               transactions: until whole in Kafka, until the store shows it,
               their ratio, the job's peak memory
B3 backfill    a catalog of N products captured by a new initial snapshot,
               against the same rows computed inside PostgreSQL
B4 fan-out     renaming a root category above N products: until all show it
B5 resources   peak memory per component, checkpoint size, store rows written
               per source row changed

Baselines run B1 and B2. Progress goes to stderr; the stack is started if it
is not running, and the job is left stopped.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from catalog_view.bench.options import SCALES, SCENARIOS, BenchOptions
from catalog_view.errors import CatalogViewError


class BenchUsageError(CatalogViewError):
    pass


def parse_counts(text: str, flag: str, minimum: int = 1) -> tuple[int, ...]:
    """Comma-separated positive integers; "none" or "" for none."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        values = tuple(int(part.replace("_", "")) for part in text.split(","))
    except ValueError:
        raise BenchUsageError(f"{flag} {text!r}: expected comma-separated integers") from None
    if min(values) < minimum:
        raise BenchUsageError(f"{flag} {text!r}: every value must be >= {minimum}")
    if len(set(values)) != len(values):
        raise BenchUsageError(f"{flag} {text!r}: a value is repeated")
    return tuple(sorted(values))


def parse_names(text: str, flag: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated names out of `allowed`, in `allowed`'s order; "none" for none."""
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    if names == ["none"]:
        return ()
    unknown = sorted(set(names) - set(allowed))
    if unknown or not names:
        raise BenchUsageError(
            f"{flag} {text!r}: expected some of {', '.join(allowed)} (comma-separated) or none"
        )
    return tuple(n for n in allowed if n in names)


# The honest baseline, what a Flink user writes today; the Python row-by-row
# baseline is there on demand (--baselines sql,python).
DEFAULT_BASELINES = ("sql",)


def options_from_args(args: argparse.Namespace, baselines: tuple[str, ...]) -> BenchOptions:
    """The options of a run; `baselines`: the names the runner knows."""
    scale = SCALES[args.scale]
    overrides: dict[str, Any] = {}
    if args.rates is not None:
        overrides["rates"] = parse_counts(args.rates, "--rates")
    if args.b1_seconds is not None:
        if args.b1_seconds <= 0:
            raise BenchUsageError(f"--b1-seconds must be > 0, got {args.b1_seconds}")
        overrides["b1_seconds"] = float(args.b1_seconds)
    if args.sizes is not None:
        overrides["sizes"] = parse_counts(args.sizes, "--sizes")
    for name in ("burst", "b3_products", "b4_products", "products"):
        value = getattr(args, name)
        if value is not None:
            if value < (0 if name == "burst" else 1):
                raise BenchUsageError(f"--{name.replace('_', '-')} is out of range: {value}")
            overrides[name] = value
    scenarios = parse_names(args.only, "--only", SCENARIOS) if args.only else SCENARIOS
    if scenarios == ("b5",):
        raise BenchUsageError("--only b5: B5 is measured while b1, b2 or b4 run; add one of them")
    if not scenarios:
        raise BenchUsageError("--only none: nothing to run")
    chosen = (
        tuple(b for b in DEFAULT_BASELINES if b in baselines)
        if args.baselines is None
        else parse_names(args.baselines, "--baselines", baselines)
    )
    if args.parallelism < 1:
        raise BenchUsageError(f"--parallelism must be >= 1, got {args.parallelism}")
    return BenchOptions(
        scale_name=args.scale,
        scale=replace(scale, **overrides),
        scenarios=scenarios,
        baselines=chosen,
        parallelism=args.parallelism,
        seed=args.seed,
        json=args.json,
    )


def add_bench_command(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="run the benchmark scenarios B1-B5 and write a report (make bench)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--only", help="scenarios to run, e.g. b1,b2 (default: all)")
    parser.add_argument(
        "--baselines",
        help="baseline pipelines for B1 and B2: sql, python, both (sql,python) or none "
        "(default: sql)",
    )
    parser.add_argument("--rates", help="B1 rates in tx/s, e.g. 20,50,100,200")
    parser.add_argument("--b1-seconds", type=float, help="B1 seconds per rate")
    parser.add_argument("--sizes", help="B2 rows of each single transaction, e.g. 10000,100000")
    parser.add_argument(
        "--burst", type=int, help="B2 single-row transactions in the burst (0: none)"
    )
    parser.add_argument("--b3-products", type=int, help="B3 products in the snapshot")
    parser.add_argument("--b4-products", type=int, help="B4 products beneath the root")
    parser.add_argument("--products", type=int, help="products of the catalog B1, B2, B4 run on")
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7, help="of the seeded catalogs")
    parser.add_argument("--json", action="store_true", help="also print the report's JSON")
    parser.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from catalog_view.bench.pipelines import BASELINES
    from catalog_view.bench.runner import run_and_report
    from catalog_view.settings import load_settings

    options = options_from_args(args, tuple(BASELINES))
    return run_and_report(load_settings(), options)
