"""Entry point: `python -m flink_jobs --bootstrap-servers ... --checkpoint-dir ...`.

Runs on the local mini-cluster when started with plain Python; the same module
can be submitted to a remote cluster with `flink run --python`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from flink_jobs.options import VIEWS, parse_options
from flink_jobs.pipeline import build, create_environment
from flink_jobs.store_writer import reset_store


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    env, t_env = create_environment(options)
    build(env, t_env, options)
    if not options.print_sink:
        # The job replays the topics from the beginning (see pipeline.kafka_source).
        reset_store(options.store_conninfo, options.store_schema, list(VIEWS))
    print(
        f"catalog-view job: parallelism {options.parallelism}, "
        f"{len(options.tables)} tables from {options.topic_prefix}.*",
        file=sys.stderr,
        flush=True,
    )
    env.execute("catalog-view")
    return 0
