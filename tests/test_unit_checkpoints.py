"""Which retained checkpoint the job restores from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flink_jobs.checkpoints import latest_checkpoint
from tests.helpers import write_checkpoint

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
