"""Resuming from an older restore point while the store is ahead
(docs/restore.md): the job is killed, the source moves on, and the job starts
again at another parallelism from its OLDEST retained checkpoint. The commit
stage must skip what the store holds and apply the rest in whole units; the
checker samples throughout and must see no state the source did not have.

Driven with what the job has (`python -m flink_jobs --restore-from`), through
`catalog-view verify --restore-older P`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_view.checker.draws import Scale
from catalog_view.checker.options import VerifyOptions
from catalog_view.checker.verify import run_verify
from catalog_view.reference import converged
from catalog_view.settings import Settings
from catalog_view.stack.job import wrote_since
from catalog_view.stack.local import LocalStack
from catalog_view.waiting import wait_until

pytestmark = pytest.mark.e2e

SMALL = Scale(bulk_rows=500, fan_out_products=100, toast_bytes=4096)


@pytest.fixture
def checker_settings(stack: LocalStack) -> Iterator[Settings]:
    """More retained checkpoints, so the oldest is well behind the store; the
    session job is back (fresh) when the test ends."""
    try:
        yield stack.settings.model_copy(update={"retained_checkpoints": 10})
    finally:
        since = stack.job.restart(fresh=True)
        wait_until(
            lambda: wrote_since(stack.settings, since) and converged(stack.settings),
            timeout_s=600,
            what="session job back and store == reference",
            interval_s=1.0,
        )


def _job_log(settings: Settings) -> str:
    logs = sorted((settings.data_dir / "logs" / "flink").glob("*.log"))
    logs += [settings.data_dir / "logs" / "flink-job.log"]
    return "\n".join(p.read_text(errors="replace") for p in logs if Path(p).is_file())


def test_resume_from_an_older_checkpoint_at_another_parallelism(
    checker_settings: Settings,
) -> None:
    options = VerifyOptions(
        transactions=120,
        parallelism=2,
        seed=20261129,
        products=20,
        scale=SMALL,
        ensure_stack=False,
        restore_older_parallelisms=(1,),
        rate=3.0,  # about 40 s of workload: checkpoints pile up before the restore point
    )
    report = run_verify(checker_settings, options)
    print("\n".join(report.lines()))
    assert [f.split(" ")[0] for f in report.faults] == ["restore-older"], report.faults
    assert "from the older checkpoint" in report.faults[0]
    assert report.observations > 0
    assert report.violations == 0, report.violation_examples
    assert report.final_equal, report.final_difference
    log = _job_log(checker_settings)
    for line in log.splitlines():
        if "the replay is cut there" in line or "held for the restore cut" in line:
            print(line)
    print(f"units skipped after restores: {log.count('skipping replayed unit')}")
    # The store was ahead of the restore point: the replay below it was skipped
    # and cut at its watermark.
    assert "skipping replayed unit" in log
    assert "the replay is cut there" in log
    assert "refusing unit" not in log


def test_stop_with_savepoint_and_resume_at_another_parallelism(
    checker_settings: Settings,
) -> None:
    """`catalog-view job rescale`'s way, under the checker: stop with a
    savepoint at parallelism 2, let the source move on, resume from the
    savepoint at parallelism 4."""
    options = VerifyOptions(
        transactions=120,
        parallelism=2,
        seed=20261130,
        products=20,
        scale=SMALL,
        ensure_stack=False,
        savepoint_parallelisms=(4,),
        rate=3.0,
    )
    report = run_verify(checker_settings, options)
    print("\n".join(report.lines()))
    assert [f.split(" ")[0] for f in report.faults] == ["savepoint-rescale"], report.faults
    assert "resumed from it at parallelism 4" in report.faults[0]
    assert report.observations > 0
    assert report.violations == 0, report.violation_examples
    assert report.final_equal, report.final_difference
    assert "refusing unit" not in _job_log(checker_settings)
