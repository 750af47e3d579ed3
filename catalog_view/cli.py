"""The `catalog-view` command: stack, connector, seed, demo.

Every error of ours (CatalogViewError) is printed as one clear message and
exits with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict

from catalog_view.errors import CatalogViewError
from catalog_view.logs import configure as configure_logging
from catalog_view.settings import load_settings

log = logging.getLogger(__name__)


def _cmd_stack(args: argparse.Namespace) -> int:
    from catalog_view.stack.local import LocalStack, ensure_secrets

    stack = LocalStack(load_settings())
    if args.action == "up":
        stack.up(with_job=not args.no_job, flink=args.flink)
        _print_status(stack, as_json=False)
    elif args.action == "down":
        stopped = stack.down()
        print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
        if args.purge:
            shutil.rmtree(stack.settings.data_dir, ignore_errors=True)
            print(f"removed {stack.settings.data_dir}")
    elif args.action == "status":
        stack.settings = (
            ensure_secrets(stack.settings) if stack.settings.data_dir.exists() else stack.settings
        )
        code = _print_status(stack, as_json=args.json)
        return code if args.check else 0
    return 0


def _print_status(stack: object, *, as_json: bool) -> int:
    from catalog_view.stack.local import LocalStack

    assert isinstance(stack, LocalStack)
    rows = stack.status()
    if as_json:
        print(json.dumps([asdict(r) for r in rows]))
    else:
        for r in rows:
            print(f"{r.name:<16} {r.state:<10} {r.version:<14} {r.detail}")
    healthy = {"healthy", "running", "fresh", "catching-up"}
    return 0 if all(r.state in healthy for r in rows) else 1


def _cmd_bootstrap(args: argparse.Namespace) -> int:
    from catalog_view.stack.postgres import PostgresCluster
    from connectors.topics import ensure_topics

    settings = load_settings()
    for finding in PostgresCluster(settings).bootstrap():
        log.warning("source check: %s", finding)
    topics = ensure_topics(settings)
    names = ", ".join(sorted(topics))
    print(f"bootstrapped {settings.admin_db}, {settings.store_db}; topics: {names}")
    return 0


def _cmd_source(args: argparse.Namespace) -> int:
    from catalog_view.source_setup import check_source, prepare_source

    settings = load_settings()
    if args.action == "prepare":
        applied = prepare_source(settings)
        for statement in applied:
            print(f"applied: {statement}")
        print(f"source ready ({len(applied)} change(s))")
        return 0
    findings = check_source(settings)
    for finding in findings:
        print(f"needs: {finding}")
    where = f"{settings.admin_db} at {settings.pg_host}:{settings.pg_port}"
    print(f"source {where}: " + ("ready" if not findings else f"{len(findings)} finding(s)"))
    return 1 if findings else 0


def _cmd_jars(args: argparse.Namespace) -> int:
    from catalog_view.stack import jars

    jars.resolve_all()
    for component in jars.COMPONENTS:
        print(f"{component:<10} {jars.component_dir(component)}")
    return 0


def _cmd_connector(args: argparse.Namespace) -> int:
    from connectors.register import ConnectClient, register
    from connectors.render import render_source_connector

    settings = load_settings()
    config = render_source_connector(settings)
    if args.action == "render":
        print(json.dumps(config, indent=2, sort_keys=True))
    elif args.action == "register":
        status = register(settings, config)
        print(f"{status.name}: {status.connector_state} tasks={list(status.task_states)}")
    elif args.action == "status":
        current = ConnectClient(settings.connect_endpoint).status(settings.connector_name)
        print(json.dumps(asdict(current) if current else None))
    return 0


def _cmd_seed(args: argparse.Namespace) -> int:
    from catalog_view.catalog.seeded import seed_catalog

    report = seed_catalog(
        load_settings(), args.products, args.seed, reset=args.reset, append=args.append
    )
    print(
        f"seeded {report.total} rows (seed {args.seed}): "
        + ", ".join(f"{t}={n}" for t, n in report.rows.items())
    )
    return 0


def _cmd_resnapshot(args: argparse.Namespace) -> int:
    from catalog_view.stack.capture import resnapshot

    resnapshot(load_settings(), parallelism=args.parallelism)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from catalog_view.demo import run_demo

    code: int = run_demo(load_settings(), products=args.products, seed=args.seed, keep=args.keep)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="catalog-view", description=__doc__)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log diagnostics (DEBUG) on stderr too"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    stack = sub.add_parser("stack", help="the embedded local stack")
    stack.add_argument("action", choices=("up", "down", "status"))
    stack.add_argument("--no-job", action="store_true", help="up: do not start the Flink job")
    stack.add_argument(
        "--flink",
        choices=("mini", "cluster"),
        default=None,
        help="up: run the job on the local mini-cluster (default) or on a standalone session "
        "cluster of one JobManager and CATALOG_VIEW_FLINK_TASKMANAGERS TaskManagers",
    )
    stack.add_argument("--purge", action="store_true", help="down: also delete the data directory")
    stack.add_argument("--json", action="store_true", help="status: one JSON array")
    stack.add_argument(
        "--check",
        action="store_true",
        help="status: exit 1 unless every component is healthy and the store is not stalled",
    )
    stack.set_defaults(func=_cmd_stack)

    bootstrap = sub.add_parser(
        "bootstrap",
        help="roles, databases, schemas, publication and topics on a running PostgreSQL and Kafka",
    )
    bootstrap.set_defaults(func=_cmd_bootstrap)

    source = sub.add_parser(
        "source",
        help="check the source database for capture, or prepare it (inspects first, changes "
        "only what differs; never run implicitly)",
    )
    source.add_argument("action", choices=("check", "prepare"))
    source.set_defaults(func=_cmd_source)

    jars = sub.add_parser("jars", help="resolve the stack's jars from Maven Central")
    jars.set_defaults(func=_cmd_jars)

    connector = sub.add_parser("connector", help="the Debezium source connector")
    connector.add_argument("action", choices=("render", "register", "status"))
    connector.set_defaults(func=_cmd_connector)

    seed = sub.add_parser("seed", help="fill the admin database with a reproducible catalog")
    seed.add_argument("--products", type=int, default=100)
    seed.add_argument("--seed", type=int, default=42)
    seed.add_argument("--reset", action="store_true", help="delete the existing catalog first")
    seed.add_argument("--append", action="store_true", help="add to an existing catalog")
    seed.set_defaults(func=_cmd_seed)

    again = sub.add_parser(
        "resnapshot",
        help="take a new initial snapshot of the source into the store (after a TRUNCATE, "
        "or a connector that lost its offsets)",
    )
    again.add_argument("--parallelism", type=int, default=None, help="of the restarted job")
    again.set_defaults(func=_cmd_resnapshot)

    from catalog_view.checker.command import add_verify_command

    add_verify_command(sub)

    from catalog_view.job_command import add_job_command

    add_job_command(sub)

    from catalog_view.bench.command import add_bench_command

    add_bench_command(sub)

    demo = sub.add_parser("demo", help="run the main job end to end on the local stack")
    demo.add_argument("--products", type=int, default=20)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(verbose=args.verbose)
    try:
        result: int = args.func(args)
        return result
    except CatalogViewError as exc:
        print(f"catalog-view: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
