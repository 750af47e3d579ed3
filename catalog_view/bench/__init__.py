"""`catalog-view bench` (`make bench`): scenarios B1-B5 on the embedded stack,
the product beside baseline pipelines measured in the same run; the report is
written by catalog_view.bench_report.

Modules: `command` (arguments, scales), `runner` (the order of a run),
`pipelines` (the product and the baselines; a fresh catalog for each), one
module per scenario (`b1_freshness` ... `b5_resources`), and the helpers they
share (`source`: committing a source transaction; `kafka`: what Debezium has
captured; `sampling`: background samplers and peaks; `progress`). Scenario
modules do not import each other.
"""
