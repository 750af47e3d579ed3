"""catalog-view: operator-side tooling (CLI, local stack, seed, checker).

Nothing here runs on a Flink cluster; the job lives in flink_jobs."""
