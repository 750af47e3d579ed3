"""Background processes with a pid file, so that `down` stops exactly what `up`
started (by pid, process group included) and `status` can tell who is alive."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from catalog_view.waiting import WaitTimeout, wait_until

log = logging.getLogger(__name__)


def pid_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not; one that is our child is reaped)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        done = 0  # not our child: its parent reaps it
    if done == pid:
        return False
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def group_members(pgid: int) -> Iterator[int]:
    """Pids of the live (not zombie) processes of a process group."""
    pid_alive(pgid)  # reaps the leader if it is our child
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                yield process.pid
        except (ProcessLookupError, psutil.Error):
            continue  # exited meanwhile


def group_alive(pgid: int) -> bool:
    return next(group_members(pgid), None) is not None


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of a whole process group (JVM and Python workers)."""
    total = 0
    for pid in group_members(pgid):
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.Error:
            continue  # exited meanwhile
    return total


@dataclass(frozen=True)
class ManagedProcess:
    """A long-running process started by us, tracked by `<run_dir>/<name>.pid`."""

    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @classmethod
    def of(cls, name: str, data_dir: Path) -> ManagedProcess:
        """A component of the stack in `data_dir`: pid files in run/, logs in logs/."""
        return cls(name, data_dir / "run", data_dir / "logs")

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def start(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> int:
        """Start unless already running; returns the pid either way."""
        running = self.pid()
        if running is not None:
            return running
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log.debug("%s: starting %s (log: %s)", self.name, " ".join(argv), self.log_file)
        with self.log_file.open("ab") as output:
            proc = subprocess.Popen(
                list(argv),
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                # Own process group: stop() can signal the whole tree.
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        return proc.pid

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM the process group, SIGKILL after the timeout. True if it ran."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        self._signal(pid, signal.SIGTERM)
        # The whole group: a child (the job's JVM) may outlive its parent and
        # still write checkpoints while a successor starts.
        try:
            wait_until(lambda: not group_alive(pid), timeout_s=timeout_s, what=f"{self.name} exit")
        except WaitTimeout:
            self._signal(pid, signal.SIGKILL)
            wait_until(lambda: not group_alive(pid), timeout_s=10, what=f"{self.name} killed")
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self, timeout_s: float = 30.0) -> bool:
        """SIGKILL the whole process group at once: a crash, no clean shutdown.
        Returns once no process of the group is left. True if it ran."""
        pid = self.pid()
        if pid is None:
            return False
        self._signal(pid, signal.SIGKILL)
        wait_until(lambda: not group_alive(pid), timeout_s=timeout_s, what=f"{self.name} killed")
        self.pid_file.unlink(missing_ok=True)
        return True

    @staticmethod
    def _signal(pid: int, sig: signal.Signals) -> None:
        log.debug("%s to process group %d", sig.name, pid)
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(pid, sig)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
