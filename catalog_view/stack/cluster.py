"""A standalone Flink session cluster from the PyFlink wheel's distribution,
without Docker: one JobManager and `flink_taskmanagers` TaskManagers, each a
process of ours (pid file, own log directory, own ports), all state under
<data_dir>/flink-cluster. `catalog-view stack up --flink cluster` starts it;
the job is then submitted to it (catalog_view/stack/lifecycle.py).

The state backend is the mini-cluster job's: RocksDB with incremental
checkpoints, managed memory per TaskManager as the local job has in all,
the same short RocksDB working directory. Checkpoints go where the local job
keeps them (<data_dir>/flink/checkpoints), savepoints to
<data_dir>/flink/savepoints.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from catalog_view.errors import StackError
from catalog_view.settings import Settings
from catalog_view.stack.flink_rest import FlinkRest, FlinkRestError
from catalog_view.stack.process import ManagedProcess
from catalog_view.stack.status import ComponentStatus
from catalog_view.waiting import WaitTimeout, wait_until

HOST = "127.0.0.1"
PROMETHEUS_FACTORY = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"


def flink_home() -> Path:
    """Flink's distribution inside the PyFlink wheel (bin/, lib/, opt/, conf/)."""
    spec = importlib.util.find_spec("pyflink")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("PyFlink is not installed: run `make setup` (apache-flink in .venv)")
    home = Path(next(iter(spec.submodule_search_locations)))
    if not (home / "bin" / "jobmanager.sh").is_file():
        raise StackError(f"{home} has no bin/jobmanager.sh: the apache-flink wheel is incomplete")
    return home


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flink's nested config.yaml as flat keys (a.b.c), which Flink reads too."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


@dataclass(frozen=True)
class FlinkCluster:
    settings: Settings

    @property
    def root(self) -> Path:
        return self.settings.data_dir / "flink-cluster"

    @property
    def checkpoint_root(self) -> Path:
        # Where the mini-cluster job keeps its checkpoints (FlinkJob.checkpoint_root):
        # the job can move between the two and restore either way.
        return self.settings.data_dir / "flink" / "checkpoints"

    @property
    def savepoint_dir(self) -> Path:
        return self.settings.data_dir / "flink" / "savepoints"

    @property
    def rest_url(self) -> str:
        return f"http://{HOST}:{self.settings.flink_rest_port}"

    @property
    def rest(self) -> FlinkRest:
        return FlinkRest(self.rest_url)

    @property
    def names(self) -> list[str]:
        count = self.settings.flink_taskmanagers
        return ["jobmanager", *(f"taskmanager-{i}" for i in range(1, count + 1))]

    def process(self, name: str) -> ManagedProcess:
        return ManagedProcess(
            f"flink-{name}", self.settings.data_dir / "run", self.settings.data_dir / "logs"
        )

    def conf_dir(self, name: str) -> Path:
        return self.root / "conf" / name

    def log_dir(self, name: str) -> Path:
        return self.settings.data_dir / "logs" / "flink-cluster" / name

    def running(self) -> bool:
        return self.process("jobmanager").pid() is not None

    def config(self, name: str) -> dict[str, Any]:
        """The flat configuration of one process: the wheel's defaults (JVM
        flags Flink needs on Java 17), then ours."""
        s = self.settings
        defaults = yaml.safe_load((flink_home() / "conf" / "config.yaml").read_text()) or {}
        conf = flatten(defaults)
        rocksdb = Path(tempfile.gettempdir()) / "cv-rocksdb"
        conf.update(
            {
                "jobmanager.rpc.address": HOST,
                "jobmanager.rpc.port": s.flink_rpc_port,
                "jobmanager.bind-host": HOST,
                "jobmanager.memory.process.size": "1024m",
                "rest.address": HOST,
                "rest.bind-address": HOST,
                "rest.port": s.flink_rest_port,
                "taskmanager.host": HOST,
                "taskmanager.bind-host": HOST,
                "taskmanager.numberOfTaskSlots": s.flink_slots_per_taskmanager,
                "taskmanager.memory.process.size": s.flink_taskmanager_memory,
                # RocksDB's memory per TaskManager, as the local job has it.
                "taskmanager.memory.managed.size": s.job_managed_memory,
                "parallelism.default": s.flink_parallelism,
                "io.tmp.dirs": str(self.root / "tmp" / name),
                # The mini-cluster job's state backend (flink_jobs/pipeline.py).
                "state.backend.type": "rocksdb",
                "execution.checkpointing.incremental": "true",
                "state.backend.rocksdb.localdir": str(rocksdb),
                "state.backend.rocksdb.log.dir": str(rocksdb / "log"),
                "state.backend.rocksdb.log.level": "HEADER_LEVEL",
                "execution.checkpointing.dir": (self.checkpoint_root / "aligned").as_uri(),
                "execution.checkpointing.savepoint-dir": self.savepoint_dir.as_uri(),
                # A busy 2-core machine: deploying ~160 tasks at parallelism 4
                # took a TaskManager longer than the 10 s RPC default, and the
                # failover that followed brought the TaskManager down.
                "pekko.ask.timeout": "60 s",
                "heartbeat.timeout": "120 s",
                # Python workers (baselines only) run in this environment.
                "python.executable": sys.executable,
                "python.client.executable": sys.executable,
            }
        )
        index = 0
        if name.startswith("taskmanager-"):
            index = int(name.rsplit("-", 1)[1])
            conf["taskmanager.resource-id"] = name
            conf["taskmanager.rpc.port"] = s.flink_rpc_port + index
        # Flink's Prometheus reporter, from the wheel's plugins/metrics-prometheus.
        conf["metrics.reporter.prom.factory.class"] = PROMETHEUS_FACTORY
        conf["metrics.reporter.prom.port"] = str(s.flink_prometheus_port + index)
        return conf

    def metrics_url(self, name: str) -> str:
        port = self.config(name)["metrics.reporter.prom.port"]
        return f"http://{HOST}:{port}/metrics"

    def _configure(self, name: str) -> Path:
        conf_dir = self.conf_dir(name)
        conf_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "tmp" / name).mkdir(parents=True, exist_ok=True)
        (Path(tempfile.gettempdir()) / "cv-rocksdb" / "log").mkdir(parents=True, exist_ok=True)
        for extra in ("log4j-console.properties", "log4j-cli.properties", "log4j.properties"):
            shutil.copyfile(flink_home() / "conf" / extra, conf_dir / extra)
        text = yaml.safe_dump(self.config(name), default_flow_style=False, sort_keys=True)
        (conf_dir / "config.yaml").write_text(text)
        return conf_dir

    def env(self, name: str) -> dict[str, str]:
        import os

        log_dir = self.log_dir(name)
        log_dir.mkdir(parents=True, exist_ok=True)
        run_dir = self.root / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "FLINK_CONF_DIR": str(self.conf_dir(name)),
            "FLINK_LOG_DIR": str(log_dir),
            # flink-console.sh keeps its own pid list there (default /tmp).
            "FLINK_PID_DIR": str(run_dir),
            "FLINK_IDENT_STRING": name,
        }

    def _start_process(self, name: str) -> None:
        self._configure(name)
        script = "jobmanager.sh" if name == "jobmanager" else "taskmanager.sh"
        self.process(name).start(
            ["bash", str(flink_home() / "bin" / script), "start-foreground"],
            env=self.env(name),
            cwd=self.root,
        )

    def start(self, timeout_s: float = 180) -> float:
        """Start what is not running and wait until every TaskManager has
        registered; returns the seconds it took."""
        started = time.monotonic()
        self.root.mkdir(parents=True, exist_ok=True)
        self.savepoint_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint_root.mkdir(parents=True, exist_ok=True)
        from catalog_view.stack.java import port_open

        if not self.running() and port_open(self.settings.flink_rest_port):
            raise StackError(f"port {self.settings.flink_rest_port} is taken by another process")
        for name in self.names:
            self._start_process(name)
        self._wait_registered(timeout_s)
        return time.monotonic() - started

    def _wait_registered(self, timeout_s: float) -> None:
        wanted = self.settings.flink_taskmanagers

        def ready() -> bool:
            for name in self.names:
                if self.process(name).pid() is None:
                    raise StackError(
                        f"Flink {name} exited:\n{self.process(name).log_tail()}\n"
                        f"see {self.log_dir(name)}"
                    )
            try:
                overview = self.rest.overview()
            except FlinkRestError:
                return False
            # A TaskManager is counted before its slots are: a job submitted
            # in between can find too few (CI saw 2 slots of 4 reported).
            return int(overview.get("taskmanagers", 0)) >= wanted and int(
                overview.get("slots-total", 0)
            ) >= wanted * int(self.settings.flink_slots_per_taskmanager)

        try:
            wait_until(ready, timeout_s=timeout_s, what=f"{wanted} TaskManagers registered")
        except WaitTimeout as exc:
            raise StackError(f"{exc}; see {self.log_dir('jobmanager')}") from None

    def stop(self) -> bool:
        """Stop the TaskManagers, then the JobManager. True if any ran."""
        ran = [self.process(name).stop(timeout_s=30) for name in reversed(self.names)]
        return any(ran)

    def status(self) -> list[ComponentStatus]:
        rows = []
        overview: dict[str, Any] | None = None
        registered: set[str] = set()
        if self.running():
            try:
                overview = self.rest.overview()
                managers = self.rest._call("GET", "/taskmanagers").get("taskmanagers", [])
                registered = {str(m.get("id")) for m in managers}
            except FlinkRestError:
                overview = None
        version = str(overview.get("flink-version", "?")) if overview else "-"
        for name in self.names:
            pid = self.process(name).pid()
            if pid is None:
                rows.append(ComponentStatus(f"flink-{name}", "stopped", version))
                continue
            if name == "jobmanager":
                healthy = overview is not None
                detail = f"pid {pid}, {self.rest_url}"
                if overview is not None:
                    detail += (
                        f", {overview.get('taskmanagers')} TaskManagers, "
                        f"{overview.get('slots-available')}/{overview.get('slots-total')} "
                        f"slots free, {overview.get('jobs-running')} job(s) running"
                    )
            else:
                healthy = name in registered
                detail = f"pid {pid}" + ("" if healthy else ", not registered")
            state = "healthy" if healthy else "unhealthy"
            rows.append(ComponentStatus(f"flink-{name}", state, version, detail))
        return rows
