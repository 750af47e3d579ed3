"""The options of a checker run, declared once: each field of VerifyOptions
carries its default and, when the command line offers it, its flag and help;
`catalog-view verify` is built from these fields (add_options) and read back
into them (options_from_args)."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog_view.checker.draws import Scale, WorkloadError
from catalog_view.checker.errors import VerifyError
from catalog_view.checker.restarts import parse_faults, parse_parallelisms
from catalog_view.cli_options import cli_field
from flink_jobs.options import BASELINES


@dataclass(frozen=True)
class VerifyOptions:
    transactions: int = cli_field(200, "source transactions")
    parallelism: int = cli_field(1, "Flink parallelism")
    # On the command line without --seed: a random seed (printed, to replay).
    seed: int = cli_field(1, "workload seed (default: random)", cli_default=None)
    # None: the transaction-aligned job; "python" or "sql": a pipeline without
    # alignment (flink_jobs.options BASELINES), expected to show violations.
    baseline: str | None = cli_field(
        None,
        "judge a pipeline without transaction alignment (expect violations): 'python' "
        "(alone: the default), the plain join written row by row, or 'sql', plain Flink SQL "
        "with JDBC sinks and no watermark (judged by comparing the store with every recorded "
        "state)",
        nargs="?",
        const="python",
        choices=BASELINES,
    )
    products: int = cli_field(30, "products seeded before the run")
    connections: int = cli_field(2, "concurrent workload connections")
    # The sizes of the big scenarios: --bulk-rows, --fan-out, --full-scale.
    scale: Scale = field(default_factory=Scale)
    sync_timeout_s: float = cli_field(
        600.0, "seconds for the job's initial sync", flag="--sync-timeout"
    )
    final_timeout_s: float = cli_field(300.0, "seconds for the final state", flag="--final-timeout")
    ensure_stack: bool = True
    stack_down: bool = cli_field(False, "stop the whole stack afterwards")
    # False: the job replays the capture into an emptied store (reproducible,
    # and the baseline shares the store); True: it restores from its newest
    # retained checkpoint, which also exercises restart and rescaling.
    restore: bool = cli_field(
        False, "start the job from its newest checkpoint (default: a fresh replay)"
    )
    sample_interval_s: float = 0.02
    # Kill the job (SIGKILL) at evenly spaced points of the workload and start
    # it again from its newest checkpoint at these parallelisms (rescaling).
    restart_parallelisms: tuple[int, ...] = cli_field(
        (),
        "kill the job (SIGKILL) at evenly spaced points of the workload and restart it "
        "from its newest checkpoint at these parallelisms; --parallelism 2 --restart-job 4,1 "
        "rescales 2 -> 4 -> 1",
        flag="--restart-job",
        metavar="P[,P...]",
        parse=parse_parallelisms,
    )
    # Kill the job, let the source move on, and start it again from its OLDEST
    # retained checkpoint (the store ahead of it) at these parallelisms.
    restore_older_parallelisms: tuple[int, ...] = cli_field(
        (),
        "kill the job, let the source move on, and start it again at these parallelisms "
        "from its OLDEST retained checkpoint while the store is ahead (docs/restore.md)",
        flag="--restore-older",
        metavar="P[,P...]",
        parse=parse_parallelisms,
    )
    # Stop the job with a savepoint, let the source move on, and resume from
    # that savepoint at these parallelisms (`catalog-view job rescale`'s way).
    savepoint_parallelisms: tuple[int, ...] = cli_field(
        (),
        "stop the job with a savepoint, let the source move on, and resume from the savepoint "
        "at these parallelisms",
        flag="--savepoint-rescale",
        metavar="P[,P...]",
        parse=parse_parallelisms,
    )
    # Other faults (checker.restarts.FAULTS), after the job restarts.
    faults: tuple[str, ...] = cli_field(
        (),
        "after the job restarts, inject these faults at evenly spaced points: job (SIGKILL "
        "and restore), connect and kafka (SIGKILL and start again), store (connections refused "
        "for 20 s), source (PostgreSQL restarted, every connection cut)",
        metavar="F[,F...]",
        parse=parse_faults,
    )
    # Where the job runs: "mini" (one local process) or "cluster" (the local
    # standalone session cluster, catalog_view/stack/cluster.py).
    flink: str = cli_field(
        "mini",
        "run the job on the local mini-cluster (default) or the standalone session cluster",
        choices=("mini", "cluster"),
    )
    # Scenarios started per second at most (None: as fast as they go).
    rate: float | None = cli_field(
        None,
        "start at most this many scenarios per second (stretches the workload around faults)",
        type=float,
    )

    def __post_init__(self) -> None:
        # baseline=True (what it was before there were two) means "python".
        if isinstance(self.baseline, bool):
            object.__setattr__(self, "baseline", "python" if self.baseline else None)

    def validate(self) -> None:
        for name in ("transactions", "parallelism", "connections"):
            if getattr(self, name) < 1:
                raise VerifyError(f"--{name} must be >= 1, got {getattr(self, name)}")
        if self.products < 0:
            raise VerifyError(f"--products must be >= 0, got {self.products}")
        if self.rate is not None and self.rate <= 0:
            raise VerifyError(f"--rate must be > 0, got {self.rate}")
        if self.baseline is not None and self.baseline not in BASELINES:
            raise VerifyError(
                f"--baseline must be one of {', '.join(BASELINES)}, got {self.baseline!r}"
            )
        if self.flink not in ("mini", "cluster"):
            raise VerifyError(f"--flink must be mini or cluster, got {self.flink!r}")
        if self.flink == "cluster" and (self.restart_parallelisms or self.faults):
            raise VerifyError("--restart-job and --fault run on the mini-cluster (--flink mini)")
        if min(self.sync_timeout_s, self.final_timeout_s) <= 0:
            raise VerifyError("timeouts must be > 0")
        try:
            self.scale.validate()
        except WorkloadError as exc:
            raise VerifyError(str(exc)) from exc
