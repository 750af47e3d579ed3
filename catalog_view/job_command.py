"""`catalog-view job submit | status | stop | resume | rescale`: the job's
lifecycle on the local cluster, a remote cluster (--rest-address) or the
local mini-cluster (catalog_view/stack/lifecycle.py)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from catalog_view.settings import load_settings


def _target(args: argparse.Namespace) -> Any:
    from catalog_view.stack.lifecycle import resolve_target

    return resolve_target(load_settings(), rest_address=args.rest_address, flink=args.flink)


def _print_submitted(verb: str, submitted: Any) -> None:
    restored = f" from {submitted.restored_from}" if submitted.restored_from else ""
    print(
        f"{verb} job {submitted.job_id} at parallelism {submitted.parallelism}{restored}: "
        f"accepted after {submitted.submit_s:.1f}s, every task running after "
        f"{submitted.running_s:.1f}s"
    )


def _print_stopped(stopped: Any) -> None:
    print(f"stopped job {stopped.job_id} in {stopped.stop_s:.1f}s; savepoint {stopped.savepoint}")


def _cmd_job(args: argparse.Namespace) -> int:
    from catalog_view.stack import lifecycle

    target = _target(args)
    if args.action == "submit":
        _print_submitted(
            "submitted",
            lifecycle.submit(
                target, parallelism=args.parallelism, fresh=args.fresh, timeout_s=args.timeout
            ),
        )
    elif args.action == "status":
        from catalog_view.stack.job_report import job_report

        report = job_report(target)
        if args.json:
            print(json.dumps(report.to_json(), sort_keys=True))
        else:
            print("\n".join(report.lines()))
        return 0 if report.running else 1
    elif args.action == "stop":
        _print_stopped(lifecycle.stop(target, timeout_s=args.timeout))
    elif args.action == "resume":
        _print_submitted(
            "resumed",
            lifecycle.resume(
                target,
                savepoint=args.savepoint,
                parallelism=args.parallelism,
                timeout_s=args.timeout,
            ),
        )
    elif args.action == "rescale":
        stopped, resumed = lifecycle.rescale(target, args.to, timeout_s=args.timeout)
        _print_stopped(stopped)
        _print_submitted("resumed", resumed)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_job_command(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "job",
        help="the Flink job's lifecycle: submit, status, stop (with a savepoint), resume, rescale",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--rest-address",
        default=None,
        help="a remote cluster's REST address, http://host:port (default: "
        "CATALOG_VIEW_FLINK_REST_ADDRESS, else the local cluster when it runs, else the "
        "local mini-cluster)",
    )
    common.add_argument(
        "--flink",
        choices=("mini", "cluster"),
        default=None,
        help="the local mini-cluster process or the local session cluster",
    )
    common.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for Flink (default 300)"
    )
    submit = actions.add_parser(
        "submit", parents=[common], help="start the job (restores its newest retained checkpoint)"
    )
    submit.add_argument("--parallelism", type=_positive, default=None)
    submit.add_argument(
        "--fresh",
        action="store_true",
        help="ignore retained checkpoints: replay into an emptied store",
    )
    status = actions.add_parser(
        "status", parents=[common], help="state, checkpoint, restarts, backpressure, watermark"
    )
    status.add_argument("--json", action="store_true")
    actions.add_parser("stop", parents=[common], help="stop with a savepoint")
    resume = actions.add_parser(
        "resume", parents=[common], help="start from a savepoint (the newest one by default)"
    )
    resume.add_argument("--from", dest="savepoint", default=None, help="a savepoint directory")
    resume.add_argument("--parallelism", type=_positive, default=None)
    rescale = actions.add_parser(
        "rescale", parents=[common], help="stop with a savepoint and resume at parallelism P"
    )
    rescale.add_argument("to", type=_positive, metavar="P")
    parser.set_defaults(func=_cmd_job)
    return parser
