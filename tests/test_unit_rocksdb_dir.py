"""The local job's RocksDB directory: its own per process, dead jobs' leftovers removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flink_jobs.rocksdb_dir import claim_working_dir

pytestmark = pytest.mark.unit


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_claims_a_directory_per_process_and_removes_dead_jobs_leftovers(tmp_path: Path) -> None:
    root = tmp_path / "cv-rocksdb"
    leftover = root / str(dead_pid()) / "job_x_op_y"
    leftover.mkdir(parents=True)
    (leftover / "000001.sst").write_bytes(b"x")
    alive = root / str(os.getppid())  # a running process: another job's files stay
    alive.mkdir()
    stranger = root / "notes"  # not a job directory: left alone
    stranger.mkdir()

    mine = claim_working_dir(root, os.getpid())

    assert mine == root / str(os.getpid())
    assert (mine / "log").is_dir()
    assert not leftover.parent.exists()
    assert alive.is_dir() and stranger.is_dir()


def test_a_restart_in_the_same_process_keeps_its_own_directory(tmp_path: Path) -> None:
    root = tmp_path / "cv-rocksdb"
    first = claim_working_dir(root, os.getpid())
    (first / "state").mkdir()
    assert claim_working_dir(root, os.getpid()) == first
    assert (first / "state").is_dir()
