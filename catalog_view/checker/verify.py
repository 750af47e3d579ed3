"""The oracle checker, `catalog-view verify` (docs/design.md, "The oracle").

It drives a workload against the admin database and, for every committed
source transaction t, records Q(S(t)): each workload transaction takes a global
commit lock just before COMMIT, reads its txid and evaluates the reference
queries in that same transaction (its own writes plus every earlier commit;
nothing else that changes the catalog can commit in between: Debezium's
heartbeat transactions touch only cdc_heartbeat, and the watermark keeps
naming the last catalog transaction across them). Meanwhile a sampler reads the store's
watermark and both views in ONE REPEATABLE READ read-only transaction and
compares them with the recorded state of the transaction the watermark names
(C1), checks that the watermark never moves backwards (C2), waits for the
final state (C3) and measures commit-to-visible lag.

States are kept as digests (canonical JSON of the rows sorted by key), plus
per-row hashes of recent states so a violation can name the rows that differ.
It reuses the judge's pieces (sql/reference/*.sql, reference.VIEW_KEYS,
reference.diff) but hashes rows as they are fetched instead of building
reference.Rows: a sample must be cheap for the sampler to catch short-lived
states. The checker never writes to the store.

A run: stack up without the job (re-runnable) -> stop any running job ->
reset the catalog (DELETE, then a seeded catalog) -> start the job with the
requested parallelism (fresh replay unless --restore; --baseline [python|sql]
for a pipeline without alignment) -> commit a recorded setup transaction (the
fan-out tree) and wait until the watermark names it -> run the workload on
--connections connections while sampling (with --restart-job, killing and
restoring the job at evenly spaced points) -> commit a recorded end marker and
wait for the final state -> stop the job. The stack stays up (--stack-down
stops it too). Exit status: 0 only with no violation and final equality; 1
otherwise; 2 for an error.

--baseline sql (plain Flink SQL with a JDBC sink) writes no watermark, so it is
judged by reference comparison instead: the initial sync waits until the store
equals the setup transaction's recorded state; an observation is judged against
every recorded state: it must equal one (the earliest at or after the last one
it showed), else it is a violation ("no_source_state": the store shows a state
the source never had; "backwards": only a state older than one already shown).
Final equality: the store equals the last recorded state. A state recorded
right after its COMMIT cannot be seen in the store before it is recorded: the
capture takes far longer than the recording.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from catalog_view.catalog.seeded import seed_catalog
from catalog_view.catalog.writes import touch_marker
from catalog_view.checker.errors import VerifyError
from catalog_view.checker.judge import Judge, commit_to_visible
from catalog_view.checker.options import VerifyOptions
from catalog_view.checker.recording import Recorded, Recorder, Recording, admin_connection
from catalog_view.checker.report import PIPELINE_NAMES, VerifyReport
from catalog_view.checker.restarts import (
    FaultRunner,
    WorkloadGate,
    job_log,
    planned_faults,
    running_job,
)
from catalog_view.checker.sampler import Sampler, observe, read_watermark_txid, store_reader
from catalog_view.checker.scenarios import Plan, fan_out_tree, plan
from catalog_view.checker.workers import run_workload
from catalog_view.settings import Settings
from catalog_view.source import xid32
from catalog_view.stack.job import FlinkJob
from catalog_view.stack.lifecycle import ClusterJob
from catalog_view.stack.local import LocalStack
from catalog_view.waiting import WaitTimeout, wait_until

log = logging.getLogger(__name__)


def _progress(judge: Judge, total: int, every: int) -> Callable[[Recorded], None]:
    def report(entry: Recorded) -> None:
        if entry.index and entry.index % every == 0:
            log.info(
                "committed %d/%d, observations %d, violations %d",
                entry.index,
                total,
                judge.observations,
                judge.violations,
            )

    return report


def prepare(settings: Settings, options: VerifyOptions) -> Settings:
    """Stack up without the job, any job stopped, a freshly seeded catalog."""
    if options.ensure_stack:
        stack = LocalStack(settings)
        stack.up(with_job=False, flink=options.flink)
        settings = stack.settings
    if FlinkJob(settings).stop():
        log.info("stopped the running job")
    if options.flink == "cluster" and ClusterJob(settings).stop():
        log.info("cancelled the job on the cluster")
    report = seed_catalog(settings, options.products, options.seed, reset=True, progress=False)
    log.info("catalog reset and seeded: %d rows, %d products", report.total, options.products)
    return settings


def _wait_for_final(
    judge: Judge, sampler: Sampler, timeout_s: float, job_alive: Callable[[], bool]
) -> bool:
    """True once the sampler saw the last recorded state; False on timeout or
    when the job process is gone (it will not get there any more)."""

    def settled() -> bool:
        sampler.check()
        return judge.at_final() or not job_alive()

    try:
        wait_until(settled, timeout_s=timeout_s, what="final state", interval_s=0.05)
    except WaitTimeout:
        return False
    return judge.at_final()


def _initial_sync(
    settings: Settings, judge: Judge, timeout_s: float, job_alive: Callable[[], bool]
) -> None:
    """Wait until the watermark names the setup transaction (the only one
    recorded so far). Its rows are not awaited: from here on the sampler judges
    them, so a pipeline that never converges shows up as violations. Judging by
    state (no watermark), wait until the store equals the setup's state."""
    setup = judge.recording.last
    assert setup is not None
    seen: list[int | None] = [None]
    with store_reader(settings) as conn:

        def synced() -> bool:
            if not job_alive():
                raise VerifyError(
                    f"the Flink job exited during the initial sync: {job_log(settings)}"
                )
            if judge.by_state:
                return observe(conn, settings).state.digests == setup.digests
            seen[0] = read_watermark_txid(conn, settings)
            return seen[0] is not None and xid32(seen[0]) == xid32(setup.txid)

        try:
            wait_until(synced, timeout_s=timeout_s, what="initial sync", interval_s=0.2)
        except WaitTimeout as exc:
            never = (
                f"the store never equaled the state of the setup transaction {setup.txid} "
                f"({_final_difference(settings, judge.recording)})"
                if judge.by_state
                else f"the watermark never named the setup transaction {setup.txid} "
                f"(last seen: {seen[0]})"
            )
            raise VerifyError(
                f"{exc}: {never}; see {job_log(settings)} and "
                f"{settings.data_dir / 'logs' / 'flink'}"
            ) from None


def _final_difference(settings: Settings, recording: Recording) -> str:
    last = recording.last
    expected = None if last is None else recording.state(last.txid)
    if last is None or expected is None:
        return "nothing recorded"
    with store_reader(settings) as conn:
        observation = observe(conn, settings)
    return f"watermark txid {observation.txid}, expected {last.txid}: " + expected.difference(
        observation.state
    )


def run_verify(settings: Settings, options: VerifyOptions) -> VerifyReport:
    """Reset, start the job, sync, run the workload while sampling, judge."""
    options.validate()
    workload = plan(options.seed, options.transactions, options.scale)
    log.info(
        f"seed {options.seed} (replay: --seed {options.seed}), "
        f"{workload.transactions} transactions in {len(workload.scenarios)} scenarios, "
        f"parallelism {options.parallelism}, {PIPELINE_NAMES[options.baseline]}"
    )
    started = time.monotonic()
    settings = prepare(settings, options)
    recording = Recording()
    # The SQL baseline writes no watermark: judged by reference comparison.
    judge = Judge(recording, by_state=options.baseline == "sql")
    every = max(10, workload.transactions // 20)
    recorder = Recorder(settings, recording, _progress(judge, workload.transactions, every))
    try:
        with running_job(
            settings,
            parallelism=options.parallelism,
            baseline=options.baseline,
            restore=options.restore,
            flink=options.flink,
        ) as job:
            report = _verify_with_job(settings, options, workload, recorder, judge, job)
            if not job.alive():
                report.final_difference += f" (the Flink job exited: {job_log(settings)})"
            report.duration_s = time.monotonic() - started
            return report
    finally:
        if options.stack_down:
            LocalStack(settings).down()


def _verify_with_job(
    settings: Settings,
    options: VerifyOptions,
    workload: Plan,
    recorder: Recorder,
    judge: Judge,
    job: FlinkJob,
) -> VerifyReport:
    def job_alive() -> bool:
        return job.alive()

    started = time.monotonic()
    with admin_connection(settings) as conn:
        recorder.commit(conn, fan_out_tree(options.scale).steps[0])
    _initial_sync(settings, judge, options.sync_timeout_s, job_alive)
    log.info("initial sync after %.1fs; workload starts", time.monotonic() - started)
    sampler = Sampler(settings, judge, options.sample_interval_s)
    sampler.start()
    gate = WorkloadGate()
    restarter = FaultRunner(
        planned_faults(
            job,
            gate,
            restart_parallelisms=options.restart_parallelisms,
            faults=options.faults,
            baseline=options.baseline,
            restore_older_parallelisms=options.restore_older_parallelisms,
            savepoint_parallelisms=options.savepoint_parallelisms,
            committed=lambda: len(recorder.recording),
        ),
        len(recorder.recording) + workload.transactions,
        lambda: len(recorder.recording),
        log.info,
    )
    restarter.start()
    try:
        try:
            run_workload(
                settings, recorder, workload.scenarios, options.connections, gate, options.rate
            )
        except BaseException:
            restarter.cancel()
            raise
        injected = restarter.finish()
        with admin_connection(settings) as conn:
            recorder.commit(conn, lambda c: touch_marker(c, "end of workload"))
        log.info("workload done: %d commits; waiting for the final state", len(recorder.recording))
        final_equal = _wait_for_final(judge, sampler, options.final_timeout_s, job_alive)
    finally:
        sampler.stop()
    sampler.check()
    report = _report(settings, options, workload, judge, final_equal)
    described = [
        f"{r}; store past it after "
        + (f"{s:.1f}s" if (s := r.recovery_s(judge.seen)) is not None else "never")
        for r in injected
    ]
    report.job_restarts = [d for d, r in zip(described, injected, strict=True) if r.name == "job"]
    report.faults = [d for d, r in zip(described, injected, strict=True) if r.name != "job"]
    report.store_unavailable_samples = sampler.unavailable
    return report


def _report(
    settings: Settings,
    options: VerifyOptions,
    workload: Plan,
    judge: Judge,
    final_equal: bool,
) -> VerifyReport:
    recording = judge.recording
    # Commit #0 is the setup transaction: its lag includes the job's start.
    lag = commit_to_visible(recording.commit_times(), judge.seen, first=1)
    counts: dict[str, int] = {}
    for scenario in workload.scenarios:
        counts[scenario.name] = counts.get(scenario.name, 0) + 1
    return VerifyReport(
        observations=judge.observations,
        violations=judge.violations,
        final_equal=final_equal,
        lag_p50_ms=lag.p50_ms,
        lag_p99_ms=lag.p99_ms,
        lag_observed=lag.observed,
        # Without the setup and end-of-workload marker transactions.
        transactions=len(recording) - 2,
        seed=options.seed,
        parallelism=options.parallelism,
        baseline=options.baseline,
        connections=options.connections,
        duration_s=0.0,  # set by run_verify, which also counts the preparation
        scenarios=counts,
        violation_examples=[str(v) for v in judge.examples],
        final_difference="" if final_equal else _final_difference(settings, recording),
    )
