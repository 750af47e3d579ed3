"""Restarting the job from an older restore point than its newest checkpoint
(docs/restore.md): the store is then ahead of the job, and the commit stage
must skip what the store holds and apply the rest whole. Also the operator's
way: stop with a savepoint, resume from it at another parallelism.

`restore_older` is one planned fault of `catalog-view verify --restore-older
P[,P...]`: it kills the job (SIGKILL), lets the source move on, and starts it
again at parallelism P from the OLDEST checkpoint still retained, while the
checker keeps sampling.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from catalog_view.checker.fault import Fault
from catalog_view.errors import CatalogViewError
from catalog_view.stack.job import Baseline, FlinkJob
from catalog_view.stack.lifecycle import ClusterJob, local_path, resolve_target, stop
from catalog_view.waiting import WaitTimeout, wait_until
from flink_jobs.checkpoints import completed_checkpoints

# Source transactions committed between the kill and the restart, when the
# workload has that many left: the source moves on while the job is down.
SOURCE_MOVES = 10


def older_restore_point(checkpoint_dir: Path) -> Path:
    """The oldest checkpoint the newest job still retains (checkpoints of
    earlier runs stay on disk too, but are not what this restart means); an
    error unless that job retains a newer one."""
    done = completed_checkpoints(checkpoint_dir)
    same_job = [c for c in done if done and c.parent == done[-1].parent]
    if len(same_job) < 2:
        raise CatalogViewError(
            f"{checkpoint_dir}: the newest job retains {len(same_job)} completed checkpoint(s), "
            "need 2 or more to restore from an older one (raise CATALOG_VIEW_RETAINED_CHECKPOINTS)"
        )
    return same_job[0]


def _let_source_move(committed: Callable[[], int]) -> int:
    """Waits while the job is down until the source has committed
    SOURCE_MOVES more transactions; returns how many it committed."""
    before = committed()
    # A timeout: the workload ended first, the source moved on as far as it goes.
    with contextlib.suppress(WaitTimeout):
        wait_until(
            lambda: committed() >= before + SOURCE_MOVES,
            timeout_s=30,
            what=f"{SOURCE_MOVES} source commits while the job is down",
            interval_s=0.1,
        )
    return committed() - before


def restore_older(
    job: FlinkJob, parallelism: int, baseline: Baseline, committed: Callable[[], int]
) -> Fault:
    """Kill the job, let the source move on, start it from its oldest retained
    checkpoint at `parallelism`."""

    def run() -> str:
        if not job.process.kill():
            raise CatalogViewError("the job was not running: nothing to kill")
        point = older_restore_point(job.checkpoint_dir)
        started = time.monotonic()
        moved = _let_source_move(committed)
        job.start(parallelism=parallelism, baseline=baseline, restore_from=point)
        return (
            f"job killed; source moved on by {moved} commits in "
            f"{time.monotonic() - started:.1f}s; restarted at parallelism {parallelism} "
            f"from the older checkpoint {point.parent.name[:8]}/{point.name}"
        )

    return Fault("restore-older", run)


def savepoint_rescale(
    job: FlinkJob, parallelism: int, baseline: Baseline, committed: Callable[[], int]
) -> Fault:
    """Stop the job with a savepoint (`catalog-view job stop`), let the source
    move on, resume from that savepoint at `parallelism`."""

    def run() -> str:
        target = resolve_target(
            job.settings, flink="cluster" if isinstance(job, ClusterJob) else "mini"
        )
        stopped = stop(target)
        started = time.monotonic()
        moved = _let_source_move(committed)
        point = local_path(stopped.savepoint)
        job.start(parallelism=parallelism, baseline=baseline, restore_from=point)
        return (
            f"job stopped with savepoint {point.name} in {stopped.stop_s:.1f}s; source moved on "
            f"by {moved} commits in {time.monotonic() - started:.1f}s; resumed from it at "
            f"parallelism {parallelism}"
        )

    return Fault("savepoint-rescale", run)
