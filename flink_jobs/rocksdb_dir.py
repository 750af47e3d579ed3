"""The local job's RocksDB working directory: one per job process, under a
short common root, and the directories of dead job processes removed.

RocksDB keeps each operator instance's files under its working directory
until the job closes it; a job killed with SIGKILL (a crash, a CI timeout, a
test's hard restart) never does, and its instances stayed there (gigabytes
after a day of tests). Naming the directory after the job's pid lets the next
start tell the leftovers of dead jobs from the files of jobs still running.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def _alive(pid: int) -> bool:
    # The standard library's probe, not psutil: flink_jobs installs nothing
    # beyond PyFlink where the job is submitted.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def claim_working_dir(root: Path, pid: int) -> Path:
    """Creates root/<pid> (and its log/) and removes root/<other pid> of dead processes."""
    root.mkdir(parents=True, exist_ok=True)
    for entry in root.iterdir():
        job_pid = int(entry.name) if entry.is_dir() and entry.name.isdigit() else None
        if job_pid is not None and job_pid != pid and not _alive(job_pid):
            shutil.rmtree(entry, ignore_errors=True)
    mine = root / str(pid)
    (mine / "log").mkdir(parents=True, exist_ok=True)
    return mine
