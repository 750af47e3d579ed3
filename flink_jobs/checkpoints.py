"""The job's retained checkpoints and its savepoints on disk, in the order
they completed (no PyFlink import: the operator's tools choose restore points
with it too)."""

from __future__ import annotations

from pathlib import Path


def completed_checkpoints(checkpoint_dir: Path) -> list[Path]:
    """Completed checkpoints (chk-N with _metadata) under the directory, oldest first.

    Ordered by the time its _metadata was written, then by checkpoint number;
    never by the directory's own mtime: deleting the files of a subsumed
    checkpoint touches its directory, and that half-deleted checkpoint would
    look newest (a restore from it fails on a missing state file)."""

    def written(metadata: Path) -> tuple[float, int]:
        number = metadata.parent.name.removeprefix("chk-")
        return metadata.stat().st_mtime, int(number) if number.isdigit() else -1

    return [m.parent for m in sorted(checkpoint_dir.glob("*/chk-*/_metadata"), key=written)]


def latest_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The newest completed checkpoint, or None."""
    done = completed_checkpoints(checkpoint_dir)
    return done[-1] if done else None


def _written(metadata: Path) -> float:
    return metadata.stat().st_mtime


def completed_savepoints(savepoint_dir: Path) -> list[Path]:
    """Savepoints (savepoint-* with _metadata) under the directory, oldest first."""
    return [m.parent for m in sorted(savepoint_dir.glob("savepoint-*/_metadata"), key=_written)]


def savepoint_after_checkpoints(checkpoint_dir: Path, savepoint_dir: Path) -> Path | None:
    """The newest savepoint if it was written after every retained checkpoint, else None.

    A stop-with-savepoint finishes the job, and Flink deletes a finished job's
    checkpoints: the savepoint is then where the job stopped, and a start that
    looked only at checkpoints would replay the capture into an emptied store
    (or restore an older job's checkpoint)."""
    savepoints = completed_savepoints(savepoint_dir)
    if not savepoints:
        return None
    newest = savepoints[-1]
    checkpoint = latest_checkpoint(checkpoint_dir)
    if checkpoint is not None and _written(checkpoint / "_metadata") >= _written(
        newest / "_metadata"
    ):
        return None
    return newest
