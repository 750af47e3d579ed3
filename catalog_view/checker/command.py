"""`catalog-view verify`: the command line of the checker (its options are
VerifyOptions' fields, catalog_view.checker.options)."""

from __future__ import annotations

import argparse
import random
from typing import Any

from catalog_view.checker import verify
from catalog_view.checker.draws import Scale
from catalog_view.checker.options import VerifyOptions
from catalog_view.checker.verify import run_verify
from catalog_view.cli_options import add_fields, values_from_args
from catalog_view.settings import load_settings


def add_verify_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `catalog-view verify` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="drive a workload and judge the store against the reference queries",
        description=verify.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_fields(parser, VerifyOptions)
    add_fields(parser, Scale)
    parser.add_argument(
        "--full-scale",
        action="store_true",
        help="the design's sizes: 12k-row bulk imports, 3000-product fan-out, 40 kB TOASTed text",
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.set_defaults(func=cmd_verify)
    return parser


def options_from_args(args: argparse.Namespace, seed: int) -> VerifyOptions:
    scale = Scale.full() if args.full_scale else Scale(**values_from_args(Scale, args))
    values = {**values_from_args(VerifyOptions, args), "seed": seed, "scale": scale}
    return VerifyOptions(**values)


def cmd_verify(args: argparse.Namespace) -> int:
    """Print the report (JSON as the last line with --json); 0 only on a pass."""
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    options = options_from_args(args, seed)
    options.validate()
    print(f"verify: seed {seed}", flush=True)
    report = run_verify(load_settings(), options)
    for line in report.lines():
        print(line)
    if args.json:
        print(report.to_json())
    return 0 if report.passed else 1
