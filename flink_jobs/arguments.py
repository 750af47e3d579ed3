"""The job's argument contract, written once.

Whoever starts the job renders its command-line arguments from this spec: the
local mini-cluster start (catalog_view/stack/job.py), the cluster submission
(catalog_view/stack/lifecycle.py) and docker-compose's job-submit service (its
command is checked against the spec by tests/test_compose.py). The job parses
them in flink_jobs/options.py; a unit test parses a rendered spec back, so the
parser and the spec cannot drift. Imports nothing from Flink.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class JobArguments:
    """Every argument a starter passes to `python -m flink_jobs`, in order.

    A field renders as `--field-name value`; a True bool as the bare flag;
    None and False are left out; `jars` as one `--jar URL` per jar."""

    bootstrap_servers: str
    topic_prefix: str
    source_schema: str
    store_host: str
    store_port: int
    store_db: str
    store_schema: str
    store_user: str
    parallelism: int
    bad_records: str
    managed_memory: str
    checkpoint_interval_ms: int
    # One of flink_jobs.options COMMIT_POINTS.
    commit_at: str
    checkpoint_dir: str
    sql_dir: str
    # One of flink_jobs.options BASELINES, or None for the aligned job.
    baseline: str | None = None
    fresh: bool = False
    # A savepoint or checkpoint to restore (else the newest retained checkpoint).
    restore_from: str | None = None
    # The mini-cluster's REST port (a cluster has its own).
    rest_port: int | None = None
    # Completed checkpoints kept: older ones are restore points too (docs/restore.md).
    retained_checkpoints: int | None = None
    # The local job's Prometheus reporter port range (a cluster has its own reporter).
    metrics_port: str | None = None
    jars: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        out: list[str] = []
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name == "jars":
                out += [arg for url in value for arg in ("--jar", url)]
            elif value is True:
                out.append(flag(spec.name))
            elif value is not None and value is not False:
                out += [flag(spec.name), str(value)]
        return out


def flag(name: str) -> str:
    """The command-line flag of a JobArguments field."""
    return "--" + name.replace("_", "-")


def flags() -> list[str]:
    """Every flag the spec can render (`--jar` for the jars)."""
    return ["--jar" if f.name == "jars" else flag(f.name) for f in fields(JobArguments)]
