"""The SQL baseline without services: how `--baseline [python|sql]` is taken
by the job, FlinkJob, verify and bench, and that the SQL files of
sql/baseline/ fit the rest (columns of sql/sources/, the capture's topics, the
store tables)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from catalog_view.bench.command import add_bench_command
from catalog_view.bench.command import options_from_args as options_from_bench_args
from catalog_view.bench.pipelines import BASELINES
from catalog_view.bench_report.figures import SQL_JDBC_BASELINE
from catalog_view.checker.command import add_verify_command, options_from_args
from catalog_view.checker.errors import VerifyError
from catalog_view.checker.options import VerifyOptions
from catalog_view.settings import REPO_ROOT, load_settings
from catalog_view.stack.job import FlinkJob, baseline_pipeline
from flink_jobs.options import STORE_PASSWORD_ENV, parse_options
from flink_jobs.sql_baseline import settings, sql_variables
from flink_jobs.sql_files import statements
from flink_jobs.topics import CaptureTopics

pytestmark = pytest.mark.unit

SQL = REPO_ROOT / "sql"
JOB_ARGS = ["--bootstrap-servers", "k:9092", "--topic-prefix", "shop", "--source-schema", "cat"]


@pytest.fixture
def job_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv(STORE_PASSWORD_ENV, "pw")
    return [*JOB_ARGS, "--checkpoint-dir", str(tmp_path)]


# -- --baseline on the job's command line ------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "baseline", "checkpoints"),
    [
        ([], None, "aligned"),
        (["--baseline"], "python", "baseline"),
        (["--baseline", "--fresh"], "python", "baseline"),
        (["--baseline", "python"], "python", "baseline"),
        (["--baseline", "sql"], "sql", "baseline-sql"),
    ],
)
def test_job_baseline_takes_a_pipeline_and_alone_means_python(
    job_args: list[str], tmp_path: Path, extra: list[str], baseline: str | None, checkpoints: str
) -> None:
    options = parse_options([*job_args, *extra])
    assert options.baseline == baseline
    assert options.checkpoint_dir == tmp_path / checkpoints


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--baseline", "spark"], "invalid choice: 'spark'"),
        (["--baseline", "sql", "--print-sink"], "--print-sink is not available"),
    ],
)
def test_job_refuses_an_unknown_baseline_and_print_sink_with_sql(
    job_args: list[str], extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_options([*job_args, *extra])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("baseline", "flag"),
    [(None, []), (False, []), (True, ["python"]), ("python", ["python"]), ("sql", ["sql"])],
)
def test_flink_job_passes_the_pipeline_on(
    tmp_path: Path, baseline: str | bool | None, flag: list[str]
) -> None:
    argv = FlinkJob(load_settings(data_dir=tmp_path)).argv(baseline=baseline)
    given = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--baseline"]
    assert given == flag
    assert baseline_pipeline(baseline) == (flag[0] if flag else None)


def test_flink_job_refuses_an_unknown_pipeline(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="baseline must be one of python, sql"):
        FlinkJob(load_settings(data_dir=tmp_path)).argv(baseline="spark")


# -- verify and bench --------------------------------------------------------------------


def _parse(add: object, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add(parser.add_subparsers(dest="command"))  # type: ignore[operator]
    return parser.parse_args(list(argv))


@pytest.mark.parametrize(
    ("extra", "baseline"),
    [([], None), (["--baseline"], "python"), (["--baseline", "sql"], "sql")],
)
def test_verify_baseline_option(extra: list[str], baseline: str | None) -> None:
    args = _parse(add_verify_command, "verify", *extra, "--transactions", "5")
    options = options_from_args(args, seed=1)
    options.validate()
    assert options.baseline == baseline and options.transactions == 5


def test_verify_refuses_an_unknown_pipeline_and_takes_true_for_python() -> None:
    with pytest.raises(VerifyError, match="--baseline must be one of python, sql"):
        VerifyOptions(baseline="spark").validate()
    assert VerifyOptions(baseline=True).baseline == "python"  # type: ignore[arg-type]
    assert VerifyOptions(baseline=False).baseline is None  # type: ignore[arg-type]


def test_bench_runs_the_sql_baseline_by_default_and_python_on_demand() -> None:
    known = tuple(BASELINES)
    assert options_from_bench_args(_parse(add_bench_command, "bench"), known).baselines == ("sql",)
    both = _parse(add_bench_command, "bench", "--baselines", "sql,python")
    assert options_from_bench_args(both, known).baselines == ("sql", "python")
    assert BASELINES["sql"].name == SQL_JDBC_BASELINE and not BASELINES["sql"].has_watermark


# -- the SQL files ------------------------------------------------------------------------

_TABLE = re.compile(r"CREATE TABLE `(\w+)` \((.*?)\n\) WITH \(([^)]*)\)", re.DOTALL)
_COLUMN = re.compile(r"^\s*`(\w+)`\s+([A-Z]+(?:\(\d+, \d+\))?)", re.MULTILINE)
_STORE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", re.DOTALL)
_STORE_COLUMN = re.compile(r"^    (\w+)\s+\w", re.MULTILINE)


def _tables(text: str) -> dict[str, tuple[list[tuple[str, str]], str]]:
    return {m[1]: (_COLUMN.findall(m[2]), m[3]) for m in _TABLE.finditer(text)}


def test_sources_have_the_columns_of_sql_sources_on_the_capture_topics() -> None:
    baseline = _tables((SQL / "baseline" / "sources.sql").read_text())
    topics = CaptureTopics("${topic_prefix}", "${source_schema}")
    names = sorted(p.stem for p in (SQL / "sources").glob("*.sql"))
    assert names
    for table in names:
        ((expected, _),) = _tables((SQL / "sources" / f"{table}.sql").read_text()).values()
        # Debezium's DATE is an int (days since the epoch): read as INT, and
        # turned into a DATE by the view of the same name.
        name = f"{table}_cdc" if table == "product_channel_listing" else table
        columns, options = baseline.pop(name)
        wanted = [(c, "INT" if t == "DATE" else t) for c, t in expected]
        assert columns == wanted, table
        assert f"'topic' = '{topics.table(table)}'" in options
        assert "'format' = 'debezium-json'" in options
    assert not baseline, f"tables that are no catalog table: {sorted(baseline)}"


def test_sinks_have_the_columns_of_the_store_tables_in_order() -> None:
    sinks = _tables((SQL / "baseline" / "sinks.sql").read_text())
    store = {
        m[1]: _STORE_COLUMN.findall(m[2])
        for m in _STORE_TABLE.finditer((SQL / "store" / "001_catalog_view.sql").read_text())
    }
    for view in ("product", "product_channel"):
        columns, options = sinks[f"{view}_store"]
        assert [c for c, _ in columns] == [c for c in store[view] if c != "PRIMARY"]
        assert f"'table-name' = '${{store_schema}}.{view}'" in options
        assert "stringtype=unspecified" in options


def test_every_file_renders_with_the_job_options(job_args: list[str]) -> None:
    options = parse_options([*job_args, "--baseline", "sql"])
    variables = sql_variables(options)
    rendered = {
        name: statements(SQL / "baseline" / name, variables)
        for name in ("settings.sql", "sources.sql", "sinks.sql", "insert.sql")
    }
    assert len(rendered["sources.sql"]) == len(options.tables) + 1  # + the DATE view
    assert all("'topic' = 'shop.cat." in s for s in rendered["sources.sql"][:-1])
    assert len(rendered["insert.sql"]) == 2
    assert ("table.exec.source.cdc-events-duplicate", "true") in settings(
        SQL / "baseline" / "settings.sql", variables
    )


def test_settings_take_only_set_statements(tmp_path: Path) -> None:
    path = tmp_path / "settings.sql"
    path.write_text("-- a comment\nSET 'a.b' = 'c';\nCREATE TABLE x (y INT);\n")
    with pytest.raises(ValueError, match="only SET 'key' = 'value' statements"):
        settings(path, {})
