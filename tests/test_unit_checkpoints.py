"""Which retained checkpoint, or savepoint, the job restores from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flink_jobs.checkpoints import latest_checkpoint, savepoint_after_checkpoints
from tests.helpers import write_checkpoint, write_snapshot

pytestmark = pytest.mark.unit


def test_newest_metadata_wins_not_the_directory_touched_by_a_deletion(tmp_path: Path) -> None:
    subsumed = write_checkpoint(tmp_path, "job-a", 73, 1000.0)
    newest = write_checkpoint(tmp_path, "job-a", 76, 1003.0)
    # Flink deleting the subsumed checkpoint's files touches its directory.
    (subsumed / "state-file").write_bytes(b"s")
    (subsumed / "state-file").unlink()
    os.utime(subsumed, (2000.0, 2000.0))
    assert latest_checkpoint(tmp_path) == newest


def test_a_later_job_wins_and_incomplete_checkpoints_are_ignored(tmp_path: Path) -> None:
    write_checkpoint(tmp_path, "job-a", 90, 1000.0)
    later = write_checkpoint(tmp_path, "job-b", 3, 1500.0)
    (tmp_path / "job-b" / "chk-4").mkdir()  # no _metadata: not completed
    assert latest_checkpoint(tmp_path) == later
    assert latest_checkpoint(tmp_path / "nothing") is None


def write_savepoint(root: Path, name: str, written_at: float) -> Path:
    return write_snapshot(root / name, written_at)


def test_a_job_stopped_with_a_savepoint_goes_on_from_it(tmp_path: Path) -> None:
    checkpoints, savepoints = tmp_path / "checkpoints", tmp_path / "savepoints"
    assert savepoint_after_checkpoints(checkpoints, savepoints) is None, "nothing at all"
    write_checkpoint(checkpoints, "job-a", 40, 1000.0)
    assert savepoint_after_checkpoints(checkpoints, savepoints) is None, "no savepoint"
    write_savepoint(savepoints, "savepoint-old", 900.0)
    assert savepoint_after_checkpoints(checkpoints, savepoints) is None, "checkpointed since"
    # `job stop`: the savepoint, and the stopped job's checkpoints deleted by Flink;
    # an older job's checkpoint (job-a) may still lie there.
    stopped = write_savepoint(savepoints, "savepoint-stop", 1100.0)
    assert savepoint_after_checkpoints(checkpoints, savepoints) == stopped
    write_checkpoint(checkpoints, "job-b", 1, 1200.0)
    assert savepoint_after_checkpoints(checkpoints, savepoints) is None, "resumed and checkpointed"


def test_without_checkpoints_the_newest_savepoint_is_the_restore_point(tmp_path: Path) -> None:
    write_savepoint(tmp_path / "savepoints", "savepoint-b", 300.0)
    write_savepoint(tmp_path / "savepoints", "savepoint-a", 100.0)
    (tmp_path / "savepoints" / "savepoint-c").mkdir()  # no _metadata: not completed
    found = savepoint_after_checkpoints(tmp_path / "checkpoints", tmp_path / "savepoints")
    assert found == tmp_path / "savepoints" / "savepoint-b"
