"""Entry point: `python -m flink_jobs --bootstrap-servers ... --checkpoint-dir ...`.

Runs on the local mini-cluster when started with plain Python; the same module
can be submitted to a remote cluster with `flink run --python`.

Start-up: the aligned job restores from the newest retained checkpoint when
there is one (the store and the watermark then continue where they were; units
at or below the stored watermark are skipped). Otherwise it replays the
capture from the first offset into an emptied store.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from flink_jobs.checkpoints import latest_checkpoint
from flink_jobs.options import VIEWS, JobOptions, parse_options
from flink_jobs.pipeline import build_aligned, build_baseline, create_environment
from flink_jobs.sql_baseline import run_sql_baseline
from flink_jobs.store_writer import reset_store


def main(argv: Sequence[str] | None = None) -> int:
    options: JobOptions = parse_options(argv)
    if options.baseline == "sql":
        return run_sql_baseline(options)
    restore = options.restore_from
    if restore is None and not (options.baseline or options.fresh):
        restore = latest_checkpoint(options.checkpoint_dir)
    env, t_env = create_environment(options, restore)
    if options.baseline:
        build_baseline(env, t_env, options)
    else:
        build_aligned(env, t_env, options)
    if restore is None and not options.print_sink:
        reset_store(options.store_conninfo, options.store_schema, list(VIEWS))
    mode = "baseline (no alignment)" if options.baseline else "transaction-aligned"
    start = f"restoring {restore}" if restore else "replaying the capture from the start"
    print(
        f"catalog-view job: {mode}, parallelism {options.parallelism}, "
        f"{len(options.tables)} tables from {options.topic_prefix}.*, {start}",
        file=sys.stderr,
        flush=True,
    )
    env.execute("catalog-view")
    return 0
