"""The report of `make bench`: the results of each scenario, the targets
evaluated against them, and the files of one run under bench/results/.

Pure: it computes and writes files and never touches the stack or a database;
the measuring half fills a BenchRun and calls write_report.

Scenarios (the product's figures beside the baselines measured in the same run):

- B1 freshness: steady source transaction rates; commit-to-visible latencies
  (p50, p95, p99) and the lag over time, per rate.
- B2 capture ceiling: one transaction of N rows, and a burst of single-row
  transactions; kafka_s (until Debezium has put all of it into Kafka), store_s
  (until the store's watermark names it), their ratio, the job's peak RSS.
- B3 backfill: the initial snapshot of an existing catalog against the same
  rows computed by the reference queries inside PostgreSQL.
- B4 fan-out: renaming a root category above N products; time until visible.
- B5 resources: peak RSS per process, checkpoint size, store rows written per
  source row changed.

A baseline measures B1 and B2 only; a figure it cannot give is None, and how a
figure was measured differently (a baseline without a watermark: store_s is
the time until the store equals the reference) is recorded in its notes.
"""
