"""Which retained checkpoint the job restores from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flink_jobs.main import latest_checkpoint

pytestmark = pytest.mark.unit


def _checkpoint(root: Path, job: str, number: int, written_at: float) -> Path:
    directory = root / job / f"chk-{number}"
    directory.mkdir(parents=True)
    metadata = directory / "_metadata"
    metadata.write_bytes(b"m")
    os.utime(metadata, (written_at, written_at))
    return directory


def test_newest_metadata_wins_not_the_directory_touched_by_a_deletion(tmp_path: Path) -> None:
    subsumed = _checkpoint(tmp_path, "job-a", 73, 1000.0)
    newest = _checkpoint(tmp_path, "job-a", 76, 1003.0)
    # Flink deleting the subsumed checkpoint's files touches its directory.
    (subsumed / "state-file").write_bytes(b"s")
    (subsumed / "state-file").unlink()
    os.utime(subsumed, (2000.0, 2000.0))
    assert latest_checkpoint(tmp_path) == newest


def test_a_later_job_wins_and_incomplete_checkpoints_are_ignored(tmp_path: Path) -> None:
    _checkpoint(tmp_path, "job-a", 90, 1000.0)
    later = _checkpoint(tmp_path, "job-b", 3, 1500.0)
    (tmp_path / "job-b" / "chk-4").mkdir()  # no _metadata: not completed
    assert latest_checkpoint(tmp_path) == later
    assert latest_checkpoint(tmp_path / "nothing") is None
