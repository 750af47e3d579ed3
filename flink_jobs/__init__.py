"""The PyFlink job: Debezium topics in, denormalized catalog views out.

Runs on a Flink cluster (or the local mini-cluster); imports nothing that only
exists on an operator's machine (enforced by flink_jobs/ruff.toml)."""
